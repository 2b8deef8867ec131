package daemon

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"go.uber.org/zap"

	"github.com/hasuite/hasuite/heartbeat/api"
	"github.com/hasuite/hasuite/heartbeat/control"
	"github.com/hasuite/hasuite/heartbeat/core"
	"github.com/hasuite/hasuite/heartbeat/events"
	"github.com/hasuite/hasuite/heartbeat/metrics"
	"github.com/hasuite/hasuite/heartbeat/node"
)

// metricsEvery is how often the loop publishes a metrics snapshot when no
// event forced one earlier (counters are at most this stale; ages are
// exact).
const metricsEvery = time.Second

// metricsRetry is how often an address that could not be bound is tried
// again under metrics_required off.
var metricsRetry = 30 * time.Second

// observer is the event stream and the metrics: what the loop tells the
// outside without waiting for it.
type observer struct {
	hub     *events.Hub
	metrics *metrics.Exporter
	// enabled: metrics_listen is set; only then are snapshots built.
	enabled bool
	dirty   bool
	next    time.Time

	mu      sync.Mutex
	srv     *metrics.Server
	stop    chan struct{}
	retried sync.WaitGroup
}

// Drop reasons as indexes into linkIO.drops (metrics.DropReasons order).
const (
	dropMalformed = iota
	dropBadAuth
	dropUnsigned
	dropOversized
	dropQueueFull
	dropReasons
)

// linkDrops counts a link's dropped packets by reason.
type linkDrops [dropReasons]atomic.Uint64

func newObserver(local string) *observer {
	return &observer{hub: events.NewHub(events.DefaultCapacity), metrics: metrics.New(local), stop: make(chan struct{})}
}

// observe hands one node event to the event stream and the metrics. Both
// return at once whatever their readers do.
func (d *Daemon) observe(e node.Event) {
	o := d.obs
	// A dropped message is an event per bad packet: counted, not streamed
	// (a flood would push everything else out of the ring).
	if e.Kind != node.Dropped && e.Kind != node.Unhandled {
		o.hub.Publish(events.FromNode(e, d.step))
	}
	o.metrics.Event(e, d.step)
	o.dirty = true
}

// publishMetrics publishes a snapshot after events, else every
// metricsEvery. Called by the loop after each flush.
func (d *Daemon) publishMetrics() {
	o := d.obs
	if !o.enabled || (!o.dirty && d.step.Before(o.next)) {
		return
	}
	o.dirty, o.next = false, d.step.Add(metricsEvery)
	cs := d.node.Snapshot(d.now())
	s := &metrics.Snapshot{Taken: d.step, CommUp: cs.CommUp, Core: cs.Counters}
	for _, n := range cs.Nodes {
		mn := metrics.Node{Name: n.Name, State: n.State, Local: n.Local, LastHeard: n.LastHeard, Counters: n.Counters}
		for _, l := range n.Links {
			mn.Links = append(mn.Links, metrics.NodeLink{Name: l.Name, Up: l.State == core.LinkUp.String(), LastHeard: l.LastHeard})
		}
		s.Nodes = append(s.Nodes, mn)
	}
	for _, g := range d.node.Groups() {
		s.Groups = append(s.Groups, metrics.Group{Key: g.Key, Preferred: g.Node, State: g.State, Failed: g.Failed})
	}
	for _, l := range d.links {
		ml := metrics.Link{Name: l.name, TxPackets: l.txPackets.Load(), TxErrors: l.txErrors.Load(),
			RxPackets: l.rxPackets.Load(), RxBad: l.rxBad.Load(), Dropped: map[string]uint64{}}
		for i, r := range metrics.DropReasons {
			ml.Dropped[r] = l.drops[i].Load()
		}
		s.Links = append(s.Links, ml)
	}
	o.metrics.Publish(s)
}

// Metrics is where other components register their metrics (notify and
// mail queues): Register, GaugeFunc, CounterFunc. It exists whether or
// not metrics_listen is set.
func (d *Daemon) Metrics() *metrics.Exporter { return d.obs.metrics }

// startObserver registers the event stream on the control socket and
// starts the metrics server (metrics_listen). An address that cannot be
// bound stops the start unless metrics_required is off; then it is
// retried every metricsRetry. The returned cleanup stops the server.
func (d *Daemon) startObserver(srv *control.Server) (func(), error) {
	o := d.obs
	srv.HandleStream(api.CmdEvents, d.streamEvents)
	hub := o.hub
	_ = o.metrics.GaugeFunc("event_subscribers", "Clients following the event stream (hactl events).",
		func() float64 { return float64(hub.Stats().Subscribers) })
	_ = o.metrics.CounterFunc("event_subscribers_dropped_total",
		"Event stream clients dropped because they did not read.", func() float64 { return float64(hub.Stats().Dropped) })
	addr := d.cfg.Metrics.Listen
	if addr == "" {
		return func() {}, nil
	}
	o.enabled = true
	cleanup := func() {
		close(o.stop)
		o.retried.Wait()
		o.mu.Lock()
		defer o.mu.Unlock()
		if o.srv != nil {
			_ = o.srv.Close()
		}
	}
	s, err := o.metrics.Listen(addr)
	if err == nil {
		o.srv = s
		d.log.Info("metrics served", zap.String("url", "http://"+addr+"/metrics"))
		return cleanup, nil
	}
	if d.cfg.Metrics.Required {
		return func() {}, fmt.Errorf("%w (metrics_required off would start without metrics and retry every %v)", err, metricsRetry)
	}
	d.log.Error("metrics not served: retrying every "+metricsRetry.String()+" (metrics_required off)", zap.Error(err))
	o.retried.Add(1)
	go func() {
		defer o.retried.Done()
		t := time.NewTicker(metricsRetry)
		defer t.Stop()
		for {
			select {
			case <-o.stop:
				return
			case <-t.C:
			}
			s, err := o.metrics.Listen(addr)
			if err != nil {
				continue
			}
			o.mu.Lock()
			o.srv = s
			o.mu.Unlock()
			d.log.Info("metrics served at last", zap.String("url", "http://"+addr+"/metrics"))
			return
		}
	}()
	return cleanup, nil
}

// streamEvents serves hactl events on a control connection's goroutine:
// the kept history asked for, then each event as it is published, until
// the client goes, the daemon stops, or the client is dropped for not
// reading (told so in the stream's last frame).
func (d *Daemon) streamEvents(ctx context.Context, req control.Request, send func(any) error) error {
	var since time.Duration
	switch {
	case len(req.Args) > 1:
		return fmt.Errorf("events: at most one argument (how far back: a duration or all)")
	case len(req.Args) == 1 && req.Args[0] == "all":
		since = -1
	case len(req.Args) == 1:
		v, err := time.ParseDuration(req.Args[0])
		if err != nil || v < 0 {
			return fmt.Errorf("events: since %q: want a duration such as 10m, or all", req.Args[0])
		}
		since = v
	}
	sub, backlog := d.obs.hub.Subscribe(since, time.Now(), events.DefaultQueue)
	defer sub.Cancel()
	for _, r := range backlog {
		if err := send(r); err != nil {
			return err
		}
	}
	for {
		select {
		case <-ctx.Done():
			return nil
		case r, ok := <-sub.C:
			if !ok {
				if sub.Dropped() {
					return fmt.Errorf("events: dropped: this client fell %d events behind; follow again (with --since) to catch up", events.DefaultQueue)
				}
				return nil
			}
			if err := send(r); err != nil {
				return err
			}
		}
	}
}
