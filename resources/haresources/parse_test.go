package haresources

import (
	"errors"
	"reflect"
	"strings"
	"testing"
	"testing/iotest"
)

func TestParseSeed(t *testing.T) {
	gs := mustParse(t, "node1 198.18.0.100/24/eth0 httpd\n", twoNodes)
	want := []Group{{
		Key:  "198.18.0.100/24/eth0",
		Node: "node1",
		Pos:  Pos{File: "haresources", Line: 1},
		Resources: []Resource{
			{Raw: "198.18.0.100/24/eth0", Kind: KindIP, Type: "IPaddr", Args: []string{"198.18.0.100/24/eth0"},
				IP: &IPSpec{Addr: "198.18.0.100", Bits: 24, Iface: "eth0"}, Pos: Pos{File: "haresources", Line: 1}},
			{Raw: "httpd", Kind: KindScript, Type: "httpd", Pos: Pos{File: "haresources", Line: 1}},
		},
	}}
	if !reflect.DeepEqual(gs, want) {
		t.Errorf("got\n%swant\n%s", dumpGroups(gs), dumpGroups(want))
	}
	if s := gs[0].String(); s != "node1 198.18.0.100/24/eth0 httpd" {
		t.Errorf("String() = %q", s)
	}
}

// line is a group as node, tokens and the line of each token.
type line struct {
	node  string
	toks  []string
	lines []int
}

func TestParseSyntax(t *testing.T) {
	tests := []struct {
		name string
		in   string
		want []line
	}{
		{"empty", "", nil},
		{"only comments and blanks", "# comment\n\n   \t\n  # indented comment\n", nil},
		{"comment after resources", "node1 httpd # the web server\n", []line{{"node1", []string{"httpd"}, []int{1}}}},
		{"comment glued to a word", "node1 httpd#web\n", []line{{"node1", []string{"httpd"}, []int{1}}}},
		{"blank runs and tabs", "\t node1 \t  10.0.0.1\t\thttpd   \n", []line{{"node1", []string{"10.0.0.1", "httpd"}, []int{1, 1}}}},
		{"no final newline", "node1 httpd", []line{{"node1", []string{"httpd"}, []int{1}}}},
		{"CRLF", "node1 httpd\r\nnode2 smb\r\n", []line{{"node1", []string{"httpd"}, []int{1}}, {"node2", []string{"smb"}, []int{2}}}},
		{"upper-case node", "NODE1 httpd\nNode2 smb\n", []line{{"node1", []string{"httpd"}, []int{1}}, {"node2", []string{"smb"}, []int{2}}}},
		{"continuation", "node1 10.0.0.1 \\\n    httpd \\\n    smb\nnode2 nfs\n",
			[]line{{"node1", []string{"10.0.0.1", "httpd", "smb"}, []int{1, 2, 3}}, {"node2", []string{"nfs"}, []int{4}}}},
		{"continuation with blanks after the backslash", "node1 httpd \\  \t\n  smb\n", []line{{"node1", []string{"httpd", "smb"}, []int{1, 2}}}},
		{"continuation then comment", "node1 httpd \\ # more below\n  smb # last\n", []line{{"node1", []string{"httpd", "smb"}, []int{1, 2}}}},
		{"continuation joins without a blank", "node1 htt\\\npd\n", []line{{"node1", []string{"httpd"}, []int{1}}}},
		{"node alone on the first line", "node1 \\\n  httpd\n", []line{{"node1", []string{"httpd"}, []int{2}}}},
		{"continued comment line ends the line", "node1 httpd \\\n# note\nnode2 smb\n",
			[]line{{"node1", []string{"httpd"}, []int{1}}, {"node2", []string{"smb"}, []int{3}}}},
		{"backslash at end of file", "node1 httpd \\", []line{{"node1", []string{"httpd"}, []int{1}}}},
		{"continued blank line", "node1 httpd \\\n\nnode2 smb\n",
			[]line{{"node1", []string{"httpd"}, []int{1}}, {"node2", []string{"smb"}, []int{3}}}},
		{"Heartbeat's doc example", `
# Example from Heartbeat's haresources
node1  10.0.0.170 Filesystem::/dev/sda1::/data1::ext2
node2  IPaddr::10.0.0.171 \
       httpd
`, []line{
			{"node1", []string{"10.0.0.170", "Filesystem::/dev/sda1::/data1::ext2"}, []int{3, 3}},
			{"node2", []string{"IPaddr::10.0.0.171", "httpd"}, []int{4, 5}}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			gs := mustParse(t, tt.in, twoNodes)
			var got []line
			for _, g := range gs {
				l := line{node: g.Node}
				for _, r := range g.Resources {
					l.toks = append(l.toks, r.Raw)
					l.lines = append(l.lines, r.Pos.Line)
					if r.Pos.File != "haresources" {
						t.Errorf("resource %q: file %q", r.Raw, r.Pos.File)
					}
				}
				if g.Key != g.Resources[0].Raw {
					t.Errorf("key %q, first resource %q", g.Key, g.Resources[0].Raw)
				}
				got = append(got, l)
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("got %+v\nwant %+v", got, tt.want)
			}
		})
	}
}

func TestParseGroupPos(t *testing.T) {
	gs := mustParse(t, "# x\n\nnode1 \\\n httpd\nnode2 smb\n", twoNodes)
	if gs[0].Pos.Line != 3 || gs[1].Pos.Line != 5 {
		t.Errorf("group lines %d, %d; want 3, 5", gs[0].Pos.Line, gs[1].Pos.Line)
	}
}

func TestParseErrors(t *testing.T) {
	tests := []struct {
		name string
		in   string
		errs []string // each "line: text"; all must appear, in order
	}{
		{"unknown node", "node1 httpd\nnode3 smb\n", []string{`haresources:2: unknown node "node3" (the cluster's nodes are node1, node2)`}},
		{"node without resources", "node1\n", []string{`haresources:1: node "node1" has no resources`}},
		{"node with only a comment", "node2 # httpd\n", []string{`haresources:1: node "node2" has no resources`}},
		{"bad node name", "node/1 httpd\n", []string{`haresources:1: node name "node/1"`}},
		{"duplicate key", "node1 10.0.0.1 httpd\nnode2 10.0.0.1 smb\n",
			[]string{`haresources:2: address 10.0.0.1 (resource "10.0.0.1") is already in group "10.0.0.1" at haresources:1`}},
		{"duplicate script key", "node1 httpd\nnode2 httpd\n",
			[]string{`haresources:2: resource "httpd" is already in group "httpd" at haresources:1`}},
		{"same address spelled differently", "node1 198.18.0.100/24/eth0 httpd\nnode2 smb IPaddr2::198.18.0.100/24\n",
			[]string{`haresources:2: address 198.18.0.100 (resource "IPaddr2::198.18.0.100/24") is already in group "198.18.0.100/24/eth0"`}},
		{"same IPv6 address spelled differently", "node1 2001:db8::1/64\nnode2 IPv6addr::2001:DB8:0::1\n",
			[]string{`haresources:2: address 2001:db8::1`}},
		{"resource twice in one group", "node1 10.0.0.1 httpd smb \\\n httpd\n",
			[]string{`haresources:2: resource "httpd" appears twice in group "10.0.0.1" (also at haresources:1)`}},
		{"non-key resource in two groups", "node1 10.0.0.1 nfs\nnode2 10.0.0.2 nfs\n",
			[]string{`haresources:2: resource "nfs" is already in group "10.0.0.1"`}},
		{"same script with the same arguments", "node1 a Filesystem::/dev/sda1::/d\nnode2 b Filesystem::/dev/sda1::/d\n",
			[]string{`haresources:2: resource "Filesystem::/dev/sda1::/d" is already in group "a"`}},
		{"OCF params in another order", "node1 ocf:heartbeat:Dummy::a=1::b=2\nnode2 ocf:heartbeat:Dummy::b=2::a=1\n",
			[]string{`haresources:2: resource "ocf:heartbeat:Dummy::b=2::a=1" is already in group`}},
		{"same Heartbeat OCF instance", "node1 OCF::Dummy::x\nnode2 OCF::Dummy::x\n",
			[]string{`haresources:2: resource "OCF::Dummy::x" is already in group`}},
		{"bad resource on a continued line", "node1 httpd \\\n\t  10.0.0.1/33\n",
			[]string{`haresources:2: resource "10.0.0.1/33": looks like an IPv4 address (Heartbeat's IPaddr shorthand) but prefix length 33 is out of range 1-32`}},
		{"backslash inside a line", "node1 a\\ b\n", []string{`haresources:1: resource "a\\": contains a backslash`}},
		{"control character", "node1 a\x01b\n", []string{`haresources:1: resource "a\x01b": contains the control character U+0001`}},
		{"every error is reported", "node3 httpd\nnode1 10.0.0.1/40\nnode2\nnode1 x y x\n", []string{
			`haresources:1: unknown node "node3"`,
			`haresources:2: resource "10.0.0.1/40"`,
			`haresources:3: node "node2" has no resources`,
			`haresources:4: resource "x" appears twice`,
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			gs, err := Parse(strings.NewReader(tt.in), "haresources", twoNodes)
			if err == nil {
				t.Fatalf("Parse succeeded with %d groups, want errors %q", len(gs), tt.errs)
			}
			if gs != nil {
				t.Errorf("Parse returned groups with an error")
			}
			lines := strings.Split(err.Error(), "\n")
			if len(lines) != len(tt.errs) {
				t.Errorf("got %d errors, want %d:\n%v", len(lines), len(tt.errs), err)
			}
			for i, want := range tt.errs {
				if i < len(lines) && !strings.HasPrefix(lines[i], want) {
					t.Errorf("error %d:\n got %s\nwant %s...", i, lines[i], want)
				}
			}
			for _, l := range lines {
				if !strings.HasPrefix(l, "haresources:") || strings.HasPrefix(l, "haresources: ") {
					t.Errorf("error %q does not name file:line", l)
				}
			}
		})
	}
}

func TestParseErrorType(t *testing.T) {
	_, err := Parse(strings.NewReader("node1 httpd\nnode9 smb\n"), "/etc/ha.d/haresources", twoNodes)
	var e *Error
	if !errors.As(err, &e) || e.Pos != (Pos{File: "/etc/ha.d/haresources", Line: 2}) {
		t.Fatalf("error %v: want an *Error at /etc/ha.d/haresources:2", err)
	}
}

func TestParseTooManyErrors(t *testing.T) {
	src := strings.Repeat("node9 httpd\n", 200)
	_, err := Parse(strings.NewReader(src), "hr", twoNodes)
	lines := strings.Split(err.Error(), "\n")
	if len(lines) != maxErrors+1 || !strings.HasSuffix(lines[maxErrors], "too many errors") {
		t.Errorf("%d error lines, last %q", len(lines), lines[len(lines)-1])
	}
}

func TestParseLimits(t *testing.T) {
	big := strings.Repeat("#", maxFile+1)
	if _, err := Parse(strings.NewReader(big), "hr", twoNodes); err == nil || !strings.HasPrefix(err.Error(), "hr: file is larger") {
		t.Errorf("oversized file: %v", err)
	}
	if _, err := Parse(iotest.ErrReader(errors.New("disk on fire")), "hr", twoNodes); err == nil || err.Error() != "hr: disk on fire" {
		t.Errorf("read error: %v", err)
	}
	if _, err := Parse(strings.NewReader("node9 x"), "", twoNodes); err == nil || !strings.HasPrefix(err.Error(), "haresources:1: ") {
		t.Errorf("default file name: %v", err)
	}
}

func TestParseNodes(t *testing.T) {
	// No nodes: any well-formed node name.
	gs := mustParse(t, "Alpha.example httpd\nbeta_2 smb\n", nil)
	if gs[0].Node != "alpha.example" || gs[1].Node != "beta_2" {
		t.Errorf("nodes %q %q", gs[0].Node, gs[1].Node)
	}
	// Nodes given in upper case still match.
	mustParse(t, "alpha httpd\n", []string{"ALPHA", "beta"})
}

func TestParseOCFInstances(t *testing.T) {
	src := "node1 10.0.0.1 ocf:heartbeat:Dummy::a=1\n" +
		"node2 10.0.0.2 ocf:heartbeat:Dummy::a=2 ocf:heartbeat:Dummy::a=3 ocf:pacemaker:Stateful OCF::Dummy::mine ocf:heartbeat:Dummy::a=4\n"
	gs := mustParse(t, src, twoNodes)
	var got []string
	for _, g := range gs {
		for _, r := range g.Resources {
			if r.OCF != nil {
				got = append(got, r.OCF.Instance)
			}
		}
	}
	want := []string{"Dummy_1", "Dummy_2", "Dummy_2_2", "Stateful_2", "mine", "Dummy_2_3"}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("instances %q, want %q", got, want)
	}
}

func TestGroupStringRoundTrip(t *testing.T) {
	src := `# all forms, untidy
NODE1   198.18.0.100/24/eth0   httpd   # seed
node2 IPaddr2::198.18.0.101/24/eth0:1/198.18.0.255 \
	Filesystem::/dev/drbd0::/srv::ext4 \
	ocf:heartbeat:Dummy::state=/run/d ocf:heartbeat:Dummy::state=/run/e \
	OCF::apache::web   MailTo::root@example.com::Failover
node1 2001:db8::10/64/eth0 IPv6addr::2001:db8::11 IPaddr::198.18.0.102 198.18.0.103/255.255.255.0
`
	gs := mustParse(t, src, twoNodes)
	if len(gs) != 3 {
		t.Fatalf("%d groups", len(gs))
	}
	out := render(gs)
	again := mustParse(t, out, twoNodes)
	if !sameGroups(gs, again, false) {
		t.Errorf("round trip differs:\n%s\nfirst\n%ssecond\n%s", out, dumpGroups(gs), dumpGroups(again))
	}
	if want := "node2 IPaddr2::198.18.0.101/24/eth0:1/198.18.0.255 Filesystem::/dev/drbd0::/srv::ext4 " +
		"ocf:heartbeat:Dummy::state=/run/d ocf:heartbeat:Dummy::state=/run/e OCF::apache::web MailTo::root@example.com::Failover"; gs[1].String() != want {
		t.Errorf("String() = %q", gs[1].String())
	}
	if s := (Group{Node: "node1"}).String(); s != "node1" {
		t.Errorf("empty group String() = %q", s)
	}
}
