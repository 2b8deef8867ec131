package asyncwrite

import (
	"bytes"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"
)

// liveness bounds a wait for something that must happen: a hang fails the
// test instead of stalling it. Not a performance check.
const liveness = 10 * time.Second

// gate is a destination that blocks every write until it is opened.
type gate struct {
	mu      sync.Mutex
	buf     bytes.Buffer
	open    chan struct{}
	entered chan struct{} // one token per write that started
	syncs   int
}

func newGate() *gate {
	return &gate{open: make(chan struct{}), entered: make(chan struct{}, 1000)}
}

func (g *gate) Write(p []byte) (int, error) {
	g.entered <- struct{}{}
	<-g.open
	g.mu.Lock()
	defer g.mu.Unlock()
	return g.buf.Write(p)
}

func (g *gate) Sync() error {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.syncs++
	return nil
}

func (g *gate) lines() []string {
	g.mu.Lock()
	defer g.mu.Unlock()
	s := strings.TrimSuffix(g.buf.String(), "\n")
	if s == "" {
		return nil
	}
	return strings.Split(s, "\n")
}

// mustReturn runs f and fails the test if it has not returned within liveness.
func mustReturn(t *testing.T, what string, f func()) {
	t.Helper()
	done := make(chan struct{})
	go func() { f(); close(done) }()
	select {
	case <-done:
	case <-time.After(liveness):
		t.Fatalf("%s blocked", what)
	}
}

func TestLinesArriveInOrderAndAreCopied(t *testing.T) {
	g := newGate()
	close(g.open)
	w := New(g, Options{})
	buf := make([]byte, 0, 16)
	for i := range 200 {
		buf = fmt.Appendf(buf[:0], "line %d\n", i)
		if n, err := w.Write(buf); n != len(buf) || err != nil {
			t.Fatalf("Write = %d, %v", n, err)
		}
		buf[0] = 'X' // the caller reuses its buffer, as zap does
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	got := g.lines()
	if len(got) != 200 {
		t.Fatalf("%d lines written, want 200", len(got))
	}
	for i, l := range got {
		if want := fmt.Sprintf("line %d", i); l != want {
			t.Fatalf("line %d = %q, want %q", i, l, want)
		}
	}
}

func TestWriteDoesNotWaitForABlockedDestination(t *testing.T) {
	g := newGate()
	w := New(g, Options{})
	mustReturn(t, "Write while the destination blocks", func() {
		for i := range 100 {
			fmt.Fprintf(w, "line %d\n", i)
		}
	})
	<-g.entered // the goroutine is stuck in the destination
	close(g.open)
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	if got := len(g.lines()); got != 100 {
		t.Fatalf("%d lines written, want 100 (nothing was over the limit)", got)
	}
}

func TestAFullQueueDropsAndReportsOnceTheDestinationRecovers(t *testing.T) {
	tests := []struct {
		name   string
		lines  int
		limit  int
		notice func(w *Writer, n int)
		// wantNotice: the notice reaches the destination
		wantNotice bool
	}{
		{name: "notice logged through the writer", lines: 50, limit: 100,
			notice: func(w *Writer, n int) { fmt.Fprintf(w, "dropped %d\n", n) }, wantNotice: true},
		{name: "notice itself too long is not retried", lines: 50, limit: 100,
			notice: func(w *Writer, n int) { w.Write(bytes.Repeat([]byte("x"), 200)) }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			g := newGate()
			var mu sync.Mutex
			var reports []int
			var w *Writer
			w = New(g, Options{Limit: tt.limit, OnDrop: func(n int) {
				mu.Lock()
				reports = append(reports, n)
				mu.Unlock()
				tt.notice(w, n)
			}})
			mustReturn(t, "Write with a full queue", func() {
				for i := range tt.lines {
					fmt.Fprintf(w, "line %02d\n", i) // 8 bytes
				}
			})
			dropped := w.Dropped()
			if dropped == 0 {
				t.Fatalf("no line dropped: %d lines of 8 bytes fit a %d-byte queue?", tt.lines, tt.limit)
			}
			close(g.open)
			if err := w.Sync(); err != nil {
				t.Fatal(err)
			}
			mu.Lock()
			got := append([]int(nil), reports...)
			mu.Unlock()
			if len(got) != 1 || got[0] != dropped {
				t.Fatalf("OnDrop calls %v, want one with %d", got, dropped)
			}
			lines := g.lines()
			written := 0
			for _, l := range lines {
				if strings.HasPrefix(l, "line ") {
					written++
				}
			}
			if written+dropped != tt.lines {
				t.Fatalf("%d written + %d dropped != %d lines", written, dropped, tt.lines)
			}
			last := lines[len(lines)-1]
			if hasNotice := last == fmt.Sprintf("dropped %d", dropped); hasNotice != tt.wantNotice {
				t.Fatalf("last line %q; want the notice: %v", last, tt.wantNotice)
			}
			if err := w.Close(); err != nil {
				t.Fatal(err)
			}
		})
	}
}

func TestSyncAndCloseGiveUpOnAStuckDestination(t *testing.T) {
	g := newGate()
	defer close(g.open) // let the goroutine go at the end
	w := New(g, Options{DrainTimeout: 20 * time.Millisecond})
	fmt.Fprintln(w, "stuck")
	<-g.entered
	var syncErr, closeErr error
	mustReturn(t, "Sync", func() { syncErr = w.Sync() })
	if !errors.Is(syncErr, ErrDrainTimeout) {
		t.Fatalf("Sync = %v, want ErrDrainTimeout", syncErr)
	}
	mustReturn(t, "Close", func() { closeErr = w.Close() })
	if !errors.Is(closeErr, ErrDrainTimeout) {
		t.Fatalf("Close = %v, want ErrDrainTimeout", closeErr)
	}
	if n, err := w.Write([]byte("after close\n")); n != 12 || err != nil {
		t.Fatalf("Write after Close = %d, %v; want the line dropped quietly", n, err)
	}
	g.mu.Lock()
	syncs := g.syncs
	g.mu.Unlock()
	if syncs != 0 {
		t.Fatalf("destination synced %d times with lines still queued", syncs)
	}
}

func TestSyncSyncsTheDestinationOnceDrained(t *testing.T) {
	g := newGate()
	close(g.open)
	w := New(g, Options{})
	defer w.Close()
	fmt.Fprintln(w, "a")
	if err := w.Sync(); err != nil {
		t.Fatal(err)
	}
	if got := g.lines(); len(got) != 1 || got[0] != "a" {
		t.Fatalf("lines %q after Sync", got)
	}
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.syncs != 1 {
		t.Fatalf("destination synced %d times, want 1", g.syncs)
	}
}

// stuckSync takes every line but never finishes a sync, like a file on a
// disk that has stopped answering.
type stuckSync struct {
	bytes.Buffer
	release chan struct{}
}

func (s *stuckSync) Sync() error { <-s.release; return nil }

func TestSyncGivesUpOnADestinationThatCannotSync(t *testing.T) {
	dst := &stuckSync{release: make(chan struct{})}
	defer close(dst.release)
	w := New(dst, Options{DrainTimeout: 20 * time.Millisecond})
	fmt.Fprintln(w, "a")
	var err error
	mustReturn(t, "Sync", func() { err = w.Sync() })
	if !errors.Is(err, ErrDrainTimeout) {
		t.Fatalf("Sync = %v, want ErrDrainTimeout", err)
	}
	mustReturn(t, "Close", func() { err = w.Close() })
	if err != nil {
		t.Fatalf("Close = %v: the queue was empty", err)
	}
}
