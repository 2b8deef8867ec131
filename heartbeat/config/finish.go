package config

import (
	"slices"
	"time"
)

// env is what the machine contributes to a configuration.
type env struct {
	defaultPort int    // udpport when not set: ha-cluster/udp from /etc/services, else 694
	localNode   string // "" skips the local node checks
	localFrom   string // how localNode was found, for messages
}

// finish resolves everything that depends on more than one directive, then
// validates the whole. Doing this after reading every line is what makes
// directive order irrelevant (Heartbeat applies udpport and baud to the
// media read after them only).
func (b *builder) finish(e env) (*Config, error) {
	c := b.c
	if _, ok := c.Set["udpport"]; !ok {
		c.UDPPort = e.defaultPort
	}
	resolveTimings(c)
	for i := range c.Media {
		m := &c.Media[i]
		switch m.Kind {
		case "ucast", "ucast6", "bcast":
			m.Port = c.UDPPort
		case "serial":
			m.Baud = c.Baud
		}
	}
	b.checkNodes(e)
	b.checkTimings()
	b.finishNotify()
	if c.AutoFailback == "legacy" {
		what := "auto_failback legacy"
		if _, set := c.Set["auto_failback"]; !set {
			what += " (the default)"
		}
		b.warnf(b.posOf("auto_failback"), "%s is deprecated: a starting node reclaims its groups with ip-request, without the exchange in which both nodes report what they hold, and hb_standby/hb_takeover are refused; set auto_failback on (groups still return to their preferred node) or off", what)
	}
	sortDiags(b.errs)
	sortDiags(c.Warnings)
	if len(b.errs) > 0 {
		return nil, ErrorList(b.errs)
	}
	return c, nil
}

func (b *builder) checkNodes(e env) {
	c := b.c
	if len(c.Nodes) == 0 {
		b.errorf(b.filePos(), "no node declared: list every cluster node (uname -n) with a node directive")
	}
	if len(c.Nodes) > 2 {
		b.warnf(b.posOf("node"), "%d nodes declared: haresources failover is built for two-node clusters", len(c.Nodes))
	}
	if len(c.Nodes)+len(c.Ping) > maxNodes {
		b.errorf(b.posOf("node"), "%d nodes including ping nodes: at most %d are allowed", len(c.Nodes)+len(c.Ping), maxNodes)
	}
	for _, p := range c.Ping {
		if slices.Contains(c.Nodes, p.Name) {
			b.errorf(p.Pos, "ping node %s has the name of a cluster node", p.Name)
		}
	}
	links := len(c.Media)
	if links == 0 {
		b.errorf(b.filePos(), "no heartbeat medium: declare at least one of ucast, ucast6, bcast, mcast, mcast6 or serial (ping nodes do not carry heartbeats)")
	}
	if links+len(c.Ping) > maxMedia {
		b.errorf(b.filePos(), "%d media including ping nodes: at most %d are allowed", links+len(c.Ping), maxMedia)
	}
	if e.localNode == "" {
		return
	}
	c.LocalNode = e.localNode
	if len(c.Nodes) > 0 && !slices.Contains(c.Nodes, e.localNode) {
		b.errorf(b.posOf("node"), "local node %s (%s) is not declared in %s: add \"node %s\"", e.localNode, e.localFrom, b.file, e.localNode)
	}
	n := 0
	for _, s := range c.Stonith {
		if s.Host != "" && s.Host != "*" && !slices.Contains(c.Nodes, s.Host) {
			b.warnf(s.Pos, "stonith_host %s names no declared node; the line is never used", s.Host)
		}
		if s.appliesTo(e.localNode) {
			n++
		}
	}
	if n > 1 {
		last, _ := c.StonithDevice()
		b.warnf(last.Pos, "%d STONITH lines apply to node %s; only one device is used, the last one (%s)", n, e.localNode, last.Type)
	}
}

// checkTimings applies init_config's rules, plus warntime < deadtime.
func (b *builder) checkTimings() {
	c := b.c
	if c.Deadtime <= 2*c.Keepalive {
		b.errorf(b.blame("deadtime", "keepalive"), "deadtime %s must be more than twice keepalive %s", formatMillis(c.Deadtime), formatMillis(c.Keepalive))
	}
	if c.Initdead < c.Deadtime {
		b.errorf(b.blame("initdead", "deadtime"), "initdead %s must not be less than deadtime %s", formatMillis(c.Initdead), formatMillis(c.Deadtime))
	} else if c.Initdead < 10*time.Second {
		b.warnf(b.posOf("initdead"), "initdead %s is under 10 s: a slow network start may make a node look dead at boot", formatMillis(c.Initdead))
	}
	if c.Warntime >= c.Deadtime {
		b.errorf(b.blame("warntime", "deadtime"), "warntime %s must be less than deadtime %s", formatMillis(c.Warntime), formatMillis(c.Deadtime))
	}
	if _, ok := c.Set["deadping"]; ok && c.Deadping <= 2*c.Keepalive {
		b.errorf(b.blame("deadping", "keepalive"), "deadping %s must be more than twice keepalive %s", formatMillis(c.Deadping), formatMillis(c.Keepalive))
	} else if every := c.PingInterval; len(c.Ping) > 0 && c.Deadping <= 2*every {
		b.errorf(b.blame("deadping", "ping_interval", "deadtime"),
			"deadping %s must be more than twice the ping interval %s (one echo per ping node every ping_interval, by default keepalive but at least %s): raise deadping or lower ping_interval",
			formatMillis(c.Deadping), formatMillis(every), formatMillis(MinPingInterval))
	}
}

// blame picks the position for an error between two directives: the first
// one given explicitly, else the whole file.
func (b *builder) blame(names ...string) Pos {
	for _, n := range names {
		if p, ok := b.c.Set[n]; ok {
			return p
		}
	}
	return b.filePos()
}
