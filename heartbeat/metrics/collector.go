package metrics

import (
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

func desc(name, help string, labels ...string) *prometheus.Desc {
	return prometheus.NewDesc(Namespace+"_"+name, help, labels, nil)
}

var (
	nodeStates  = []string{"init", "up", "active", "dead"}
	groupStates = []string{"stopped", "starting", "running", "stopping", "stop-failed"}

	dSnapshotAge  = desc("snapshot_age_seconds", "Age of the daemon's published state at this scrape (normally under a second).")
	dCommUp       = desc("comm_up", "1 when cluster communication is up (the local node is active).")
	dNodeState    = desc("node_state", "1 for the node's current membership state, 0 for the others.", "node", "state")
	dNodeHeard    = desc("node_last_heard_seconds", "Age of the last status heard from the node (absent until heard).", "node")
	dLinkUp       = desc("node_link_up", "1 when the link to the node is up.", "node", "link")
	dLinkHeard    = desc("node_link_last_heard_seconds", "Age of the last packet heard from the node on the link (absent until heard).", "node", "link")
	dPeerMessages = desc("peer_messages_total", "Messages from the peer, by result (accepted, duplicate, replay, gap, lost).", "node", "result")
	dMsgSent      = desc("messages_sent_total", "Cluster messages sent (heartbeats included), each on every link.")
	dMsgReceived  = desc("messages_received_total", "Decoded cluster messages received, by result.", "result")
	dRexmitReq    = desc("rexmit_requests_total", "Retransmissions requested from peers.")
	dRexmitSent   = desc("rexmit_sent_total", "Retransmissions sent to peers.")
	dNakSent      = desc("nak_sent_total", "Retransmission requests answered with a NAK (the message is gone).")
	dLost         = desc("messages_lost_total", "Messages given up after the bounded retransmission requests.")
	dLinkTx       = desc("link_packets_sent_total", "Packets sent on the link.", "link")
	dLinkTxErr    = desc("link_send_errors_total", "Failed sends on the link.", "link")
	dLinkRx       = desc("link_packets_received_total", "Packets received on the link.", "link")
	dLinkDrop     = desc("link_packets_dropped_total", "Packets received on the link and dropped, by reason.", "link", "reason")
	dGroupState   = desc("group_state", "1 for the group's current state here, 0 for the others.", "group", "state")
	dGroupHere    = desc("group_held_here", "1 when the group runs (or is starting or stopping) on this node.", "group")
	dGroupFailed  = desc("group_failed", "1 when the group's last start or stop here failed.", "group")
	dGroupInfo    = desc("group_info", "The group's preferred node (the haresources line's node).", "group", "preferred_node")
)

// snapshotCollector turns the latest snapshot into metrics at scrape time.
// Ages are aged by the time since the snapshot, so they stay exact
// between publications.
type snapshotCollector struct{ x *Exporter }

// Describe sends nothing: the collector is unchecked (the set of nodes,
// links and groups is known only from the snapshot).
func (snapshotCollector) Describe(chan<- *prometheus.Desc) {}

func (c snapshotCollector) Collect(ch chan<- prometheus.Metric) {
	s := c.x.snap.Load()
	if s == nil {
		return
	}
	now := time.Now()
	elapsed := max(now.Sub(s.Taken), 0)
	gauge := func(d *prometheus.Desc, v float64, labels ...string) {
		ch <- prometheus.MustNewConstMetric(d, prometheus.GaugeValue, v, labels...)
	}
	counter := func(d *prometheus.Desc, v uint64, labels ...string) {
		ch <- prometheus.MustNewConstMetric(d, prometheus.CounterValue, float64(v), labels...)
	}
	b := func(v bool) float64 {
		if v {
			return 1
		}
		return 0
	}
	gauge(dSnapshotAge, elapsed.Seconds())
	gauge(dCommUp, b(s.CommUp))
	for _, n := range s.Nodes {
		for _, st := range nodeStates {
			gauge(dNodeState, b(n.State == st), n.Name, st)
		}
		if n.Local {
			continue
		}
		if n.LastHeard >= 0 {
			gauge(dNodeHeard, (n.LastHeard + elapsed).Seconds(), n.Name)
		}
		for _, l := range n.Links {
			gauge(dLinkUp, b(l.Up), n.Name, l.Name)
			if l.LastHeard >= 0 {
				gauge(dLinkHeard, (l.LastHeard + elapsed).Seconds(), n.Name, l.Name)
			}
		}
		pc := n.Counters
		counter(dPeerMessages, pc.Accepted, n.Name, "accepted")
		counter(dPeerMessages, pc.Duplicate, n.Name, "duplicate")
		counter(dPeerMessages, pc.Replay, n.Name, "replay")
		counter(dPeerMessages, pc.Gaps, n.Name, "gap")
		counter(dPeerMessages, pc.Lost, n.Name, "lost")
	}
	k := s.Core
	counter(dMsgSent, k.TxMessages)
	counter(dMsgReceived, k.RxAccepted, "accepted")
	counter(dMsgReceived, k.RxDuplicate, "duplicate")
	counter(dMsgReceived, k.RxReplay, "replay")
	counter(dMsgReceived, k.RxBadFields, "bad-fields")
	counter(dMsgReceived, k.RxUnknownNode, "unknown-node")
	counter(dMsgReceived, k.RxOwn, "own")
	counter(dRexmitReq, k.RexmitRequested)
	counter(dRexmitSent, k.RexmitSent)
	counter(dNakSent, k.NakSent)
	counter(dLost, k.LostMessages)
	for _, l := range s.Links {
		counter(dLinkTx, l.TxPackets, l.Name)
		counter(dLinkTxErr, l.TxErrors, l.Name)
		counter(dLinkRx, l.RxPackets, l.Name)
		for _, r := range DropReasons {
			counter(dLinkDrop, l.Dropped[r], l.Name, r)
		}
	}
	for _, g := range s.Groups {
		for _, st := range groupStates {
			gauge(dGroupState, b(g.State == st), g.Key, st)
		}
		gauge(dGroupHere, b(g.State != "stopped"), g.Key)
		gauge(dGroupFailed, b(g.Failed), g.Key)
		gauge(dGroupInfo, 1, g.Key, g.Preferred)
	}
}

// DropReasons are the reasons of link_packets_dropped_total, all always
// exported (0 until it happens): a packet that is malformed, has a bad
// signature, is unsigned, is larger than a message may be, or found the
// serial queue full.
var DropReasons = []string{"malformed", "bad-auth", "unsigned", "oversized", "queue-full"}

// cachedCollector collects c at most once per ttl and serves the same
// (immutable) metrics in between. The standard process collector reads
// five /proc files per scrape (a third of a scrape's CPU), the Go
// collector reads the runtime's metrics; neither needs to be fresher than
// a few seconds.
type cachedCollector struct {
	c   prometheus.Collector
	ttl time.Duration

	mu      sync.Mutex
	at      time.Time
	metrics []prometheus.Metric
}

func (c *cachedCollector) Describe(ch chan<- *prometheus.Desc) { c.c.Describe(ch) }

func (c *cachedCollector) Collect(ch chan<- prometheus.Metric) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if now := time.Now(); c.metrics == nil || now.Sub(c.at) >= c.ttl {
		c.at = now
		inner := make(chan prometheus.Metric, 64)
		go func() {
			c.c.Collect(inner)
			close(inner)
		}()
		c.metrics = c.metrics[:0]
		for m := range inner {
			c.metrics = append(c.metrics, m)
		}
	}
	for _, m := range c.metrics {
		ch <- m
	}
}
