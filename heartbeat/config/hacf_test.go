package config

import (
	"errors"
	"fmt"
	"reflect"
	"strings"
	"testing"
	"time"
)

func TestLineSyntax(t *testing.T) {
	in := "# comment line\r\n" +
		"\r\n" +
		"   \t\n" +
		"node a,b # trailing comment\r\n" +
		"keepalive 2\r\n" +
		"\tdeadtime\t20 \n" +
		"ucast eth0 198.18.0.2 # peer\n" +
		"warntime 5\rjunk after a bare CR is dropped\n"
	c, err := ParseHACF(strings.NewReader(in), "ha.cf")
	if err != nil {
		t.Fatal(err)
	}
	eq(t, "Keepalive", c.Keepalive, 2*time.Second)
	eq(t, "Deadtime", c.Deadtime, 20*time.Second)
	eq(t, "Warntime", c.Warntime, 5*time.Second)
	eq(t, "nodes", strings.Join(c.Nodes, " "), "a b")
	eq(t, "peer", c.Media[0].Peer, "198.18.0.2")
	eq(t, "Set[keepalive]", c.Set["keepalive"], Pos{File: "ha.cf", Line: 5})
}

func TestLongLine(t *testing.T) {
	in := base + "node " + strings.Repeat("x", maxLine) + "\n"
	_, err := ParseHACF(strings.NewReader(in), "ha.cf")
	wantDiag(t, err, "ha.cf", 3, "line longer than")
}

// TestOrderIndependence: udpport and baud apply to every medium wherever
// they appear, unlike Heartbeat.
func TestOrderIndependence(t *testing.T) {
	lines := []string{
		"node node1 node2",
		"ucast eth0 198.18.0.2",
		"bcast eth1",
		"serial /dev/ttyS0",
		"udpport 7000",
		"baud 38400",
		"deadtime 10",
		"keepalive 1",
		"auto_failback on",
	}
	parse := func(ls []string) *Config {
		t.Helper()
		c, err := ParseHACF(strings.NewReader(strings.Join(ls, "\n")), "ha.cf")
		if err != nil {
			t.Fatal(err)
		}
		return c
	}
	first := parse(lines)
	for _, m := range first.Media {
		if m.Kind != "serial" && m.Port != 7000 || m.Kind == "serial" && m.Baud != 38400 {
			t.Errorf("medium %+v did not get udpport/baud declared after it", m)
		}
	}
	reversed := append([]string(nil), lines...)
	for i, j := 0, len(reversed)-1; i < j; i, j = i+1, j-1 {
		reversed[i], reversed[j] = reversed[j], reversed[i]
	}
	second := parse(reversed)
	// Media keep their own relative order; reversing swaps them, so sort
	// by kind before comparing.
	a, b := stripPositions(first), stripPositions(second)
	byKind := func(ms []Medium) map[string]Medium {
		out := map[string]Medium{}
		for _, m := range ms {
			out[m.Kind] = m
		}
		return out
	}
	if !reflect.DeepEqual(byKind(a.Media), byKind(b.Media)) {
		t.Errorf("media differ:\n%+v\n%+v", a.Media, b.Media)
	}
	a.Media, b.Media = nil, nil
	if !reflect.DeepEqual(a, b) {
		t.Errorf("configs differ:\n%+v\n%+v", a, b)
	}
}

func TestWholeFileErrors(t *testing.T) {
	tests := []struct {
		name string
		in   string
		line int
		err  string
	}{
		{"no node", "ucast eth0 198.18.0.2\n", 0, "no node declared"},
		{"no medium", "node a\n", 0, "no heartbeat medium"},
		{"ping is not a medium", "node a\nping 198.18.0.1\n", 0, "no heartbeat medium"},
		{"too many nodes", "ucast eth0 198.18.0.2\nnode" + manyNodes(101) + "\n", 2, "at most 100 are allowed"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := ParseHACF(strings.NewReader(tc.in), "ha.cf")
			wantDiag(t, err, "ha.cf", tc.line, tc.err)
		})
	}
}

// manyNodes returns " n0 n1 ..." with n distinct names.
func manyNodes(n int) string {
	var b strings.Builder
	for i := range n {
		fmt.Fprintf(&b, " n%d", i)
	}
	return b.String()
}

// TestAllErrorsReported: every problem comes back at once, in line order.
func TestAllErrorsReported(t *testing.T) {
	in := "keepalive x\n" +
		"node node1\n" +
		"bogus 1\n" +
		"mcast eth0 1.2.3.4 694 1 0\n" +
		"udpport 0\n"
	_, err := ParseHACF(strings.NewReader(in), "ha.cf")
	var el ErrorList
	if !errors.As(err, &el) {
		t.Fatalf("got %v", err)
	}
	var lines []int
	for _, d := range el {
		lines = append(lines, d.Line)
	}
	want := []int{0, 1, 3, 4, 5} // "no medium" is about the whole file
	if !reflect.DeepEqual(lines, want) {
		t.Errorf("error lines %v, want %v:\n%v", lines, want, err)
	}
}

func TestDefaults(t *testing.T) {
	c := Defaults()
	want := Config{
		Dir: DefaultDir, Keepalive: time.Second, Deadtime: 30 * time.Second, Warntime: 15 * time.Second,
		Initdead: 30 * time.Second, Deadping: 30 * time.Second, PingInterval: time.Second, UDPPort: 694, Baud: 19200,
		AutoFailback: "legacy", Hopfudge: 1, MsgFmt: "classic", MaxRexmitDelay: 250 * time.Millisecond,
		GenMethod: "file", UUIDFrom: "file", Realtime: true, RTPrio: DefaultRTPrio, RTSCTS: true, FenceDelay: 5 * time.Second,
		Notify:  NotifyConfig{Timeout: DefaultNotifyTimeout, MailInterval: DefaultMailInterval, MailEvents: DefaultMailEvents},
		Metrics: Metrics{Required: true},
	}
	got := *c
	got.Set, got.params = nil, nil
	if !reflect.DeepEqual(got, want) {
		t.Errorf("Defaults() =\n%+v\nwant\n%+v", got, want)
	}
	// The parsed minimal file must agree with Defaults().
	p, err := ParseHACF(strings.NewReader(base), "ha.cf")
	if err != nil {
		t.Fatal(err)
	}
	pc := stripPositions(p)
	pc.Nodes, pc.Media, pc.Dir = nil, nil, DefaultDir
	got.Dir = DefaultDir
	if !reflect.DeepEqual(pc, got) {
		t.Errorf("parsed minimal config\n%+v\ndiffers from Defaults()\n%+v", pc, got)
	}
}
