package daemon

import (
	"context"
	"crypto/rand"
	"encoding/binary"
	"fmt"
	"net"
	"net/netip"
	"time"

	"go.uber.org/zap"

	"github.com/hasuite/hasuite/heartbeat/api"
	"github.com/hasuite/hasuite/heartbeat/config"
	"github.com/hasuite/hasuite/heartbeat/node"
	"github.com/hasuite/hasuite/heartbeat/ping"
)

// resolveWait bounds the resolution of ping node host names at start.
const resolveWait = 5 * time.Second

// pingIO is the daemon's side of the ping nodes: the raw sockets (one per
// address family in use) and their reader goroutines.
type pingIO struct {
	v4, v6 *ping.Conn
	done   chan struct{} // closed when the readers have ended
}

// checkPingTargets rejects ping nodes that say nothing about the network:
// loopback addresses and this host's own addresses always answer.
func checkPingTargets(cfg *config.Config) (errs []config.Diag) {
	own := localAddrs()
	for _, p := range cfg.Ping {
		for _, h := range p.Hosts {
			a, err := netip.ParseAddr(h)
			if err != nil {
				continue // a host name: checked once resolved, at start
			}
			if why := selfTarget(a, own); why != "" {
				errs = append(errs, config.Diag{Pos: p.Pos, Msg: fmt.Sprintf("ping node %s: %s is %s: it always answers, so it says nothing about this node's reach; ping a router or another host beyond it", p.Name, h, why)})
			}
		}
	}
	return errs
}

func selfTarget(a netip.Addr, own map[string]bool) string {
	a = a.Unmap()
	switch {
	case a.IsLoopback():
		return "a loopback address"
	case a.IsUnspecified():
		return "the unspecified address"
	case own[a.String()]:
		return "an address of this host"
	}
	return ""
}

// pingConfig resolves the ping nodes' hosts (names once, at start) into
// the node layer's configuration.
func (d *Daemon) pingConfig() (node.PingConfig, error) {
	cfg := d.cfg
	pc := node.PingConfig{Interval: cfg.PingInterval, Deadping: cfg.Deadping}
	own := localAddrs()
	for _, p := range cfg.Ping {
		t := node.PingTarget{Name: p.Name, Group: p.Group}
		for _, h := range p.Hosts {
			a, err := netip.ParseAddr(h)
			if err != nil {
				ctx, cancel := context.WithTimeout(context.Background(), resolveWait)
				network := "ip4"
				if p.IPv6 {
					network = "ip6"
				}
				ips, lerr := net.DefaultResolver.LookupNetIP(ctx, network, h)
				cancel()
				if lerr != nil || len(ips) == 0 {
					return pc, fmt.Errorf("%w: %s: ping node %s: cannot resolve %s: %v", ErrConfig, p.Pos, p.Name, h, lerr)
				}
				a = ips[0]
			}
			a = a.Unmap()
			if why := selfTarget(a, own); why != "" {
				return pc, fmt.Errorf("%w: %s: ping node %s: %s (%s) is %s: it always answers", ErrConfig, p.Pos, p.Name, h, a, why)
			}
			t.Hosts = append(t.Hosts, a)
		}
		pc.Targets = append(pc.Targets, t)
	}
	return pc, nil
}

// openPing opens the ICMP sockets the targets need and starts their
// readers, which post every reply with our identifier to the loop. An
// ICMP socket that cannot be opened is an error at start.
func (d *Daemon) openPing(pc node.PingConfig) (*pingIO, error) {
	p := &pingIO{done: make(chan struct{})}
	if len(pc.Targets) == 0 {
		close(p.done)
		return p, nil
	}
	var need4, need6 bool
	for _, t := range pc.Targets {
		for _, a := range t.Hosts {
			need4 = need4 || a.Is4()
			need6 = need6 || a.Is6()
		}
	}
	var b [2]byte
	if _, err := rand.Read(b[:]); err != nil {
		return nil, fmt.Errorf("ping identifier: %w", err)
	}
	id := binary.BigEndian.Uint16(b[:])
	var err error
	if need4 {
		if p.v4, err = ping.Open(false, id); err != nil {
			return nil, err
		}
	}
	if need6 {
		if p.v6, err = ping.Open(true, id); err != nil {
			if p.v4 != nil {
				p.v4.Close()
			}
			return nil, err
		}
	}
	readers := 0
	ended := make(chan struct{}, 2)
	for _, c := range []*ping.Conn{p.v4, p.v6} {
		if c == nil {
			continue
		}
		readers++
		go func() {
			defer func() { ended <- struct{}{} }()
			c.Run(func(r ping.Reply) {
				d.loop.Post(func() { d.node.PingReply(d.now(), r.From, r.Seq) })
			})
		}()
	}
	go func() {
		for range readers {
			<-ended
		}
		close(p.done)
	}()
	d.log.Info("ping nodes: probing", zap.Int("targets", len(pc.Targets)), zap.Duration("interval", pc.Interval),
		zap.Duration("deadping", pc.Deadping), zap.Uint16("icmp_id", id))
	return p, nil
}

// close closes the sockets and waits for the readers.
func (p *pingIO) close() {
	if p == nil {
		return
	}
	for _, c := range []*ping.Conn{p.v4, p.v6} {
		if c != nil {
			c.Close()
		}
	}
	<-p.done
}

// sendProbe sends one echo the node layer asked for.
func (d *Daemon) sendProbe(pr node.Probe) {
	c := d.ping.v4
	if pr.Addr.Is6() {
		c = d.ping.v6
	}
	if c == nil {
		return // cannot happen: a socket is open for every family in use
	}
	if err := c.Send(pr.Addr, pr.Seq); err != nil {
		if ok, muted := d.limiter.allow("ping:"+pr.Addr.String(), d.step); ok {
			d.log.Warn("ping node: sending an echo failed", zap.Stringer("to", pr.Addr), zap.Error(err), zap.Int("suppressed", muted))
		}
	}
}

// pingStatus is the ping nodes' part of the status: the targets in
// detail, the counters, and the ping nodes as cl_status sees them (type
// "ping", state ping, dead or init, one link named after the node).
func (d *Daemon) pingStatus(s *api.Status) {
	now := d.now()
	reach := d.node.Reach(now)
	if len(reach) == 0 {
		return
	}
	s.Reach = &api.Reach{Alive: d.node.PingAlive(), Total: len(reach)}
	var nodes []api.NodeSnapshot
	for _, r := range reach {
		t := api.PingTarget{Name: r.Name, Group: r.Group, State: r.State}
		heard := time.Duration(-1)
		var answered uint64
		for _, h := range r.Hosts {
			answered += h.Answered
			t.Hosts = append(t.Hosts, api.PingHost{Addr: h.Addr.String(), LastReply: h.LastReply, RTT: h.RTT,
				Sent: h.Sent, Answered: h.Answered})
			if h.LastReply >= 0 && (heard < 0 || h.LastReply < heard) {
				heard = h.LastReply
			}
		}
		s.Reach.Targets = append(s.Reach.Targets, t)
		link := api.LinkDead
		if r.State == node.PingUp {
			link = api.LinkUp
		}
		nodes = append(nodes, api.NodeSnapshot{Name: r.Name, Type: "ping", State: r.State, Deadtime: d.cfg.Deadping,
			LastHeard: heard, Links: []api.LinkSnapshot{{Name: r.Name, State: link, LastHeard: heard, Packets: answered}}})
	}
	for _, c := range []*ping.Conn{d.ping.v4, d.ping.v6} {
		if c == nil {
			continue
		}
		s.Reach.Counters.Sent += c.Sent.Load()
		s.Reach.Counters.SendErrors += c.SendErrors.Load()
		s.Reach.Counters.Replies += c.Replies.Load()
		s.Reach.Counters.WrongID += c.WrongID.Load()
		s.Reach.Counters.NotReply += c.NotReply.Load()
		s.Reach.Counters.Malformed += c.Malformed.Load()
	}
	s.Reach.Counters.Unmatched = d.node.ReachCounters().Unmatched
	// Heartbeat keeps its nodes in the order of the ha.cf lines: ping
	// lines before the node line come first (with several node lines,
	// the last one counts).
	before := 0
	if np, ok := d.cfg.Set["node"]; ok {
		for _, p := range d.cfg.Ping {
			if p.Pos.File == np.File && p.Pos.Line < np.Line {
				before++
			}
		}
	}
	s.Core.Nodes = append(append(append([]api.NodeSnapshot(nil), nodes[:before]...), s.Core.Nodes...), nodes[before:]...)
}
