package e2elinks

import (
	"bytes"
	"math/rand/v2"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/hasuite/hasuite/internal/ptycable"
	"github.com/hasuite/hasuite/internal/testbed"
	"github.com/hasuite/hasuite/test/internal/e2ekit"
)

// noiseFor is how long the line noise lasts.
const noiseFor = 3 * time.Second

// TestSerialFaults drives line faults through the cable between two of our
// daemons (joined by UDP too, so the cluster itself must not notice):
//
//   - noise: for a while the cable flips bits, inserts and injects junk
//     (binary garbage, stray frame markers, a huge unterminated frame);
//     neither daemon may crash or declare its peer dead, the bad frames
//     must be counted (hactl links[].rx_bad, dropped.*), and the serial
//     link must be up again once the line is clean;
//   - unplug: node1's tty disappears (its symlink removed, the pty pair
//     closed) and later a new pty pair appears under the same symlink;
//     the serial link goes dead on both sides, node1's daemon keeps
//     running, and the link comes back up by itself.
func TestSerialFaults(t *testing.T) {
	t.Parallel()
	_, _, n1, n2, c := pairWithCable(t)
	tty1, tty2 := c.Path(0), c.Path(1)
	off1, off2 := len(n1.Log()), len(n2.Log())
	serialUp := []probe{
		{n1, "up", []string{"hblinkstatus", "node2", tty1}},
		{n2, "up", []string{"hblinkstatus", "node1", tty2}},
	}
	serialDead := []probe{
		{n1, "dead", []string{"hblinkstatus", "node2", tty1}},
		{n2, "dead", []string{"hblinkstatus", "node1", tty2}},
	}
	// recoverBound: the daemon reopens a vanished tty every second; the
	// first frames after a fault may be cut; generous for a loaded machine.
	const recoverBound = 5 * time.Second

	t.Run("noise", func(t *testing.T) {
		bad1 := n1.localLink(tty1).RxBad
		bad2 := n2.localLink(tty2).RxBad
		rng := rand.New(rand.NewPCG(1, 2))
		var mu sync.Mutex // rng is shared by both pumps
		var flipped, inserted int
		c.SetFilter(ptycable.Both, func(_ int, p []byte) []byte {
			mu.Lock()
			defer mu.Unlock()
			for i := range p {
				if rng.IntN(150) == 0 { // about one bit in 1200
					p[i] ^= 1 << rng.IntN(8)
					flipped++
				}
			}
			if rng.IntN(4) == 0 {
				at := rng.IntN(len(p) + 1)
				junk := make([]byte, 1+rng.IntN(64))
				for i := range junk {
					junk[i] = byte(rng.IntN(256))
				}
				inserted += len(junk)
				p = append(p[:at:at], append(junk, p[at:]...)...)
			}
			return p
		})
		start := time.Now()
		// Extra noise straight into both receivers: stray markers, NULs,
		// a frame that never ends (bounded by the framer), CR/LF soup.
		junks := [][]byte{
			[]byte(">>>\n>>>\n<<<\n<<<\n"),
			bytes.Repeat([]byte{0}, 512),
			append([]byte(">>>\nt=status\n"), bytes.Repeat([]byte("x"), 200<<10)...),
			[]byte("\r\n\r\n>>>\r\nt=status\r\nauth=1 00\r\n<<<\r\n"),
			[]byte(">>>\nt=status\nsrc=node2\nauth=1 0123456789abcdef\n<<<\n"),
		}
		for i := 0; time.Since(start) < noiseFor; i++ {
			_ = c.Inject(i%2, junks[i%len(junks)]) // lost if the line is stuck, as on a wire
			n1.mustRun("noise")
			n2.mustRun("noise")
			time.Sleep(50 * time.Millisecond)
		}
		c.SetFilter(ptycable.Both, nil)
		t.Logf("noise for %v: %d bits flipped, %d junk bytes inserted by the cable, plus injected junk",
			time.Since(start).Round(time.Millisecond), flipped, inserted)

		took := measure(t, time.Now(), recoverBound, serialUp...)
		t.Logf("clean line: serial up on node1 after %v, on node2 after %v", took[0].Round(time.Millisecond), took[1].Round(time.Millisecond))
		// And it stays up: the framer is in step again.
		hold(t, 3*deadtime, serialUp...)
		for _, x := range []struct {
			n   *ourNode
			tty string
			bad uint64
			off int
		}{{n1, tty1, bad1, off1}, {n2, tty2, bad2, off2}} {
			x.n.mustRun("after the noise")
			st := x.n.Status()
			var rxBad uint64
			for _, l := range st.Links {
				if l.Name == x.tty {
					rxBad = l.RxBad - x.bad
				}
			}
			t.Logf("%s: serial rx_bad +%d, dropped %+v, core counters %+v", x.n.Name, rxBad, st.Dropped, st.Core.Counters)
			if rxBad == 0 {
				t.Errorf("%s: the noise left rx_bad of %s at 0: bad frames are not counted", x.n.Name, x.tty)
			}
			if d := testbed.CountLines(e2ekit.LogSince(x.n.Log(), x.off), " is dead"); d != 0 {
				t.Errorf("%s: %d peer deaths during serial noise with UDP healthy:\n%s", x.n.Name, d, grep(e2ekit.LogSince(x.n.Log(), x.off), " is dead"))
			}
		}
	})
	if t.Failed() {
		t.FailNow()
	}

	t.Run("unplug", func(t *testing.T) {
		o1, o2 := len(n1.Log()), len(n2.Log())
		old := c.Device(0)
		start := time.Now()
		c.Unplug(0)
		took := measure(t, start, 10*detectBound, serialDead...)
		t.Logf("tty %s (%s) gone: serial dead on node1 after %v, on node2 after %v",
			tty1, old, took[0].Round(time.Millisecond), took[1].Round(time.Millisecond))
		// Gone for a while: the daemon keeps running and retrying.
		hold(t, 3*time.Second,
			probe{n1, "active", []string{"nodestatus", "node2"}},
			probe{n2, "active", []string{"nodestatus", "node1"}},
			probe{n1, "dead", []string{"hblinkstatus", "node2", tty1}})
		n1.mustRun("tty gone")
		n1.waitLog(o1, "link "+tty1+" to node2 dead, 1 of 2 paths up", 5*time.Second)
		n2.waitLog(o2, "link "+tty2+" to node1 dead, 1 of 2 paths up", 5*time.Second)

		start = time.Now()
		c.Plug(0)
		took = measure(t, start, recoverBound, serialUp...)
		t.Logf("new tty %s behind %s: serial up on node1 after %v, on node2 after %v",
			c.Device(0), tty1, took[0].Round(time.Millisecond), took[1].Round(time.Millisecond))
		hold(t, 3*deadtime, serialUp...)
		n1.waitLinks("node2", map[string]string{"eth0": "up", tty1: "up"}, time.Second)
		n2.waitLinks("node1", map[string]string{"eth0": "up", tty2: "up"}, time.Second)
		if d := testbed.CountLines(e2ekit.LogSince(n1.Log(), o1), " is dead") + testbed.CountLines(e2ekit.LogSince(n2.Log(), o2), " is dead"); d != 0 {
			t.Errorf("%d peer deaths while a tty was unplugged with UDP healthy", d)
		}
		if l := n1.localLink(tty1); l.LastError != "" {
			t.Logf("node1: %s last error: %s", tty1, l.LastError)
		}
		if strings.Contains(n1.Log(), "panic") {
			t.Errorf("node1 logged a panic:\n%s", testbed.Tail(n1.Log(), 40))
		}
	})
	n1.mustRun("end")
	n2.mustRun("end")
}
