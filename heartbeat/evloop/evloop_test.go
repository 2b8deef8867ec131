package evloop

import (
	"slices"
	"sync"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// pipe returns a non-blocking pipe, closed at the end of the test.
func pipe(t *testing.T) (r, w int) {
	t.Helper()
	var p [2]int
	if err := unix.Pipe2(p[:], unix.O_NONBLOCK|unix.O_CLOEXEC); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = unix.Close(p[0]); _ = unix.Close(p[1]) })
	return p[0], p[1]
}

func newLoop(t *testing.T) *Loop {
	t.Helper()
	l, err := New()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = l.Close() })
	return l
}

func write(t *testing.T, fd int, s string) {
	t.Helper()
	if _, err := unix.Write(fd, []byte(s)); err != nil {
		t.Fatal(err)
	}
}

func readAll(fd int) string {
	buf := make([]byte, 64)
	n, _ := unix.Read(fd, buf)
	return string(buf[:max(n, 0)])
}

func TestWaitReportsReadableFds(t *testing.T) {
	l := newLoop(t)
	r1, w1 := pipe(t)
	r2, w2 := pipe(t)
	if err := l.Add(r1, 1); err != nil {
		t.Fatal(err)
	}
	if err := l.Add(r2, 2); err != nil {
		t.Fatal(err)
	}
	if err := l.Add(r2, -3); err == nil {
		t.Fatal("a negative tag was accepted")
	}

	write(t, w2, "b")
	ready, err := l.Wait(time.Now().Add(5 * time.Second))
	if err != nil || !slices.Equal(ready, []int{2}) {
		t.Fatalf("Wait = %v, %v; want [2]", ready, err)
	}
	// Left unread: level-triggered, reported again at once.
	ready, err = l.Wait(time.Now().Add(5 * time.Second))
	if err != nil || !slices.Equal(ready, []int{2}) {
		t.Fatalf("unread fd: Wait = %v, %v; want [2] again", ready, err)
	}
	readAll(r2)

	write(t, w1, "a")
	write(t, w2, "b")
	ready, err = l.Wait(time.Now().Add(5 * time.Second))
	slices.Sort(ready)
	if err != nil || !slices.Equal(ready, []int{1, 2}) {
		t.Fatalf("Wait = %v, %v; want [1 2]", ready, err)
	}
	readAll(r1)
	readAll(r2)

	if err := l.Remove(r1); err != nil {
		t.Fatal(err)
	}
	write(t, w1, "a")
	start := time.Now()
	ready, err = l.Wait(time.Now().Add(30 * time.Millisecond))
	if err != nil || len(ready) != 0 {
		t.Fatalf("removed fd: Wait = %v, %v; want nothing", ready, err)
	}
	if time.Since(start) < 30*time.Millisecond {
		t.Fatalf("Wait returned after %v, before its deadline", time.Since(start))
	}
}

// A datagram that arrives while the loop is busy (not parked) must still
// wake the next Wait: Wait parks without polling when nothing was left
// over, relying on the edge the arrival raised.
func TestArrivalWhileBusyWakesNextWait(t *testing.T) {
	l := newLoop(t)
	r, w := pipe(t)
	if err := l.Add(r, 0); err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 200; i++ {
		if _, err := l.Wait(time.Now().Add(time.Millisecond)); err != nil {
			t.Fatal(err)
		}
		write(t, w, "x") // "busy": between two Waits
		ready, err := l.Wait(time.Now().Add(5 * time.Second))
		if err != nil || !slices.Equal(ready, []int{0}) {
			t.Fatalf("round %d: Wait = %v, %v; want [0]", i, ready, err)
		}
		readAll(r)
	}
}

func TestDeadline(t *testing.T) {
	l := newLoop(t)
	for _, d := range []time.Duration{-time.Second, 0, 2 * time.Millisecond, 20 * time.Millisecond} {
		start := time.Now()
		ready, err := l.Wait(start.Add(d))
		took := time.Since(start)
		if err != nil || len(ready) != 0 {
			t.Fatalf("Wait(+%v) = %v, %v", d, ready, err)
		}
		if took < d {
			t.Errorf("Wait(+%v) returned after %v, before its deadline", d, took)
		}
		if took > d+2*time.Second {
			t.Errorf("Wait(+%v) took %v", d, took)
		}
	}
	// The same deadline twice: the second Wait must not hang on a timer
	// that already expired.
	at := time.Now().Add(5 * time.Millisecond)
	for i := 0; i < 3; i++ {
		done := make(chan struct{})
		go func() {
			defer close(done)
			_, _ = l.Wait(at)
		}()
		select {
		case <-done:
		case <-time.After(5 * time.Second):
			t.Fatalf("Wait #%d on a passed deadline hangs", i)
		}
	}
}

func TestPostWakesWaitAndRunsInOrder(t *testing.T) {
	l := newLoop(t)
	var got []int
	var mu sync.Mutex
	go func() {
		time.Sleep(20 * time.Millisecond)
		for i := 0; i < 3; i++ {
			l.Post(func() { mu.Lock(); got = append(got, i); mu.Unlock() })
		}
	}()
	deadline := time.Now().Add(5 * time.Second)
	for {
		if _, err := l.Wait(time.Time{}); err != nil {
			t.Fatal(err)
		}
		l.RunPosted()
		mu.Lock()
		n := len(got)
		mu.Unlock()
		if n == 3 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("posted work ran %d of 3 times", n)
		}
	}
	if !slices.Equal(got, []int{0, 1, 2}) {
		t.Fatalf("posted work ran as %v", got)
	}
	if l.Pending() {
		t.Fatal("work still pending after RunPosted")
	}
}

// Many goroutines posting while the loop runs: every piece of work runs
// exactly once and none is stranded without a wake-up.
func TestConcurrentPosts(t *testing.T) {
	l := newLoop(t)
	const posters, each = 8, 500
	var ran int
	var wg sync.WaitGroup
	for p := 0; p < posters; p++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < each; i++ {
				l.Post(func() { ran++ }) // runs on the loop goroutine only
			}
		}()
	}
	deadline := time.Now().Add(10 * time.Second)
	for ran < posters*each {
		if time.Now().After(deadline) {
			t.Fatalf("%d of %d posts ran", ran, posters*each)
		}
		if _, err := l.Wait(time.Now().Add(time.Second)); err != nil {
			t.Fatal(err)
		}
		l.RunPosted()
	}
	wg.Wait()
	if l.Pending() {
		t.Fatal("more work than was posted")
	}
}

func TestCloseDropsLaterPosts(t *testing.T) {
	l, err := New()
	if err != nil {
		t.Fatal(err)
	}
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	l.Post(func() { t.Error("posted work ran after Close") })
	if l.Pending() {
		t.Fatal("Post after Close queued work")
	}
}

// Work posted after Wait returned (a serial frame read while the loop
// reads its sockets) runs on the next RunPosted, before the loop judges
// its deadlines, not one Wait later; the wake-up it left does no harm.
func TestRunPostedTakesWorkPostedAfterTheWait(t *testing.T) {
	l := newLoop(t)
	r, w := pipe(t)
	if err := l.Add(r, 1); err != nil {
		t.Fatal(err)
	}
	write(t, w, "x")
	if ready, err := l.Wait(time.Now().Add(time.Second)); err != nil || !slices.Equal(ready, []int{1}) {
		t.Fatalf("Wait = %v, %v", ready, err)
	}
	l.RunPosted() // nothing posted yet
	readAll(r)
	ran := 0
	l.Post(func() { ran++ })
	l.RunPosted()
	if ran != 1 || l.Pending() {
		t.Fatalf("work posted after the Wait ran %d times before the next Wait (pending %v)", ran, l.Pending())
	}
	// The next Wait may return early for the spent wake-up, with nothing to run.
	if _, err := l.Wait(time.Now().Add(20 * time.Millisecond)); err != nil {
		t.Fatal(err)
	}
	l.RunPosted()
	if ran != 1 {
		t.Fatalf("work ran %d times", ran)
	}
}
