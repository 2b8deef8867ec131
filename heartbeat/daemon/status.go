package daemon

import (
	"github.com/hasuite/hasuite/heartbeat/api"
	"github.com/hasuite/hasuite/heartbeat/core"
)

// apiSnapshot turns the core's view into the control API's status type.
func apiSnapshot(s core.Snapshot) api.Snapshot {
	out := api.Snapshot{
		Node: s.Node, State: s.State, Generation: s.Generation, UUID: s.UUID, LastSeq: s.LastSeq,
		CommUp: s.CommUp, Stopping: s.Stopping, FlowControl: s.FlowControl, Keepalive: s.Keepalive,
		Deadtime: s.Deadtime, Warntime: s.Warntime, Initdead: s.Initdead, Uptime: s.Uptime,
		Counters: api.Counters(s.Counters),
	}
	for _, n := range s.Nodes {
		an := api.NodeSnapshot{
			Name: n.Name, Type: n.Type, State: n.State, Local: n.Local, Deadtime: n.Deadtime,
			LastHeard: n.LastHeard, Generation: n.Generation, LastSeq: n.LastSeq, Missing: n.Missing,
			Counters: api.PeerCounters(n.Counters),
		}
		for _, l := range n.Links {
			an.Links = append(an.Links, api.LinkSnapshot(l))
		}
		out.Nodes = append(out.Nodes, an)
	}
	return out
}
