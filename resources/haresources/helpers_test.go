package haresources

import (
	"fmt"
	"reflect"
	"strings"
	"testing"
)

// dump formats a resource with its pointed-to parts.
func dump(r Resource) string {
	s := fmt.Sprintf("%+v", r)
	if r.IP != nil {
		s += fmt.Sprintf(" IP=%+v", *r.IP)
	}
	if r.OCF != nil {
		s += fmt.Sprintf(" OCF=%+v", *r.OCF)
	}
	return s
}

// dumpGroups formats groups for failure messages.
func dumpGroups(gs []Group) string {
	var sb strings.Builder
	for _, g := range gs {
		fmt.Fprintf(&sb, "%s key=%q pos=%s\n", g.Node, g.Key, g.Pos)
		for _, r := range g.Resources {
			fmt.Fprintf(&sb, "\t%s\n", dump(r))
		}
	}
	return sb.String()
}

// withoutPos returns deep copies of groups with every Pos (and, if
// noTimeout, every Timeout) cleared, for comparing parses of different
// texts.
func withoutPos(gs []Group, noTimeout bool) []Group {
	out := make([]Group, len(gs))
	for i, g := range gs {
		g.Pos = Pos{}
		res := make([]Resource, len(g.Resources))
		for j, r := range g.Resources {
			r.Pos = Pos{}
			if noTimeout { // and the other options only the TOML form has
				r.Timeout, r.MonitorInterval, r.MonitorTimeout, r.Announce = 0, 0, 0, Announce{}
			}
			res[j] = r
		}
		g.Resources = res
		if noTimeout {
			g.Recovery = nil
		}
		out[i] = g
	}
	return out
}

// sameGroups reports whether a and b are equal apart from positions.
func sameGroups(a, b []Group, noTimeout bool) bool {
	return reflect.DeepEqual(withoutPos(a, noTimeout), withoutPos(b, noTimeout))
}

// render writes groups as a haresources file.
func render(gs []Group) string {
	var sb strings.Builder
	for _, g := range gs {
		sb.WriteString(g.String())
		sb.WriteByte('\n')
	}
	return sb.String()
}

func mustParse(t *testing.T, src string, nodes []string) []Group {
	t.Helper()
	gs, err := Parse(strings.NewReader(src), "haresources", nodes)
	if err != nil {
		t.Fatalf("Parse:\n%s\nerror: %v", src, err)
	}
	return gs
}

var twoNodes = []string{"node1", "node2"}
