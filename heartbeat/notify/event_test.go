package notify

import (
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/hasuite/hasuite/heartbeat/config"
	"github.com/hasuite/hasuite/heartbeat/core"
	"github.com/hasuite/hasuite/heartbeat/node"
	"github.com/hasuite/hasuite/resources/manager"
)

func TestFromNode(t *testing.T) {
	at := time.Date(2026, 12, 7, 21, 0, 0, 123e6, time.UTC)
	pref := func(g string) string {
		if g == "g1" {
			return "node1"
		}
		return "node2"
	}
	c := Context{Local: "node1", Preferred: pref, Time: at}
	stopping := c
	stopping.Stopping = true
	gs := func(g string, from, to manager.GroupState) node.Event {
		return node.Event{Kind: node.GroupState, Group: g, GroupFrom: from, GroupTo: to}
	}
	tests := []struct {
		name string
		in   node.Event
		ctx  Context
		want string // name node group link reason | args (or "-" for not reported)
	}{
		{"peer dead by timeout", node.Event{Kind: node.NodeDead, Node: "node2", NodeTo: core.Dead, Cause: core.CauseTimeout}, c, "node-dead node2 - - timeout |"},
		{"peer stopped", node.Event{Kind: node.NodeDead, Node: "node2", Cause: core.CauseShutdown}, c, "node-dead node2 - - shutdown |"},
		{"peer up", node.Event{Kind: node.NodeState, Node: "node2", NodeFrom: core.Dead, NodeTo: core.Active}, c, "node-up node2 - - active |"},
		{"peer up from init", node.Event{Kind: node.NodeState, Node: "node2", NodeFrom: core.Init, NodeTo: core.Up}, c, "node-up node2 - - up |"},
		{"peer up to active", node.Event{Kind: node.NodeState, Node: "node2", NodeFrom: core.Up, NodeTo: core.Active}, c, "-"},
		{"local state", node.Event{Kind: node.NodeState, Node: "node1", NodeFrom: core.Init, NodeTo: core.Active}, c, "-"},
		{"link dead", node.Event{Kind: node.LinkDead, Node: "node2", Link: "eth1", Detail: "1 of 2 paths up"}, c, "link-dead node2 - eth1 1 of 2 paths up |"},
		{"link up", node.Event{Kind: node.LinkUp, Node: "node2", Link: "eth1", Detail: "2 of 2 paths up"}, c, "link-up node2 - eth1 2 of 2 paths up |"},
		{"starting", gs("g1", manager.Stopped, manager.Starting), c, "group-starting node1 g1 - - |"},
		{"active, preferred", gs("g1", manager.Starting, manager.Running), c, "group-active node1 g1 - - | GROUP g1 MASTER 100"},
		{"active, not preferred", gs("g2", manager.Starting, manager.Running), c, "group-active node1 g2 - - | GROUP g2 MASTER 50"},
		{"stopping", gs("g2", manager.Running, manager.Stopping), c, "group-stopping node1 g2 - - |"},
		{"stopped", gs("g2", manager.Stopping, manager.Stopped), c, "group-stopped node1 g2 - - | GROUP g2 BACKUP 50"},
		{"stopped at exit", gs("g1", manager.Stopping, manager.Stopped), stopping, "group-stopped node1 g1 - daemon stopping | GROUP g1 STOP 100"},
		{"stopped after a failed start", gs("g1", manager.Starting, manager.Stopped), c, "group-stopped node1 g1 - start failed |"},
		{"stop-failed state", gs("g1", manager.Stopping, manager.StopFailed), c, "-"},
		{"start failed", node.Event{Kind: node.GroupStartFailed, Group: "g1", Detail: "start failed: boom"}, c, "group-failed node1 g1 - start failed: boom | GROUP g1 FAULT 100"},
		{"stop failed", node.Event{Kind: node.GroupStopFailed, Group: "g2", Detail: "stop failed"}, c, "group-failed node1 g2 - stop failed | GROUP g2 FAULT 50"},
		{"standby", node.Event{Kind: node.StandbyStarted, Move: manager.MoveAutoFailback}, c, "standby node1 - - auto_failback |"},
		{"takeover", node.Event{Kind: node.TakeoverAsked, Move: manager.MoveOperator}, c, "takeover node1 - - operator |"},
		{"fence started", node.Event{Kind: node.FenceStarted, Node: "node2"}, c, "fence-started node2 - - - |"},
		{"fence ok", node.Event{Kind: node.FenceOK, Node: "node2", Took: 1234567 * time.Microsecond}, c, "fence-ok node2 - - took 1.235s |"},
		{"fence failed", node.Event{Kind: node.FenceFailed, Node: "node2", Err: errors.New("plugin said no")}, c, "fence-failed node2 - - plugin said no |"},
		{"partition return", node.Event{Kind: node.PartitionReturn, Node: "node2"}, c, "split-brain node2 - - partition-return |"},
		{"dual ownership", node.Event{Kind: node.SplitBrain}, c, "split-brain node1 - - dual-ownership |"},
		{"healed", node.Event{Kind: node.SplitBrainHealed}, c, "split-brain-healed node1 - - each group has one owner |"},
		{"decision", node.Event{Kind: node.Decision, Detail: "x"}, c, "-"},
		{"late heartbeat", node.Event{Kind: node.LateHeartbeat, Node: "node2"}, c, "-"},
	}
	dash := func(s string) string {
		if s == "" {
			return "-"
		}
		return s
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			e, ok := FromNode(tc.in, tc.ctx)
			got := "-"
			if ok {
				got = strings.Join([]string{e.Name, dash(e.Node), dash(e.Group), dash(e.Link), dash(e.Reason), "|"}, " ")
				if a := e.GroupArgs(); a != nil {
					got += " " + strings.Join(a, " ")
				}
				if !slices.Contains(config.EventNames, e.Name) {
					t.Errorf("%s is not in config.EventNames", e.Name)
				}
				if !e.Time.Equal(at) {
					t.Errorf("time %v", e.Time)
				}
			}
			if got != tc.want {
				t.Errorf("got  %q\nwant %q", got, tc.want)
			}
		})
	}
}

func TestEnv(t *testing.T) {
	e := Event{Name: "group-active", Node: "node1", Group: "198.18.0.100/24/eth0", Reason: "",
		Time: time.Date(2026, 12, 7, 21, 0, 0, 5e6, time.FixedZone("", 3600)), State: Master, Score: 100}
	want := []string{"PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin", "HA_EVENT=group-active", "HA_NODE=node1",
		"HA_GROUP=198.18.0.100/24/eth0", "HA_LINK=", "HA_REASON=", "HA_TIME=2026-12-07T21:00:00.005+01:00"}
	if got := e.Env(); !slices.Equal(got, want) {
		t.Errorf("Env\n%q\nwant\n%q", got, want)
	}
}

func TestHookArgs(t *testing.T) {
	h := &Hooks{hooks: []config.HookSpec{
		{Argv: []string{"/g1", "x"}},
		{When: "master", Argv: []string{"/m", "y"}},
		{When: "backup", Argv: []string{"/b"}},
		{When: "fault", Argv: []string{"/f"}},
		{When: "stop", Argv: []string{"/s"}},
		{Argv: []string{"/g2"}},
	}}
	tests := []struct {
		e    Event
		want string
	}{
		{Event{Name: "group-active", Group: "g1", State: Master, Score: 100}, "/m y; /g1 x GROUP g1 MASTER 100; /g2 GROUP g1 MASTER 100"},
		{Event{Name: "group-stopped", Group: "g1", State: Backup, Score: 50}, "/b; /g1 x GROUP g1 BACKUP 50; /g2 GROUP g1 BACKUP 50"},
		{Event{Name: "group-failed", Group: "g1", State: Fault, Score: 50}, "/f; /g1 x GROUP g1 FAULT 50; /g2 GROUP g1 FAULT 50"},
		{Event{Name: "group-stopped", Group: "g1", State: Stop, Score: 100}, "/s; /g1 x GROUP g1 STOP 100; /g2 GROUP g1 STOP 100"},
		{Event{Name: "node-dead", Node: "node2"}, "/g1 x; /g2"},
		{Event{Name: "group-starting", Group: "g1"}, "/g1 x; /g2"},
	}
	for _, tc := range tests {
		var parts []string
		for _, a := range h.For(tc.e) {
			parts = append(parts, strings.Join(a, " "))
		}
		if got := strings.Join(parts, "; "); got != tc.want {
			t.Errorf("%s %s: got %q, want %q", tc.e.Name, tc.e.State, got, tc.want)
		}
	}
}
