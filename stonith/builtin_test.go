package stonith

import (
	"context"
	"errors"
	"reflect"
	"sync/atomic"
	"testing"
	"time"
)

func TestNull(t *testing.T) {
	d, err := New(Spec{Host: "*", Type: "null", Params: "Node1 node2"}, "node1", Options{})
	if err != nil {
		t.Fatal(err)
	}
	n := d.(*Null)
	ctx := context.Background()
	tests := []struct {
		node string
		want Result
	}{
		{"node2", OK}, {"NODE1", OK}, {"node3", BadHost}, {"", Inval}, {"-x", Inval},
	}
	for _, tt := range tests {
		if got := ResultOf(n.Reset(ctx, tt.node)); got != tt.want {
			t.Errorf("Reset(%q) = %v, want %v", tt.node, got, tt.want)
		}
	}
	if got := n.Resets(); !reflect.DeepEqual(got, []string{"node2", "node1"}) {
		t.Errorf("Resets = %q", got)
	}
	if hosts, err := n.Hosts(ctx); err != nil || !reflect.DeepEqual(hosts, []string{"node1", "node2"}) {
		t.Errorf("Hosts = %q, %v", hosts, err)
	}
	if err := n.Status(ctx); err != nil {
		t.Errorf("Status: %v", err)
	}
	cctx, cancel := context.WithCancel(ctx)
	cancel()
	if got := ResultOf(n.Reset(cctx, "node2")); got != Timeout {
		t.Errorf("Reset with ended context = %v, want Timeout", got)
	}
}

// waitPending waits (bounded) until node's reset waits for confirmation.
func waitPending(t *testing.T, m *Meatware, node string) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for {
		for _, p := range m.Pending() {
			if p == node {
				return
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("no pending reset of %s", node)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func TestMeatwareConfirm(t *testing.T) {
	d, err := New(Spec{Host: "*", Type: "meatware", Params: "node1 node2"}, "node1", Options{})
	if err != nil {
		t.Fatal(err)
	}
	m := d.(*Meatware)
	if err := m.Confirm("node2"); !errors.Is(err, ErrNotWaiting) {
		t.Errorf("Confirm without reset = %v, want ErrNotWaiting", err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	done := make(chan error, 2)
	go func() { done <- m.Reset(ctx, "node2") }()
	go func() { done <- m.Reset(ctx, "NODE2") }()
	waitPending(t, m, "node2")
	select {
	case err := <-done:
		t.Fatalf("Reset returned %v before confirmation", err)
	case <-time.After(50 * time.Millisecond):
	}
	if err := m.Confirm("Node2"); err != nil {
		t.Fatalf("Confirm: %v", err)
	}
	for range 2 {
		select {
		case err := <-done:
			if err != nil {
				t.Errorf("Reset = %v, want nil after confirmation", err)
			}
		case <-time.After(5 * time.Second):
			t.Fatal("Reset did not return after confirmation")
		}
	}
	if p := m.Pending(); len(p) != 0 {
		t.Errorf("Pending = %q after confirmation", p)
	}
	if err := m.Confirm("node2"); !errors.Is(err, ErrNotWaiting) {
		t.Errorf("second Confirm = %v, want ErrNotWaiting", err)
	}
}

func TestMeatwareContextEnds(t *testing.T) {
	m := NewMeatware([]string{"node2"}, nil)
	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	err := m.Reset(ctx, "node2")
	if ResultOf(err) != Timeout || !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("Reset = %v, want Timeout", err)
	}
	if p := m.Pending(); len(p) != 0 {
		t.Errorf("Pending = %q after the context ended", p)
	}
	if got := ResultOf(m.Reset(context.Background(), "node3")); got != BadHost {
		t.Errorf("Reset of unlisted node = %v, want BadHost", got)
	}
}

func TestMeatwareNeedsHosts(t *testing.T) {
	if _, err := New(Spec{Host: "*", Type: "meatware"}, "node1", Options{}); ResultOf(err) != BadConfig {
		t.Errorf("err = %v, want BadConfig", err)
	}
}

func TestSuicide(t *testing.T) {
	spec := Spec{Host: "*", Type: "suicide"}
	if _, err := New(spec, "node1", Options{}); ResultOf(err) != BadConfig {
		t.Fatalf("New without SelfFence = %v, want BadConfig", err)
	}
	var calls atomic.Int32
	standIn := func(ctx context.Context) error { calls.Add(1); return nil }
	d, err := New(spec, "Node1", Options{SelfFence: standIn})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	if err := d.Reset(ctx, "node2"); ResultOf(err) != BadHost {
		t.Errorf("Reset(peer) = %v, want BadHost", err)
	}
	if calls.Load() != 0 {
		t.Fatal("stand-in called for the peer")
	}
	if err := d.Reset(ctx, "NODE1"); err != nil {
		t.Errorf("Reset(local) = %v", err)
	}
	if calls.Load() != 1 {
		t.Errorf("stand-in called %d times, want 1", calls.Load())
	}
	if hosts, err := d.Hosts(ctx); err != nil || !reflect.DeepEqual(hosts, []string{"node1"}) {
		t.Errorf("Hosts = %q, %v", hosts, err)
	}
}

func TestSuicideFailures(t *testing.T) {
	tests := []struct {
		name string
		self func(context.Context) error
		want Result
	}{
		{"error", func(context.Context) error { return errors.New("stand-in failed") }, ResetFail},
		{"hangs until the timeout", func(ctx context.Context) error { <-ctx.Done(); return ctx.Err() }, Timeout},
		{"panics", func(context.Context) error { panic("boom") }, ResetFail},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, err := NewSuicide("node1", Options{SelfFence: tt.self, Timeout: 100 * time.Millisecond})
			if err != nil {
				t.Fatal(err)
			}
			if got := ResultOf(s.Reset(context.Background(), "node1")); got != tt.want {
				t.Errorf("Reset = %v, want %v", got, tt.want)
			}
		})
	}
}
