// Package metrics exports the daemon's state and counters to Prometheus
// (metrics_listen). Nothing here ever waits for the daemon's loop: the
// loop publishes a Snapshot (an atomic pointer swap) and calls Event for
// each node event (lock-free counter and histogram updates); the HTTP
// server reads the latest snapshot when scraped.
//
// Other components add their own metrics with Register, GaugeFunc or
// CounterFunc (the notify and mail queues, for instance): their functions
// are called at scrape time on the HTTP server's goroutine and must not
// block either.
package metrics

import (
	"errors"
	"fmt"
	"net"
	"net/http"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/hasuite/hasuite/heartbeat/core"
	"github.com/hasuite/hasuite/heartbeat/node"
	"github.com/hasuite/hasuite/resources/manager"
)

// ProcessEvery is how often the standard process and Go metrics
// (process_*, go_*) are read; scrapes in between get the same values.
const ProcessEvery = 5 * time.Second

// Namespace prefixes every metric of ours.
const Namespace = "hasuite"

// Snapshot is the loop's view at Taken, published with Exporter.Publish.
// Counters are totals since the daemon started.
type Snapshot struct {
	Taken time.Time
	// Nodes come in configuration order, the local one included.
	Nodes  []Node
	CommUp bool
	Core   core.Counters
	Groups []Group
	Links  []Link
}

// Node is one node as the local one sees it.
type Node struct {
	Name  string
	State string // init, up, active, dead
	Local bool
	// LastHeard is the age at Taken of the last status; < 0 never heard.
	LastHeard time.Duration
	Links     []NodeLink
	Counters  core.PeerCounters
}

// NodeLink is one link as seen for one node.
type NodeLink struct {
	Name      string
	Up        bool
	LastHeard time.Duration // < 0: never heard
}

// Group is one resource group as this node sees it.
type Group struct {
	Key       string // the first resource as written (its identity on the wire)
	Preferred string // the node the haresources line names
	State     string // stopped, starting, running, stopping, stop-failed
	Failed    bool
}

// Link is one local medium's IO counters.
type Link struct {
	Name                string
	TxPackets, TxErrors uint64
	RxPackets, RxBad    uint64
	Dropped             map[string]uint64 // by reason
}

// Exporter holds the metrics. Event and Publish are called by the loop;
// everything else is safe from any goroutine.
type Exporter struct {
	local string
	reg   *prometheus.Registry
	snap  atomic.Pointer[Snapshot]

	events      *prometheus.CounterVec
	deaths      *prometheus.CounterVec
	detection   *prometheus.HistogramVec
	late        *prometheus.CounterVec
	restarts    *prometheus.CounterVec
	failovers   *prometheus.CounterVec
	failoverDur *prometheus.HistogramVec
	groupFails  *prometheus.CounterVec
	fences      *prometheus.CounterVec
	fenceDur    *prometheus.HistogramVec
	monitor     *prometheus.CounterVec

	// Failover timing, loop only: when the peer died (zero when it is
	// alive), and when each group's acquisition began and why.
	peerDeadAt time.Time
	acquiring  map[string]acquisition
}

type acquisition struct {
	since   time.Time
	trigger string
}

// Failover triggers (the label of the failover metrics).
const (
	// TriggerPeerDead: the group started here after the peer died; the
	// duration runs from the death to the group running here.
	TriggerPeerDead = "peer-dead"
	// TriggerOther: any other start here (at start-up, hb_takeover,
	// failback, the peer's standby); from "starting" to "running".
	TriggerOther = "other"
)

// New returns an exporter for the local node, with the standard process
// and Go runtime metrics registered.
func New(local string) *Exporter {
	x := &Exporter{local: local, reg: prometheus.NewRegistry(), acquiring: map[string]acquisition{}}
	counter := func(name, help string, labels ...string) *prometheus.CounterVec {
		return prometheus.NewCounterVec(prometheus.CounterOpts{Namespace: Namespace, Name: name, Help: help}, labels)
	}
	histogram := func(name, help string, buckets []float64, labels ...string) *prometheus.HistogramVec {
		return prometheus.NewHistogramVec(prometheus.HistogramOpts{Namespace: Namespace, Name: name, Help: help,
			Buckets: buckets}, labels)
	}
	// 10 ms to about 80 s: deadtime ranges from 50 ms to minutes.
	latency := prometheus.ExponentialBuckets(0.01, 2, 14)
	x.events = counter("events_total", "Node events, by name (hactl events).", "event")
	x.deaths = counter("node_deaths_total", "Peers declared dead, by reason (timeout, shutdown).", "node", "reason")
	x.detection = histogram("death_detection_seconds",
		"Detection latency: the silence from the last heartbeat heard to the declared death.", latency, "node")
	x.late = counter("late_heartbeats_total", "Late heartbeat warnings (silence beyond warntime, or a late status).", "node")
	x.restarts = counter("peer_restarts_total", "Peers seen back with a new generation (restarted).", "node")
	x.failovers = counter("failovers_total", "Groups that came to run here, by trigger (peer-dead, other).", "trigger")
	x.failoverDur = histogram("failover_duration_seconds",
		"From the peer's death (trigger peer-dead) or the group's start (other) to the group running here.", latency, "trigger")
	x.groupFails = counter("group_failures_total", "Failed group starts and stops here.", "group", "action")
	x.fences = counter("fence_attempts_total", "Fencing attempts, by outcome (started, ok, failed).", "node", "outcome")
	x.fenceDur = histogram("fence_duration_seconds", "How long fencing took, by outcome.",
		prometheus.ExponentialBuckets(0.1, 2, 12), "outcome")
	x.monitor = counter("resource_checks_total",
		"Resources found missing by the monitor while their group runs here, by result (restarted, failed).", "group", "result")
	x.reg.MustRegister(x.events, x.deaths, x.detection, x.late, x.restarts, x.failovers, x.failoverDur,
		x.groupFails, x.fences, x.fenceDur, x.monitor, snapshotCollector{x},
		&cachedCollector{c: collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}), ttl: ProcessEvery},
		&cachedCollector{c: collectors.NewGoCollector(), ttl: ProcessEvery})
	return x
}

// Register adds another component's collector to what /metrics serves.
// Its metric names should start with "hasuite_". No label may ever hold
// a secret (keys, passwords, plugin parameters).
func (x *Exporter) Register(c prometheus.Collector) error { return x.reg.Register(c) }

// GaugeFunc registers hasuite_<name> whose value f returns at scrape time
// (a queue's depth, for instance). f runs on the HTTP server's goroutine
// and must return at once (read an atomic, not a lock the loop holds).
func (x *Exporter) GaugeFunc(name, help string, f func() float64) error {
	return x.reg.Register(prometheus.NewGaugeFunc(prometheus.GaugeOpts{Namespace: Namespace, Name: name, Help: help}, f))
}

// CounterFunc is GaugeFunc for a total that only grows (drops, mails sent).
func (x *Exporter) CounterFunc(name, help string, f func() float64) error {
	return x.reg.Register(prometheus.NewCounterFunc(prometheus.CounterOpts{Namespace: Namespace, Name: name, Help: help}, f))
}

// Gatherer is what the exporter serves, for tests.
func (x *Exporter) Gatherer() prometheus.Gatherer { return x.reg }

// Publish makes s the snapshot scrapes see. The loop must not change s
// afterwards.
func (x *Exporter) Publish(s *Snapshot) { x.snap.Store(s) }

// Event counts one node event at t. Called on the loop.
func (x *Exporter) Event(e node.Event, t time.Time) {
	x.events.WithLabelValues(e.Kind.String()).Inc()
	switch e.Kind {
	case node.NodeDead:
		x.deaths.WithLabelValues(e.Node, deathReason(e.Cause)).Inc()
		if e.Silence > 0 {
			x.detection.WithLabelValues(e.Node).Observe(e.Silence.Seconds())
		}
		if e.Node != x.local {
			x.peerDeadAt = t
		}
	case node.NodeState:
		if e.Node != x.local && e.NodeTo != core.Dead {
			x.peerDeadAt = time.Time{}
		}
	case node.LateHeartbeat:
		x.late.WithLabelValues(e.Node).Inc()
	case node.PeerRestarted:
		x.restarts.WithLabelValues(e.Node).Inc()
	case node.GroupState:
		x.groupState(e.Group, e.GroupTo, t)
	case node.GroupStartFailed:
		x.groupFails.WithLabelValues(e.Group, "start").Inc()
	case node.GroupStopFailed:
		x.groupFails.WithLabelValues(e.Group, "stop").Inc()
	case node.FenceStarted:
		x.fences.WithLabelValues(e.Node, "started").Inc()
	case node.FenceOK:
		x.fences.WithLabelValues(e.Node, "ok").Inc()
		x.fenceDur.WithLabelValues("ok").Observe(e.Took.Seconds())
	case node.FenceFailed:
		x.fences.WithLabelValues(e.Node, "failed").Inc()
		x.fenceDur.WithLabelValues("failed").Observe(e.Took.Seconds())
	}
}

func (x *Exporter) groupState(group string, to manager.GroupState, t time.Time) {
	switch to {
	case manager.Starting:
		a := acquisition{since: t, trigger: TriggerOther}
		if !x.peerDeadAt.IsZero() {
			a = acquisition{since: x.peerDeadAt, trigger: TriggerPeerDead}
		}
		x.acquiring[group] = a
	case manager.Running:
		if a, ok := x.acquiring[group]; ok {
			delete(x.acquiring, group)
			x.failovers.WithLabelValues(a.trigger).Inc()
			x.failoverDur.WithLabelValues(a.trigger).Observe(max(t.Sub(a.since), 0).Seconds())
		}
	default:
		delete(x.acquiring, group)
	}
}

// MonitorCheck counts a resource the monitor found missing while its
// group runs here: restarted or, if err, failed. Called on the loop.
func (x *Exporter) MonitorCheck(group string, err error) {
	r := "restarted"
	if err != nil {
		r = "failed"
	}
	x.monitor.WithLabelValues(group, r).Inc()
}

func deathReason(c core.DeathCause) string {
	switch c {
	case core.CauseTimeout:
		return "timeout"
	case core.CauseShutdown:
		return "shutdown"
	}
	return "unknown"
}

// Handler serves /metrics. The answer is never compressed: it is a few
// kilobytes, scraped on a LAN, and gzip would be a third of a scrape's CPU.
func (x *Exporter) Handler() http.Handler {
	return promhttp.HandlerFor(x.reg, promhttp.HandlerOpts{ErrorHandling: promhttp.ContinueOnError,
		MaxRequestsInFlight: 4, DisableCompression: true})
}

// Server is the metrics HTTP server.
type Server struct {
	srv  *http.Server
	done chan struct{}
}

// Listen binds addr (metrics_listen) and serves /metrics on it until
// Close. A bind failure (the address in use, not ours) is returned as is,
// with the address.
func (x *Exporter) Listen(addr string) (*Server, error) {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("metrics_listen %s: %w", addr, err)
	}
	return x.Serve(ln), nil
}

// Serve serves /metrics on ln until Close.
func (x *Exporter) Serve(ln net.Listener) *Server {
	mux := http.NewServeMux()
	mux.Handle("/metrics", x.Handler())
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/" {
			http.NotFound(w, r)
			return
		}
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		_, _ = w.Write([]byte("hasuite heartbeat: metrics at /metrics\n"))
	})
	s := &Server{srv: &http.Server{Handler: mux, ReadHeaderTimeout: 5 * time.Second, ReadTimeout: 10 * time.Second,
		WriteTimeout: 20 * time.Second, IdleTimeout: time.Minute, MaxHeaderBytes: 16 << 10}, done: make(chan struct{})}
	go func() {
		defer close(s.done)
		_ = s.srv.Serve(ln)
	}()
	return s
}

// Close stops the server and waits for it.
func (s *Server) Close() error {
	err := s.srv.Close()
	<-s.done
	if errors.Is(err, http.ErrServerClosed) {
		err = nil
	}
	return err
}
