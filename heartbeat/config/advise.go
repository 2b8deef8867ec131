package config

import (
	"fmt"
	"strings"
)

// Advise returns warnings about set-ups that load and run but invite a
// split brain or fail on this machine, for `heartbeat -t`: a network
// medium whose interface does not exist here (the daemon would refuse to
// start); a device whose every ucast target is an address of this machine
// (the daemon skips such lines, so nothing reaches the peer there); and a
// single heartbeat path with neither STONITH nor a watchdog. Each names
// the line and what to do. (auto_failback legacy is warned about by every
// load.) m may be nil: then only what needs no machine is checked.
func (c *Config) Advise(m Machine) []Diag {
	var out []Diag
	warn := func(pos Pos, format string, a ...any) {
		out = append(out, Diag{Pos: pos, Msg: fmt.Sprintf(format, a...)})
	}
	v, err := viewOf(m)
	if err != nil {
		warn(Pos{File: c.Source}, "cannot list this machine's network interfaces (%v): the interface and address checks are skipped", err)
	}

	// One entry per device, in the order of first use.
	type device struct {
		first   Medium
		kinds   []string
		ucast   []Medium // ucast and ucast6 lines
		reaches bool     // some medium on it may reach the peer
	}
	var order []string
	devs := map[string]*device{}
	for _, md := range c.Media {
		d := devs[md.Dev]
		if d == nil {
			d = &device{first: md}
			devs[md.Dev] = d
			order = append(order, md.Dev)
		}
		d.kinds = append(d.kinds, md.Kind)
		switch md.Kind {
		case "ucast", "ucast6":
			d.ucast = append(d.ucast, md)
			if !v.known || !v.isLocal(md.Peer) {
				d.reaches = true
			}
		default:
			d.reaches = true
		}
	}

	var paths []string
	for _, name := range order {
		d := devs[name]
		if v.known && d.first.Kind != "serial" && !v.names[name] {
			warn(d.first.Pos, "%s %s: this machine has no network interface %s, so the daemon will not start with this line here: correct the name (ip link lists the interfaces) or remove the line",
				d.first.Kind, name, name)
		}
		if v.known && len(d.ucast) > 0 && len(d.ucast) == len(d.kinds) && !d.reaches {
			targets := make([]string, len(d.ucast))
			for i, u := range d.ucast {
				targets[i] = u.Peer
			}
			warn(d.ucast[0].Pos, "%s %s: every target (%s) is an address of this machine; the daemon skips such lines, so %s carries no heartbeat to the peer: add \"%s %s <peer address>\" (both nodes may share one file listing both addresses; each skips its own)",
				d.ucast[0].Kind, name, strings.Join(targets, ", "), name, d.ucast[0].Kind, name)
		}
		if d.reaches {
			paths = append(paths, name)
		}
	}

	_, fencing := c.StonithDevice()
	switch {
	case len(c.Media) > 0 && len(paths) == 0:
		warn(Pos{File: c.Source}, "no heartbeat medium reaches the peer from this machine, so the daemon will not start here: add a medium to the peer")
	case len(paths) == 1 && !fencing && c.Watchdog == "":
		d := devs[paths[0]]
		warn(d.first.Pos, "%s is the only heartbeat path and there is neither STONITH nor a watchdog: if this one path fails, both nodes take over the resources (split brain); add a second medium over an independent network or a serial cable, and configure stonith or a watchdog",
			paths[0])
	}
	return out
}
