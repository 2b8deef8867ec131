package node

import (
	"fmt"
	"net/netip"
	"time"
)

// Reachability: ping nodes and ping groups (ha.cf ping, ping6,
// ping_group), probed with ICMP echoes by the daemon. The node layer owns
// the schedule (which host gets an echo when), the matching of replies to
// the echoes sent, and liveness: a host is answering while its last
// matched reply is younger than deadping; a ping node (or group) is alive
// while any of its hosts is answering.

// PingTarget is one ping node: one host (ping, ping6), or a ping_group
// whose hosts are all probed and which is alive while any answers.
type PingTarget struct {
	Name  string
	Hosts []netip.Addr
	Group bool
}

// PingConfig configures reachability. No targets: nothing is probed.
type PingConfig struct {
	Targets []PingTarget
	// Interval: every host gets one echo this often (ping_interval).
	Interval time.Duration
	// Deadping: a host is answering while its last reply is younger.
	Deadping time.Duration
}

// Probe is one echo request for the daemon to send: to Addr, with
// sequence number Seq (and the daemon's identifier).
type Probe struct {
	Addr netip.Addr
	Seq  uint16
}

// Ping node states, as cl_status nodestatus prints them.
const (
	PingInit = "init" // not answered yet, deadping not yet passed since start
	PingUp   = "ping" // answering
	PingDead = "dead" // no answer for deadping
)

// PingHostStatus is one probed host for status commands.
type PingHostStatus struct {
	Addr netip.Addr
	// LastReply is the age of the last matched reply; -1: never.
	LastReply time.Duration
	// RTT is the round trip of the last matched reply.
	RTT      time.Duration
	Sent     uint64
	Answered uint64
}

// PingStatus is one ping node or group for status commands.
type PingStatus struct {
	Name  string
	Group bool
	State string // PingInit, PingUp or PingDead
	Hosts []PingHostStatus
}

// ReachCounters count replies that matched nothing.
type ReachCounters struct {
	// Unmatched: replies with this daemon's identifier whose sequence
	// number was not sent to the replying address within deadping
	// (late, duplicated, forged, or from the wrong host).
	Unmatched uint64
}

type pingHost struct {
	addr      netip.Addr
	target    int
	replied   bool
	lastReply time.Duration
	rtt       time.Duration
	sent      uint64
	answered  uint64
}

type pingTargetState struct {
	name  string
	group bool
	hosts []int
	state string
}

type sentProbe struct {
	host int
	at   time.Duration
}

// reach is the node layer's reachability state.
type reach struct {
	cfg       PingConfig
	targets   []pingTargetState
	hosts     []pingHost
	started   bool
	startedAt time.Duration
	nextRound time.Duration
	seq       uint16
	sent      map[uint16]sentProbe
	counters  ReachCounters
}

func newReach(cfg PingConfig) (reach, error) {
	r := reach{cfg: cfg, sent: map[uint16]sentProbe{}}
	if len(cfg.Targets) == 0 {
		return r, nil
	}
	if cfg.Interval <= 0 || cfg.Deadping <= 0 {
		return r, fmt.Errorf("ping nodes need a positive interval and deadping (got %v, %v)", cfg.Interval, cfg.Deadping)
	}
	for i, t := range cfg.Targets {
		if len(t.Hosts) == 0 {
			return r, fmt.Errorf("ping node %s has no address", t.Name)
		}
		ts := pingTargetState{name: t.Name, group: t.Group, state: PingInit}
		for _, a := range t.Hosts {
			ts.hosts = append(ts.hosts, len(r.hosts))
			r.hosts = append(r.hosts, pingHost{addr: a.Unmap(), target: i})
		}
		r.targets = append(r.targets, ts)
	}
	return r, nil
}

// pingStart begins probing at now: the first round goes out at once.
func (n *Node) pingStart(now time.Duration) {
	r := &n.reach
	if len(r.hosts) == 0 || r.started {
		return
	}
	r.started, r.startedAt, r.nextRound = true, now, now
	n.pingTick(now)
}

// pingTick sends the round of echoes that is due and judges liveness.
func (n *Node) pingTick(now time.Duration) {
	r := &n.reach
	if !r.started {
		return
	}
	if now >= r.nextRound {
		for i := range r.hosts {
			r.seq++
			r.sent[r.seq] = sentProbe{host: i, at: now}
			r.hosts[i].sent++
			n.ready.Probes = append(n.ready.Probes, Probe{Addr: r.hosts[i].addr, Seq: r.seq})
		}
		// A reply later than deadping could not keep its host alive:
		// forget the echo, and count the reply as unmatched.
		for s, p := range r.sent {
			if now-p.at >= r.cfg.Deadping {
				delete(r.sent, s)
			}
		}
		r.nextRound += r.cfg.Interval
		if r.nextRound <= now { // the loop was late: no burst of rounds
			r.nextRound = now + r.cfg.Interval
		}
	}
	for i := range r.targets {
		t := &r.targets[i]
		if t.state == PingDead || now < r.deadline(i) {
			continue
		}
		detail := fmt.Sprintf("no reply for %s", r.cfg.Deadping)
		if t.state == PingInit {
			detail = fmt.Sprintf("no reply within %s of start", r.cfg.Deadping)
		}
		t.state = PingDead
		n.emit(Event{Kind: PingNodeDead, Node: t.name, Detail: detail})
	}
}

// deadline is when target i dies unless a host answers: deadping after
// its latest reply (or after the start when none has answered).
func (r *reach) deadline(i int) time.Duration {
	last := r.startedAt
	for _, h := range r.targets[i].hosts {
		if r.hosts[h].replied {
			last = max(last, r.hosts[h].lastReply)
		}
	}
	return last + r.cfg.Deadping
}

// pingNext is when pingTick must next run; far in the future without
// ping nodes.
func (r *reach) pingNext() time.Duration {
	if !r.started {
		return 1 << 62
	}
	next := r.nextRound
	for i := range r.targets {
		if r.targets[i].state != PingDead {
			next = min(next, r.deadline(i))
		}
	}
	return next
}

// PingReply hands over an echo reply with this daemon's identifier from
// addr with sequence number seq, received at now. It reports whether the
// reply matched an echo sent to addr within deadping; one that did not is
// counted (ReachCounters.Unmatched) and changes nothing.
func (n *Node) PingReply(now Time, addr netip.Addr, seq uint16) bool {
	n.setNow(now)
	r := &n.reach
	p, ok := r.sent[seq]
	if !ok || r.hosts[p.host].addr.WithZone("") != addr.Unmap().WithZone("") {
		r.counters.Unmatched++
		return false
	}
	delete(r.sent, seq)
	h := &r.hosts[p.host]
	h.replied, h.lastReply, h.rtt = true, now.Mono, now.Mono-p.at
	h.answered++
	t := &r.targets[h.target]
	if t.state != PingUp {
		from := t.state
		t.state = PingUp
		n.emit(Event{Kind: PingNodeUp, Node: t.name, Detail: fmt.Sprintf("%s answered (was %s)", addr, from)})
	}
	n.settle()
	return true
}

// Reach is every ping node's state for status commands.
func (n *Node) Reach(now Time) []PingStatus {
	r := &n.reach
	out := make([]PingStatus, 0, len(r.targets))
	for _, t := range r.targets {
		ps := PingStatus{Name: t.name, Group: t.group, State: t.state}
		for _, i := range t.hosts {
			h := r.hosts[i]
			hs := PingHostStatus{Addr: h.addr, LastReply: -1, RTT: h.rtt, Sent: h.sent, Answered: h.answered}
			if h.replied {
				hs.LastReply = now.Mono - h.lastReply
			}
			ps.Hosts = append(ps.Hosts, hs)
		}
		out = append(out, ps)
	}
	return out
}

// ReachCounters returns the reachability counters.
func (n *Node) ReachCounters() ReachCounters { return n.reach.counters }

// PingAlive is how many ping nodes and groups answer now.
func (n *Node) PingAlive() int {
	c := 0
	for _, t := range n.reach.targets {
		if t.state == PingUp {
			c++
		}
	}
	return c
}
