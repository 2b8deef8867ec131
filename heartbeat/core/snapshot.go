package core

import (
	"encoding/hex"
	"time"
)

// Snapshot is a read-only view of the core for status commands (the daemon
// turns it into the control API's api.Snapshot).
type Snapshot struct {
	Node        string
	State       string
	Generation  uint64
	UUID        string
	LastSeq     uint64
	CommUp      bool
	Stopping    bool
	FlowControl bool
	Keepalive   time.Duration
	Deadtime    time.Duration
	Warntime    time.Duration
	Initdead    time.Duration
	Uptime      time.Duration
	Nodes       []NodeSnapshot
	Counters    Counters
}

// NodeSnapshot describes one node, the local one included.
type NodeSnapshot struct {
	Name  string
	Type  string
	State string
	Local bool
	// Deadtime is the timeout applied to this node now.
	Deadtime time.Duration
	// LastHeard is the age of the last status; -1 when never heard.
	LastHeard  time.Duration
	Generation uint64
	LastSeq    uint64
	Missing    int
	Links      []LinkSnapshot
	Counters   PeerCounters
}

// LinkSnapshot is one medium as seen for one node.
type LinkSnapshot struct {
	Name      string
	State     string
	LastHeard time.Duration // -1 when never heard
	Packets   uint64
}

// Snapshot reports the state at now. Nodes come in configuration order.
func (c *Core) Snapshot(now Time) Snapshot {
	s := Snapshot{
		Node: c.cfg.LocalNode, State: c.state.String(), Generation: c.cfg.Generation,
		UUID: hex.EncodeToString(c.cfg.UUID), LastSeq: c.seq, CommUp: c.commUp, Stopping: c.stopping,
		FlowControl: c.flowControl, Keepalive: c.cfg.Keepalive, Deadtime: c.cfg.Deadtime,
		Warntime: c.cfg.Warntime, Initdead: c.cfg.Initdead, Counters: c.counters,
	}
	if c.started {
		s.Uptime = now.Mono - c.start
	}
	for _, name := range c.cfg.Nodes {
		if name == c.cfg.LocalNode {
			n := NodeSnapshot{Name: name, Type: "normal", State: c.state.String(), Local: true,
				Deadtime: c.cfg.Deadtime, LastHeard: 0, Generation: c.cfg.Generation, LastSeq: c.seq}
			// Our own links are up while we run: we send on them.
			for _, l := range c.cfg.Links {
				n.Links = append(n.Links, LinkSnapshot{Name: l, State: LinkUp.String(), LastHeard: -1})
			}
			s.Nodes = append(s.Nodes, n)
			continue
		}
		p := c.byName[name]
		n := NodeSnapshot{Name: name, Type: "normal", State: p.state.String(), Deadtime: c.deadTimeout(p),
			LastHeard: -1, Generation: p.gen, LastSeq: p.lastSeq, Missing: len(p.missing), Counters: p.counters}
		if p.heard {
			n.LastHeard = now.Mono - p.lastStatus
		}
		names := append([]string(nil), c.cfg.Links...)
		for _, l := range p.linkList() {
			if !contains(names, l.name) {
				names = append(names, l.name)
			}
		}
		for _, ln := range names {
			ls := LinkSnapshot{Name: ln, State: LinkDead.String(), LastHeard: -1}
			if l, ok := p.links[ln]; ok {
				ls.State = l.state.String()
				ls.Packets = l.packets
				if l.heard {
					ls.LastHeard = now.Mono - l.lastHeard
				}
			}
			n.Links = append(n.Links, ls)
		}
		s.Nodes = append(s.Nodes, n)
	}
	return s
}
