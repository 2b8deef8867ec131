package metrics

import (
	"errors"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"

	"github.com/hasuite/hasuite/heartbeat/core"
	"github.com/hasuite/hasuite/heartbeat/node"
	"github.com/hasuite/hasuite/resources/manager"
)

// scrape serves x on a loopback port, GETs /metrics and parses it with the
// Prometheus text parser.
func scrape(t *testing.T, x *Exporter) map[string]*dto.MetricFamily {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	s := x.Serve(ln)
	defer s.Close()
	resp, err := http.Get("http://" + ln.Addr().String() + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != 200 {
		b, _ := io.ReadAll(resp.Body)
		t.Fatalf("status %d: %s", resp.StatusCode, b)
	}
	p := expfmt.NewTextParser(model.UTF8Validation)
	fams, err := p.TextToMetricFamilies(resp.Body)
	if err != nil {
		t.Fatalf("parse exposition: %v", err)
	}
	return fams
}

// value returns the value of the sample of family name whose labels
// include want ("k=v" pairs); ok false if there is none.
func value(fams map[string]*dto.MetricFamily, name string, want ...string) (float64, bool) {
	f := fams[name]
	if f == nil {
		return 0, false
	}
next:
	for _, m := range f.Metric {
		have := map[string]string{}
		for _, l := range m.Label {
			have[l.GetName()] = l.GetValue()
		}
		for _, kv := range want {
			k, v, _ := strings.Cut(kv, "=")
			if have[k] != v {
				continue next
			}
		}
		switch {
		case m.Counter != nil:
			return m.Counter.GetValue(), true
		case m.Gauge != nil:
			return m.Gauge.GetValue(), true
		case m.Histogram != nil:
			return float64(m.Histogram.GetSampleCount()), true
		}
	}
	return 0, false
}

func histSum(fams map[string]*dto.MetricFamily, name string, want ...string) float64 {
	for _, m := range fams[name].GetMetric() {
		ok := true
		for _, kv := range want {
			k, v, _ := strings.Cut(kv, "=")
			found := false
			for _, l := range m.Label {
				found = found || (l.GetName() == k && l.GetValue() == v)
			}
			ok = ok && found
		}
		if ok && m.Histogram != nil {
			return m.Histogram.GetSampleSum()
		}
	}
	return -1
}

var t0 = time.Date(2026, 12, 7, 21, 0, 0, 0, time.UTC)

func snapshot() *Snapshot {
	return &Snapshot{
		Taken: time.Now(), CommUp: true,
		Nodes: []Node{
			{Name: "node1", State: "dead", LastHeard: 3 * time.Second,
				Links:    []NodeLink{{Name: "eth0", Up: false, LastHeard: 3 * time.Second}, {Name: "eth1", LastHeard: -1}},
				Counters: core.PeerCounters{Accepted: 40, Gaps: 2}},
			{Name: "node2", State: "active", Local: true, LastHeard: -1},
		},
		Core:   core.Counters{TxMessages: 77, RxAccepted: 40, RxReplay: 1, LostMessages: 3},
		Groups: []Group{{Key: "198.18.0.100/24/eth0", Preferred: "node1", State: "running"}},
		Links: []Link{{Name: "eth0", TxPackets: 154, TxErrors: 1, RxPackets: 41, RxBad: 1,
			Dropped: map[string]uint64{"bad-auth": 1}}},
	}
}

func TestCollector(t *testing.T) {
	x := New("node2")
	x.Publish(snapshot())
	// A failover: node1 dies after 1.5 s of silence at t0; the group
	// starts at t0+100ms and runs at t0+600ms.
	for _, e := range []struct {
		e  node.Event
		at time.Duration
	}{
		{node.Event{Kind: node.LateHeartbeat, Node: "node1", Silence: time.Second}, -500 * time.Millisecond},
		{node.Event{Kind: node.NodeDead, Node: "node1", NodeFrom: core.Active, NodeTo: core.Dead,
			Cause: core.CauseTimeout, Silence: 1500 * time.Millisecond}, 0},
		{node.Event{Kind: node.FenceStarted, Node: "node1"}, 10 * time.Millisecond},
		{node.Event{Kind: node.FenceOK, Node: "node1", Took: 50 * time.Millisecond}, 60 * time.Millisecond},
		{node.Event{Kind: node.GroupState, Group: "198.18.0.100/24/eth0", GroupFrom: manager.Stopped,
			GroupTo: manager.Starting}, 100 * time.Millisecond},
		{node.Event{Kind: node.GroupState, Group: "198.18.0.100/24/eth0", GroupFrom: manager.Starting,
			GroupTo: manager.Running}, 600 * time.Millisecond},
		// node1 comes back: a later start is not a failover.
		{node.Event{Kind: node.NodeState, Node: "node1", NodeFrom: core.Dead, NodeTo: core.Active}, 5 * time.Second},
		{node.Event{Kind: node.GroupState, Group: "g2", GroupTo: manager.Starting}, 6 * time.Second},
		{node.Event{Kind: node.GroupState, Group: "g2", GroupTo: manager.Running}, 6200 * time.Millisecond},
		{node.Event{Kind: node.GroupStartFailed, Group: "g3"}, 7 * time.Second},
		{node.Event{Kind: node.PeerRestarted, Node: "node1"}, 8 * time.Second},
	} {
		x.Event(e.e, t0.Add(e.at))
	}
	x.MonitorCheck("198.18.0.100/24/eth0", nil)
	x.MonitorCheck("198.18.0.100/24/eth0", errors.New("gone"))
	depth := 7.0
	if err := x.GaugeFunc("notify_queue_depth", "test hook", func() float64 { return depth }); err != nil {
		t.Fatal(err)
	}
	if err := x.GaugeFunc("notify_queue_depth", "twice", func() float64 { return 0 }); err == nil {
		t.Fatal("duplicate registration accepted")
	}
	fams := scrape(t, x)
	for _, c := range []struct {
		name   string
		labels []string
		want   float64
	}{
		{"hasuite_comm_up", nil, 1},
		{"hasuite_node_state", []string{"node=node1", "state=dead"}, 1},
		{"hasuite_node_state", []string{"node=node1", "state=active"}, 0},
		{"hasuite_node_state", []string{"node=node2", "state=active"}, 1},
		{"hasuite_node_link_up", []string{"node=node1", "link=eth0"}, 0},
		{"hasuite_node_link_up", []string{"node=node1", "link=eth1"}, 0},
		{"hasuite_peer_messages_total", []string{"node=node1", "result=accepted"}, 40},
		{"hasuite_peer_messages_total", []string{"node=node1", "result=gap"}, 2},
		{"hasuite_messages_sent_total", nil, 77},
		{"hasuite_messages_received_total", []string{"result=replay"}, 1},
		{"hasuite_messages_lost_total", nil, 3},
		{"hasuite_link_packets_sent_total", []string{"link=eth0"}, 154},
		{"hasuite_link_send_errors_total", []string{"link=eth0"}, 1},
		{"hasuite_link_packets_received_total", []string{"link=eth0"}, 41},
		{"hasuite_link_packets_dropped_total", []string{"link=eth0", "reason=bad-auth"}, 1},
		{"hasuite_link_packets_dropped_total", []string{"link=eth0", "reason=malformed"}, 0},
		{"hasuite_group_state", []string{"group=198.18.0.100/24/eth0", "state=running"}, 1},
		{"hasuite_group_held_here", []string{"group=198.18.0.100/24/eth0"}, 1},
		{"hasuite_group_info", []string{"group=198.18.0.100/24/eth0", "preferred_node=node1"}, 1},
		{"hasuite_node_deaths_total", []string{"node=node1", "reason=timeout"}, 1},
		{"hasuite_death_detection_seconds", []string{"node=node1"}, 1},
		{"hasuite_late_heartbeats_total", []string{"node=node1"}, 1},
		{"hasuite_failovers_total", []string{"trigger=peer-dead"}, 1},
		{"hasuite_failovers_total", []string{"trigger=other"}, 1},
		{"hasuite_failover_duration_seconds", []string{"trigger=peer-dead"}, 1},
		{"hasuite_fence_attempts_total", []string{"node=node1", "outcome=started"}, 1},
		{"hasuite_fence_attempts_total", []string{"node=node1", "outcome=ok"}, 1},
		{"hasuite_group_failures_total", []string{"group=g3", "action=start"}, 1},
		{"hasuite_peer_restarts_total", []string{"node=node1"}, 1},
		{"hasuite_resource_checks_total", []string{"result=restarted"}, 1},
		{"hasuite_resource_checks_total", []string{"result=failed"}, 1},
		{"hasuite_events_total", []string{"event=group-state"}, 4},
		{"hasuite_notify_queue_depth", nil, 7},
	} {
		got, ok := value(fams, c.name, c.labels...)
		if !ok || got != c.want {
			t.Errorf("%s%v = %v (present %v), want %v", c.name, c.labels, got, ok, c.want)
		}
	}
	if s := histSum(fams, "hasuite_failover_duration_seconds", "trigger=peer-dead"); s < 0.599 || s > 0.601 {
		t.Errorf("failover duration %v, want 0.6 (death to running)", s)
	}
	if s := histSum(fams, "hasuite_failover_duration_seconds", "trigger=other"); s < 0.199 || s > 0.201 {
		t.Errorf("other start duration %v, want 0.2", s)
	}
	if s := histSum(fams, "hasuite_death_detection_seconds", "node=node1"); s != 1.5 {
		t.Errorf("detection latency %v, want 1.5", s)
	}
	// Ages grow between snapshots; never-heard links have none.
	if v, _ := value(fams, "hasuite_node_last_heard_seconds", "node=node1"); v < 3 || v > 10 {
		t.Errorf("last heard %v", v)
	}
	if _, ok := value(fams, "hasuite_node_link_last_heard_seconds", "link=eth1"); ok {
		t.Error("a link never heard has an age")
	}
	// Standard process and Go metrics.
	for _, n := range []string{"process_cpu_seconds_total", "process_resident_memory_bytes", "go_goroutines", "go_memstats_heap_alloc_bytes"} {
		if fams[n] == nil {
			t.Errorf("%s missing", n)
		}
	}
}

func TestNoSnapshotYet(t *testing.T) {
	fams := scrape(t, New("node1"))
	if _, ok := value(fams, "hasuite_comm_up"); ok {
		t.Error("state exported before the first snapshot")
	}
	if fams["go_goroutines"] == nil {
		t.Error("runtime metrics missing")
	}
}

func TestListenInUse(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	_, err = New("node1").Listen(ln.Addr().String())
	if err == nil || !strings.Contains(err.Error(), "metrics_listen "+ln.Addr().String()) ||
		!strings.Contains(err.Error(), "address already in use") {
		t.Fatalf("got %v", err)
	}
}
