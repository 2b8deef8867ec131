package cli

import (
	"strings"
	"testing"
	"time"

	"github.com/hasuite/hasuite/heartbeat/api"
)

// hactl status shows ping nodes as nodes of type ping, and how many answer.
func TestWriteStatusPingNodes(t *testing.T) {
	st := &api.Status{Managed: "haresources", Resources: "all", Core: api.Snapshot{Node: "node1", State: "active", CommUp: true,
		Nodes: []api.NodeSnapshot{
			{Name: "node1", Type: "normal", State: "active", Local: true},
			{Name: "198.18.0.254", Type: "ping", State: "ping", LastHeard: 300 * time.Millisecond,
				Links: []api.LinkSnapshot{{Name: "198.18.0.254", State: "up", LastHeard: 300 * time.Millisecond, Packets: 12}}},
			{Name: "gws", Type: "ping", State: "dead", LastHeard: -1, Links: []api.LinkSnapshot{{Name: "gws", State: "dead", LastHeard: -1}}},
		}},
		Reach: &api.Reach{Alive: 1, Total: 2}}
	var b strings.Builder
	if err := WriteStatus(&b, st); err != nil {
		t.Fatal(err)
	}
	out := b.String()
	for _, want := range []string{"198.18.0.254 [ping]", "gws [ping]", "(ping nodes answering: 1 of 2)"} {
		if !strings.Contains(out, want) {
			t.Errorf("hactl status lacks %q:\n%s", want, out)
		}
	}
}
