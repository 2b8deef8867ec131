package ptycable

import (
	"bytes"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"
)

// openEnd opens end's path as the program under test would, raw.
func openEnd(t *testing.T, c *Cable, end int) *os.File {
	t.Helper()
	f, err := os.OpenFile(c.Path(end), os.O_RDWR, 0)
	if err != nil {
		t.Fatal(err)
	}
	if err := MakeRaw(int(f.Fd())); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { f.Close() })
	return f
}

// readN reads n bytes from f within a bound.
func readN(t *testing.T, f *os.File, n int) []byte {
	t.Helper()
	got := make([]byte, 0, n)
	buf := make([]byte, 256)
	deadline := time.Now().Add(10 * time.Second)
	for len(got) < n {
		if time.Now().After(deadline) {
			t.Fatalf("read %q, want %d bytes", got, n)
		}
		_ = f.SetReadDeadline(deadline)
		k, err := f.Read(buf)
		got = append(got, buf[:k]...)
		if err != nil {
			t.Fatalf("read %q: %v", got, err)
		}
	}
	return got
}

func write(t *testing.T, f *os.File, s string) {
	t.Helper()
	if _, err := f.Write([]byte(s)); err != nil {
		t.Fatal(err)
	}
}

// TestCarryFilterSplitCut sends through the cable both ways, with a filter
// that sees the offsets, a split, an injection and a cut.
func TestCarryFilterSplitCut(t *testing.T) {
	dir := t.TempDir()
	c := New(t, Options{Raw: true, Links: [2]string{filepath.Join(dir, "a"), filepath.Join(dir, "b")}})
	a, b := openEnd(t, c, 0), openEnd(t, c, 1)

	write(t, a, "hello")
	if got := readN(t, b, 5); string(got) != "hello" {
		t.Errorf("0->1 carried %q", got)
	}
	write(t, b, "back")
	if got := readN(t, a, 4); string(got) != "back" {
		t.Errorf("1->0 carried %q", got)
	}

	var mu sync.Mutex // the filter runs in the pump
	var offs []int
	c.SetFilter(0, func(off int, p []byte) []byte {
		mu.Lock()
		offs = append(offs, off)
		mu.Unlock()
		return bytes.ToUpper(p)
	})
	c.SetSplit(Both, func(p []byte) [][]byte {
		var out [][]byte
		for i := range p {
			out = append(out, p[i:i+1])
		}
		return out
	})
	write(t, a, "xyz")
	if got := readN(t, b, 3); string(got) != "XYZ" {
		t.Errorf("filtered %q, want XYZ", got)
	}
	mu.Lock()
	if len(offs) == 0 || offs[0] != 5 {
		t.Errorf("filter offsets %v, want the first at 5", offs)
	}
	mu.Unlock()
	c.SetFilter(Both, nil)
	c.SetSplit(Both, nil)

	if err := c.Inject(1, []byte("noise")); err != nil {
		t.Fatal(err)
	}
	if got := readN(t, b, 5); string(got) != "noise" {
		t.Errorf("injected %q", got)
	}

	c.SetCut(true)
	write(t, a, "lost")
	// Wait until the pump has read (and dropped) it.
	deadline := time.Now().Add(10 * time.Second)
	for read := 0; read < 5+3+4; {
		if time.Now().After(deadline) {
			t.Fatalf("the pump read %d bytes of end 0, want 12", read)
		}
		time.Sleep(time.Millisecond)
		c.mu.Lock()
		read = c.off[0]
		c.mu.Unlock()
	}
	c.SetCut(false)
	write(t, a, "kept")
	if got := readN(t, b, 4); string(got) != "kept" {
		t.Errorf("after the cut %q, want kept", got)
	}
	if n := c.BytesCarried(0); n != 5+3+4 {
		t.Errorf("BytesCarried(0) = %d, want 12", n)
	}
}

// TestUnplugPlug replaces an end's pty pair behind its link.
func TestUnplugPlug(t *testing.T) {
	dir := t.TempDir()
	link := filepath.Join(dir, "tty0")
	c := New(t, Options{Links: [2]string{link, ""}})
	old := c.Device(0)
	if target, err := os.Readlink(link); err != nil || target != old {
		t.Fatalf("link -> %q (%v), want %q", target, err, old)
	}
	if c.Path(1) != c.Device(1) || c.Slave(1) == nil {
		t.Errorf("end 1 without a link: Path %q, Device %q", c.Path(1), c.Device(1))
	}
	c.Unplug(0)
	if _, err := os.Lstat(link); !os.IsNotExist(err) {
		t.Errorf("link after Unplug: %v", err)
	}
	if c.Device(0) != "" || c.Slave(0) != nil || c.Path(0) != link {
		t.Errorf("unplugged: Device %q, Path %q", c.Device(0), c.Path(0))
	}
	if err := c.Inject(0, []byte("x")); err != nil {
		t.Errorf("Inject into an unplugged end: %v", err)
	}
	c.Plug(0)
	if target, _ := os.Readlink(link); target != c.Device(0) || target == "" {
		t.Errorf("link -> %q after Plug, device %q", target, c.Device(0))
	}
	a, b := openEnd(t, c, 0), openEnd(t, c, 1)
	write(t, b, "again")
	if got := readN(t, a, 5); string(got) != "again" {
		t.Errorf("after Plug carried %q", got)
	}
}
