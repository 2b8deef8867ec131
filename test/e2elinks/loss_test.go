package e2elinks

import (
	"fmt"
	"os"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/hasuite/hasuite/internal/testbed"
	"github.com/hasuite/hasuite/test/internal/e2ekit"
)

// lossSoakEnv sets the length of the lossy-network soak (a Go duration).
const (
	lossSoakEnv     = "HB_LOSS_SOAK"
	defaultLossSoak = 60 * time.Second
)

// TestLossyUDPWithSerial drops 30% of the UDP packets in both directions
// (Netem loss 30% on both nodes' eth0) while the serial link is healthy,
// with keepalive 100ms and deadtime 500ms, for HB_LOSS_SOAK (default 60s):
// neither node may ever declare the other dead. It reports the "late
// heartbeat" lines, the flaps of the UDP link and the loss actually seen.
func TestLossyUDPWithSerial(t *testing.T) {
	t.Parallel()
	soak := defaultLossSoak
	if v := os.Getenv(lossSoakEnv); v != "" {
		d, err := time.ParseDuration(v)
		if err != nil || d <= 0 {
			t.Fatalf("%s=%q: want a positive Go duration such as 5m", lossSoakEnv, v)
		}
		soak = d
	}
	h1, h2, n1, n2, c := pairWithCable(t)
	tx1, rx2 := n1.localLink("eth0").TxPackets, n2.localLink("eth0").RxPackets
	tx2, rx1 := n2.localLink("eth0").TxPackets, n1.localLink("eth0").RxPackets
	off1, off2 := len(n1.Log()), len(n2.Log())
	h1.Netem("eth0", "loss", "30%")
	h2.Netem("eth0", "loss", "30%")

	// The verdict comes from the logs (every death is logged, also one
	// that heals between two polls); the polls see the daemons alive, and
	// end the soak early on a peer that stays lost.
	const lostFor = 5 * time.Second
	start := time.Now()
	polls := 0
	var cpu []cpuSample // the daemons' CPU use, to tell a stalled bed from a spinning daemon
	var notActive [2]time.Time
	for time.Since(start) < soak {
		cpu = append(cpu, cpuSample{at: time.Now(), ticks: [2]uint64{cpuTicks(n1.Proc.Pid()), cpuTicks(n2.Proc.Pid())}})
		for i, x := range []struct {
			n    *ourNode
			peer string
		}{{n1, "node2"}, {n2, "node1"}} {
			x.n.mustRun("soak")
			r := x.n.ClStatus("nodestatus", x.peer)
			switch {
			case strings.TrimSpace(r.Stdout) == "active":
				notActive[i] = time.Time{}
			case notActive[i].IsZero():
				notActive[i] = time.Now()
				t.Logf("%v into the soak, %s: nodestatus %s = %v", time.Since(start).Round(time.Millisecond), x.n.Name, x.peer, r)
			case time.Since(notActive[i]) > lostFor:
				t.Fatalf("%v into the soak, %s: nodestatus %s = %v for %v%s; log:\n%s", time.Since(start).Round(time.Millisecond),
					x.n.Name, x.peer, r, lostFor, stallNote(start), testbed.Tail(x.n.Log(), 40))
			}
		}
		polls++
		time.Sleep(100 * time.Millisecond)
	}
	soaked := time.Since(start)
	h1.ClearNetem("eth0")
	h2.ClearNetem("eth0")

	dtx1, drx2 := n1.localLink("eth0").TxPackets-tx1, n2.localLink("eth0").RxPackets-rx2
	dtx2, drx1 := n2.localLink("eth0").TxPackets-tx2, n1.localLink("eth0").RxPackets-rx1
	loss := func(tx, rx uint64) float64 {
		if tx == 0 {
			return 0
		}
		return 100 * (1 - float64(rx)/float64(tx))
	}
	l12, l21 := loss(dtx1, drx2), loss(dtx2, drx1)
	log1, log2 := e2ekit.LogSince(n1.Log(), off1), e2ekit.LogSince(n2.Log(), off2)
	t.Logf("soak %v (%d polls of both nodes): UDP loss seen node1->node2 %.1f%% (%d/%d), node2->node1 %.1f%% (%d/%d); serial carried %d and %d bytes",
		soaked.Round(time.Millisecond), polls, l12, drx2, dtx1, l21, drx1, dtx2, c.BytesCarried(0), c.BytesCarried(1))
	if len(cpu) > 1 {
		first, last := cpu[0], cpu[len(cpu)-1]
		t.Logf("CPU used by the daemons over the soak: node1 %v, node2 %v",
			time.Duration(last.ticks[0]-first.ticks[0])*clockTick, time.Duration(last.ticks[1]-first.ticks[1])*clockTick)
	}
	if g := c.Stalls(); len(g) > 0 {
		t.Logf("the serial cable was silent for more than %v %d times: %v", gapReport, len(g), g)
	}
	if s := stalls.between(start, time.Now()); len(s) > 0 {
		t.Logf("the test process itself (the cable's pumps) was not scheduled for more than %v %d times: %v", stallReport, len(s), s)
	}
	for _, x := range []struct {
		n    *ourNode
		peer string
		log  string
	}{{n1, "node2", log1}, {n2, "node1", log2}} {
		deaths := testbed.CountLines(x.log, " is dead")
		late := testbed.CountLines(x.log, "late heartbeat")
		flaps := testbed.CountLines(x.log, "link eth0 to "+x.peer+" dead")
		serialDead := testbed.CountLines(x.log, "link "+c.Path(0)+" to ") + testbed.CountLines(x.log, "link "+c.Path(1)+" to ")
		t.Logf("%s: %d \"is dead\", %d \"late heartbeat\", %d eth0 link deaths, %d serial link changes", x.n.Name, deaths, late, flaps, serialDead)
		var excused int
		for _, line := range strings.Split(grep(x.log, " is dead"), "\n") {
			if line == "" {
				continue
			}
			if why, ok := bedStalled(line, stalls.between(start, time.Now()), cpu); ok {
				excused++
				t.Logf("%s: NOT a false death, the test bed stalled (%s): %s", x.n.Name, why, line)
				continue
			}
			t.Errorf("%s: false death under 30%% UDP loss with a healthy serial link: %s", x.n.Name, line)
		}
		if serialDead != 0 && excused == 0 {
			t.Errorf("%s: the healthy serial link changed state %d times:\n%s", x.n.Name, serialDead, grep(x.log, "link /"))
		}
	}
	// The fault must really have been there.
	if l12 < 15 || l21 < 15 {
		t.Errorf("UDP loss seen %.1f%% and %.1f%%, want about 30%%: was the loss applied?", l12, l21)
	}
}

// grep returns the lines of log that contain s.
func grep(log, s string) string {
	var out []string
	for _, line := range strings.Split(log, "\n") {
		if strings.Contains(line, s) {
			out = append(out, line)
		}
	}
	return strings.Join(out, "\n")
}

// TestBedStalledAttribution checks the rule that tells a false death from
// a stalled test bed on the lines of a real failure: node1 declared node2
// dead while this process was not scheduled for 950 ms (the daemons idle).
func TestBedStalledAttribution(t *testing.T) {
	at := func(s string) time.Time {
		v, err := time.Parse(time.RFC3339Nano, "2026-11-22T"+s+"Z")
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
	line := "2026-11-22T06:45:47.641Z\tWARN\tnode node2 is dead\t" +
		`{"node": "node2", "from": "active", "to": "dead", "reason": "no heartbeat", "silence": "611ms"}`
	bed := []stall{{from: at("06:45:46.638"), to: at("06:45:47.588")}}
	idle := []cpuSample{{at: at("06:45:46.600"), ticks: [2]uint64{100, 100}}, {at: at("06:45:47.700"), ticks: [2]uint64{102, 103}}}
	busy := []cpuSample{{at: at("06:45:46.600"), ticks: [2]uint64{100, 100}}, {at: at("06:45:47.700"), ticks: [2]uint64{195, 103}}}
	if why, ok := bedStalled(line, bed, idle); !ok {
		t.Errorf("a death inside a 950 ms stall of the bed with idle daemons is not excused")
	} else {
		t.Log(why)
	}
	if _, ok := bedStalled(line, bed, busy); ok {
		t.Errorf("a death while a daemon spun is excused")
	}
	if _, ok := bedStalled(line, nil, idle); ok {
		t.Errorf("a death without a stall is excused")
	}
	short := []stall{{from: at("06:45:47.300"), to: at("06:45:47.588")}}
	if _, ok := bedStalled(line, short, idle); ok {
		t.Errorf("a death whose silence a stall covers only partly is excused")
	}
	if _, ok := bedStalled("garbage", bed, idle); ok {
		t.Errorf("an unparsable line is excused")
	}
}

// deathLine picks the time and the silence out of a daemon's "node X is
// dead" log line (zap console format: RFC 3339 time first, then fields as
// JSON, "silence": "611ms").
var deathLine = regexp.MustCompile(`^(\S+)\s.*"silence": "([^"]+)"`)

// bedStalled reports whether the silence that led to the death in line was
// (all but two keepalives of it) a stall of the test process: then the
// cable's pumps, and the kernel threads that carry the veth packets, were
// not running, and the death is the right answer to a silent peer.
func bedStalled(line string, bed []stall, cpu []cpuSample) (string, bool) {
	m := deathLine.FindStringSubmatch(line)
	if m == nil {
		return "", false
	}
	at, err := time.Parse(time.RFC3339Nano, m[1])
	if err != nil {
		return "", false
	}
	silence, err := time.ParseDuration(m[2])
	if err != nil {
		return "", false
	}
	from := at.Add(-silence)
	var list []stall
	for _, s := range bed {
		if s.to.After(from) && s.from.Before(at) {
			list = append(list, s)
		}
	}
	covered := overlap(list, from, at)
	if covered < silence-2*keepalive {
		return "", false
	}
	// Unless one of our daemons is what starved the machine: a daemon
	// spinning at its realtime priority would stall this process too.
	busy, ok := cpuBetween(cpu, from, at)
	if !ok {
		return "", false
	}
	for _, b := range busy {
		if b > silence/4 {
			return "", false
		}
	}
	return fmt.Sprintf("%v of the %v silence covered by %v; daemons used %v and %v of CPU around it",
		covered.Round(time.Millisecond), silence, list, busy[0], busy[1]), true
}

// cpuSample is the CPU time used so far by the two daemons, in clock ticks.
type cpuSample struct {
	at    time.Time
	ticks [2]uint64
}

// clockTick is the unit of /proc/PID/stat's utime and stime (USER_HZ).
const clockTick = 10 * time.Millisecond

// cpuTicks is utime+stime of pid (0 if it cannot be read).
func cpuTicks(pid int) uint64 {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0
	}
	s := string(b)
	i := strings.LastIndexByte(s, ')')
	if i < 0 {
		return 0
	}
	// After the command: state ppid pgrp session tty_nr tpgid flags minflt
	// cminflt majflt cmajflt utime stime ...
	f := strings.Fields(s[i+1:])
	if len(f) < 13 {
		return 0
	}
	u, err1 := strconv.ParseUint(f[11], 10, 64)
	st, err2 := strconv.ParseUint(f[12], 10, 64)
	if err1 != nil || err2 != nil {
		return 0
	}
	return u + st
}

// cpuBetween is the CPU time each daemon used between the last sample
// before from and the first sample after to.
func cpuBetween(samples []cpuSample, from, to time.Time) ([2]time.Duration, bool) {
	var a, b *cpuSample
	for i := range samples {
		if !samples[i].at.After(from) {
			a = &samples[i]
		}
		if b == nil && !samples[i].at.Before(to) {
			b = &samples[i]
		}
	}
	var out [2]time.Duration
	if a == nil || b == nil {
		return out, false
	}
	for i := range out {
		if b.ticks[i] < a.ticks[i] || a.ticks[i] == 0 {
			return out, false
		}
		out[i] = time.Duration(b.ticks[i]-a.ticks[i]) * clockTick
	}
	return out, true
}
