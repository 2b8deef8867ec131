package keepalived

import (
	"fmt"
	"strings"
	"testing"
)

// dump renders a tree as "file:line key args {children}" lines, indented.
func dump(ns []*Node, indent string, b *strings.Builder) {
	for _, n := range ns {
		fmt.Fprintf(b, "%s%d %s", indent, n.Pos.Line, n.Text())
		if n.Block {
			b.WriteString(" {")
		}
		b.WriteString("\n")
		dump(n.Children, indent+"  ", b)
	}
}

func TestParse(t *testing.T) {
	tests := []struct {
		name, in, want string
		diags          []string
	}{
		{"comments", "! Configuration File for keepalived\nglobal_defs { # the globals\n  router_id lb1 ! id\n}\n",
			"2 global_defs {\n  3 router_id lb1\n", nil},
		{"brace on next line", "vrrp_instance VI_1\n{\n  state MASTER\n  virtual_ipaddress\n  {\n    10.0.0.1/24 dev eth0\n  }\n}\n",
			"1 vrrp_instance VI_1 {\n  3 state MASTER\n  4 virtual_ipaddress {\n    6 10.0.0.1/24 dev eth0\n", nil},
		{"joined", "vrrp_instance VI_1{ state BACKUP\n virtual_ipaddress { 10.0.0.1 }}\n",
			"1 vrrp_instance VI_1 {\n  1 state BACKUP\n  2 virtual_ipaddress {\n    2 10.0.0.1\n", nil},
		{"quoted", "vrrp_script chk {\n script \"killall -0 haproxy\" # alive?\n interval 2\n}\n",
			"1 vrrp_script chk {\n  2 script killall -0 haproxy\n  3 interval 2\n", nil},
		{"continuation", "vrrp_instance A {\n  priority \\\n   100\n}\n", "1 vrrp_instance A {\n  2 priority 100\n", nil},
		{"crlf", "global_defs {\r\n router_id x\r\n}\r\n", "1 global_defs {\n  2 router_id x\n", nil},
		{"unmatched close", "}\nfoo bar\n", "2 foo bar\n", []string{"k.conf:1: '}' without a block to close"}},
		{"unclosed", "vrrp_instance A {\n state MASTER\n", "1 vrrp_instance A {\n  2 state MASTER\n",
			[]string{"k.conf:1: block vrrp_instance is not closed ('}' missing)"}},
		{"unterminated quote", "notify \"/bin/x\n", "1 notify /bin/x\n", []string{"k.conf:1: unterminated quoted string; it runs to the end of the line"}},
		{"brace alone", "{\n}\n", "1 { {\n", []string{"k.conf:1: '{' without a keyword before it"}},
		{"missing include", "include /nowhere/*.conf\n", "", []string{"k.conf:1: include /nowhere/*.conf: no file matches"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c := Parse(MapFS{}, "k.conf", []byte(tc.in))
			var b strings.Builder
			dump(c.Nodes, "", &b)
			if b.String() != tc.want {
				t.Errorf("tree:\n%s\nwant:\n%s", b.String(), tc.want)
			}
			var ds []string
			for _, d := range c.Diags {
				ds = append(ds, d.Error())
			}
			if strings.Join(ds, "\n") != strings.Join(tc.diags, "\n") {
				t.Errorf("diags %q, want %q", ds, tc.diags)
			}
		})
	}
}

func TestInclude(t *testing.T) {
	fs := MapFS{
		"/etc/keepalived/keepalived.conf": "global_defs {\n router_id a\n}\ninclude conf.d/*.conf\nvrrp_instance X {\n include inner.inc\n}\n",
		"/etc/keepalived/conf.d/2.conf":   "vrrp_script two {\n}\n",
		"/etc/keepalived/conf.d/1.conf":   "vrrp_script one {\n}\ninclude ../keepalived.conf\n",
		"/etc/keepalived/inner.inc":       "state BACKUP\n",
	}
	c, err := ParseFile(fs, "/etc/keepalived/keepalived.conf")
	if err != nil {
		t.Fatal(err)
	}
	var b strings.Builder
	for _, n := range c.Nodes {
		fmt.Fprintf(&b, "%s %s\n", n.Pos, n.Text())
		for _, ch := range n.Children {
			fmt.Fprintf(&b, "  %s %s\n", ch.Pos, ch.Text())
		}
	}
	want := "/etc/keepalived/keepalived.conf:1 global_defs\n  /etc/keepalived/keepalived.conf:2 router_id a\n" +
		"/etc/keepalived/conf.d/1.conf:1 vrrp_script one\n/etc/keepalived/conf.d/2.conf:1 vrrp_script two\n" +
		"/etc/keepalived/keepalived.conf:5 vrrp_instance X\n  /etc/keepalived/inner.inc:1 state BACKUP\n"
	if b.String() != want {
		t.Errorf("got:\n%s\nwant:\n%s", b.String(), want)
	}
	if len(c.Diags) != 1 || !strings.Contains(c.Diags[0].Error(), "conf.d/1.conf:3: include ../keepalived.conf: /etc/keepalived/keepalived.conf includes itself") {
		t.Errorf("diags: %v", c.Diags)
	}
	if _, err := ParseFile(fs, "/nope"); err == nil {
		t.Error("a missing main file is not an error")
	}
}
