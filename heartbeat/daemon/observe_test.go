package daemon

import (
	"context"
	"errors"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"go.uber.org/zap"

	"github.com/hasuite/hasuite/heartbeat/api"
	"github.com/hasuite/hasuite/heartbeat/config"
	"github.com/hasuite/hasuite/heartbeat/control"
	"github.com/hasuite/hasuite/heartbeat/events"
	"github.com/hasuite/hasuite/heartbeat/mail"
	"github.com/hasuite/hasuite/heartbeat/node"
	"github.com/hasuite/hasuite/heartbeat/notify"
)

// A hactl events client that stops reading: the loop's observe never
// blocks, the stream ends with the "dropped" error once the client's
// queue overflowed, and what it did receive is in order.
func TestStreamEventsSlowClientDropped(t *testing.T) {
	d := &Daemon{obs: newObserver("node2"), step: time.Now()}
	stuck := make(chan struct{})
	var got []uint64
	send := func(f any) error {
		if len(got) == 0 {
			<-stuck // the client stops reading after the history
		}
		got = append(got, f.(events.Record).Seq)
		return nil
	}
	d.observe(node.Event{Kind: node.CommUp, Node: "node2"}) // history
	ended := make(chan error, 1)
	go func() {
		ended <- d.streamEvents(context.Background(), control.Request{Cmd: api.CmdEvents, Args: []string{"all"}}, send)
	}()
	// Wait until the subscriber exists.
	for d.obs.hub.Stats().Subscribers == 0 {
		time.Sleep(time.Millisecond)
	}
	start := time.Now()
	for range events.DefaultQueue + 50 {
		d.observe(node.Event{Kind: node.LinkUp, Node: "node1", Link: "eth0"})
	}
	if el := time.Since(start); el > time.Second {
		t.Fatalf("observe took %v with a stuck client", el)
	}
	close(stuck)
	select {
	case err := <-ended:
		if err == nil || !strings.Contains(err.Error(), "dropped") {
			t.Fatalf("stream ended with %v", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("stream of a dropped client did not end")
	}
	if len(got) != 1+events.DefaultQueue {
		t.Fatalf("client got %d events, want the history and a full queue (%d)", len(got), 1+events.DefaultQueue)
	}
	for i, s := range got {
		if s != uint64(i+1) {
			t.Fatalf("event %d has seq %d", i, s)
		}
	}
	if st := d.obs.hub.Stats(); st.Dropped != 1 || st.Subscribers != 0 {
		t.Fatalf("hub %+v", st)
	}
}

func TestStreamEventsArgs(t *testing.T) {
	d := &Daemon{obs: newObserver("node2")}
	for _, args := range [][]string{{"x"}, {"-1s"}, {"1m", "2m"}} {
		err := d.streamEvents(context.Background(), control.Request{Cmd: api.CmdEvents, Args: args}, func(any) error { return nil })
		if err == nil {
			t.Errorf("%q accepted", args)
		}
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := d.streamEvents(ctx, control.Request{Cmd: api.CmdEvents, Args: []string{"5m"}}, func(any) error { return nil }); err != nil {
		t.Errorf("cancelled stream: %v", err)
	}
}

// metrics_listen on an address in use: an error with the address under
// metrics_required on; under off the daemon goes on, and serves the
// metrics once the address is free.
func TestMetricsAddressInUseRetried(t *testing.T) {
	busy, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := busy.Addr().String()
	srv, err := control.Listen(t.TempDir(), func(context.Context, control.Request) control.Response { return control.Response{} })
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Close()
	newD := func(required bool) *Daemon {
		cfg := &config.Config{LocalNode: "node1", Metrics: config.Metrics{Listen: addr, Required: required}}
		return &Daemon{cfg: cfg, log: zap.NewNop(), obs: newObserver("node1")}
	}
	if _, err := newD(true).startObserver(srv); err == nil || !strings.Contains(err.Error(), "metrics_listen "+addr) ||
		!strings.Contains(err.Error(), "address already in use") {
		t.Fatalf("required: %v", err)
	}
	old := metricsRetry
	metricsRetry = 20 * time.Millisecond
	defer func() { metricsRetry = old }()
	d := newD(false)
	stop, err := d.startObserver(srv)
	if err != nil {
		t.Fatalf("not required: %v", err)
	}
	defer stop()
	_ = busy.Close()
	deadline := time.Now().Add(10 * time.Second)
	for {
		resp, err := http.Get("http://" + addr + "/metrics")
		if err == nil {
			_ = resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				break
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("metrics not served after the address was freed: %v", err)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// The notify hooks' queue and counters and the mailer's are on /metrics.
func TestNotifyAndMailMetrics(t *testing.T) {
	hooks := notify.NewHooks(nil, notify.Options{})
	defer hooks.Close(0)
	m, err := mail.New(mail.Config{Node: "node1", To: []string{"ops@example.com"}, Transport: failingTransport{}})
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close(0)
	d := &Daemon{obs: newObserver("node1"), notify: &notifiers{hooks: hooks, mail: m}}
	if err := d.notifyMetrics(); err != nil {
		t.Fatal(err)
	}
	mfs, err := d.Metrics().Gatherer().Gather()
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]bool{}
	for _, mf := range mfs {
		got[mf.GetName()] = true
	}
	for _, name := range []string{"hasuite_notify_queue_depth", "hasuite_notify_dropped_total", "hasuite_notify_runs_total",
		"hasuite_notify_failed_total", "hasuite_mail_sent_total", "hasuite_mail_failures_total", "hasuite_mail_dropped_total"} {
		if !got[name] {
			t.Errorf("%s not exported", name)
		}
	}
}

type failingTransport struct{}

func (failingTransport) Send(context.Context, string, mail.Message) error {
	return errors.New("no server in this test")
}
