package control

import (
	"context"
	"encoding/json"
	"errors"
	"strconv"
	"testing"
	"time"
)

// counter streams n frames {"i":k}, then ends with an error if fail is set,
// or waits for the client to go.
func counter(n int, fail string, gone chan<- struct{}) StreamHandler {
	return func(ctx context.Context, req Request, send func(any) error) error {
		for i := range n {
			if err := send(map[string]int{"i": i}); err != nil {
				return err
			}
		}
		if fail != "" {
			return errors.New(fail)
		}
		<-ctx.Done()
		if gone != nil {
			close(gone)
		}
		return nil
	}
}

func TestStreamFramesInOrder(t *testing.T) {
	dir := t.TempDir()
	s := listen(t, dir, echo)
	s.HandleStream("events", counter(100, "dropped: too slow", nil))
	var got []int
	err := Stream(context.Background(), dir, Request{Cmd: "events"}, testTimeout, func(d json.RawMessage) error {
		var f struct{ I int }
		if err := json.Unmarshal(d, &f); err != nil {
			return err
		}
		got = append(got, f.I)
		return nil
	})
	if err == nil || err.Error() != `control "events": dropped: too slow` {
		t.Fatalf("stream ended with %v", err)
	}
	if len(got) != 100 {
		t.Fatalf("%d frames", len(got))
	}
	for i, v := range got {
		if v != i {
			t.Fatalf("frame %d is %d", i, v)
		}
	}
	// Ordinary requests still work on the same server.
	if r := call(t, dir, Request{Cmd: "status"}); !r.OK {
		t.Fatalf("status after stream: %+v", r)
	}
}

func TestStreamClientCloseEndsHandler(t *testing.T) {
	dir := t.TempDir()
	s := listen(t, dir, echo)
	gone := make(chan struct{})
	s.HandleStream("events", counter(3, "", gone))
	ctx, cancel := context.WithCancel(context.Background())
	n := 0
	err := Stream(ctx, dir, Request{Cmd: "events"}, testTimeout, func(json.RawMessage) error {
		n++
		if n == 3 {
			cancel()
		}
		return nil
	})
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("stream ended with %v, want context.Canceled", err)
	}
	select {
	case <-gone:
	case <-time.After(testTimeout):
		t.Fatal("handler not told that the client closed")
	}
}

func TestStreamServerCloseEndsStream(t *testing.T) {
	dir := t.TempDir()
	s := listen(t, dir, echo)
	s.HandleStream("events", counter(1, "", nil))
	got := make(chan error, 1)
	started := make(chan struct{})
	go func() {
		got <- Stream(context.Background(), dir, Request{Cmd: "events"}, testTimeout, func(json.RawMessage) error {
			close(started)
			return nil
		})
	}()
	<-started
	_ = s.Close()
	select {
	case err := <-got:
		if err != nil {
			t.Fatalf("stream after server close: %v", err)
		}
	case <-time.After(testTimeout):
		t.Fatal("stream did not end when the server closed")
	}
}

func TestStreamUnknownIsOrdinary(t *testing.T) {
	dir := t.TempDir()
	listen(t, dir, func(context.Context, Request) Response { return errorResponse("unknown command") })
	err := Stream(context.Background(), dir, Request{Cmd: "events"}, testTimeout, func(json.RawMessage) error { return nil })
	if err == nil || err.Error() != `control "events": unknown command` {
		t.Fatalf("got %v", err)
	}
	if err := Stream(context.Background(), t.TempDir(), Request{Cmd: "events"}, testTimeout, nil); !errors.Is(err, ErrNotRunning) {
		t.Fatalf("no daemon: %v", err)
	}
}

// A client that never reads: the handler's send fails within writeTimeout
// rather than hanging, and never blocks anything but its own goroutine.
func TestStreamClientNotReading(t *testing.T) {
	if testing.Short() {
		t.Skip("waits for the write timeout")
	}
	dir := t.TempDir()
	s := listen(t, dir, echo)
	sent := make(chan int, 1)
	s.HandleStream("events", func(ctx context.Context, _ Request, send func(any) error) error {
		big := make([]byte, 64<<10)
		for i := 0; ; i++ {
			if err := send(map[string]string{"pad": string(big), "i": strconv.Itoa(i)}); err != nil {
				sent <- i
				return err
			}
		}
	})
	c, _ := dialRaw(t, dir)
	if _, err := c.Write([]byte(`{"cmd":"events"}` + "\n")); err != nil {
		t.Fatal(err)
	}
	select {
	case n := <-sent:
		t.Logf("send failed after %d frames", n)
	case <-time.After(writeTimeout + testTimeout):
		t.Fatal("send to a client that does not read never failed")
	}
}
