package haresources

import (
	"reflect"
	"strings"
	"testing"
	"time"
)

func TestTOMLChecks(t *testing.T) {
	src := `[[group]]
node = "node1"
resources = ["198.18.0.100/24/eth0", "httpd"]

[[group.check]]
command = ["/usr/bin/killall", "-0", "httpd"]

[[group.check]]
name = "flag"
command = ["sh", "-c", "test ! -e /run/fail"]
interval = "200ms"
timeout = 0.1
fall = 2
rise = 3
weight = -2
user = "nobody:nogroup"

[[group]]
node = "node2"
resources = ["db"]
`
	gs := mustParseTOML(t, src)
	want := []Check{
		{Name: "killall", Command: []string{"/usr/bin/killall", "-0", "httpd"}, Interval: time.Second, Timeout: time.Second,
			Fall: 1, Rise: 1, Pos: Pos{File: "haresources.toml", Line: 5}},
		{Name: "flag", Command: []string{"sh", "-c", "test ! -e /run/fail"}, Interval: 200 * time.Millisecond,
			Timeout: 100 * time.Millisecond, Fall: 2, Rise: 3, Weight: -2, User: "nobody:nogroup", Pos: Pos{File: "haresources.toml", Line: 8}},
	}
	if !reflect.DeepEqual(gs[0].Checks, want) {
		t.Errorf("checks\n%+v\nwant\n%+v", gs[0].Checks, want)
	}
	if len(gs[1].Checks) != 0 {
		t.Errorf("a group without checks has %+v", gs[1].Checks)
	}
	if u, g := gs[0].Checks[1].UserGroup(); u != "nobody" || g != "nogroup" {
		t.Errorf("UserGroup %q %q", u, g)
	}
	// The timeout defaults to the interval.
	gs = mustParseTOML(t, "[[group]]\nnode = \"node1\"\nresources = [\"a\"]\n[[group.check]]\ncommand = [\"true\"]\ninterval = \"3s\"\n")
	if c := gs[0].Checks[0]; c.Timeout != 3*time.Second || c.Name != "true" {
		t.Errorf("defaults: %+v", c)
	}
}

func TestTOMLCheckErrors(t *testing.T) {
	head := "[[group]]\nnode = \"node1\"\nresources = [\"a\"]\n[[group.check]]\n"
	for _, tc := range []struct {
		name, body string
		want       []string
	}{
		{"command missing", "name = \"x\"\n", []string{`haresources.toml:4: group[0].check[0]: command is missing`}},
		{"command a string", "command = \"killall -0 httpd\"\n", []string{`haresources.toml:5: group[0].check[0].command: want a non-empty array of strings (the argv; no shell`}},
		{"command empty", "command = []\n", []string{`haresources.toml:5: group[0].check[0].command: want a non-empty array`}},
		{"command element a number", "command = [\"/bin/true\", 1]\n", []string{`haresources.toml:5: group[0].check[0].command[1]: want a string, have an integer`}},
		{"command empty program", "command = [\"\"]\n", []string{`haresources.toml:5: group[0].check[0].command[0]: empty program`}},
		{"bad name", "name = \"a b\"\ncommand = [\"true\"]\n", []string{`haresources.toml:5: group[0].check[0].name: want 1 to 64 letters`}},
		{"duplicate name", "command = [\"true\"]\n[[group.check]]\ncommand = [\"/bin/true\", \"x\"]\n",
			[]string{`haresources.toml:6: group[0].check[1]: a check named "true" is already in group[0].check[0]`}},
		{"interval short", "command = [\"true\"]\ninterval = \"1ms\"\n", []string{`haresources.toml:6: group[0].check[0].interval: at least 10ms`}},
		{"interval bad", "command = [\"true\"]\ninterval = \"often\"\n", []string{`haresources.toml:6: group[0].check[0].interval: "often" is not a duration`}},
		{"timeout zero", "command = [\"true\"]\ntimeout = 0\n", []string{`haresources.toml:6: group[0].check[0].timeout: 0 seconds is out of range`}},
		{"fall zero", "command = [\"true\"]\nfall = 0\n", []string{`haresources.toml:6: group[0].check[0].fall: want an integer from 1 to 1000`}},
		{"rise a string", "command = [\"true\"]\nrise = \"2\"\n", []string{`haresources.toml:6: group[0].check[0].rise: want an integer from 1 to 1000`}},
		{"weight too big", "command = [\"true\"]\nweight = 254\n", []string{`haresources.toml:6: group[0].check[0].weight: want an integer from -253 to 253`}},
		{"weight too small", "command = [\"true\"]\nweight = -254\n", []string{`haresources.toml:6: group[0].check[0].weight: want an integer from -253 to 253`}},
		{"user empty", "command = [\"true\"]\nuser = \"\"\n", []string{`haresources.toml:6: group[0].check[0].user: want a user name`}},
		{"user with empty group", "command = [\"true\"]\nuser = \"nobody:\"\n", []string{`haresources.toml:6: group[0].check[0].user: want a user name`}},
		{"unknown key", "command = [\"true\"]\nscript = \"x\"\n", []string{`haresources.toml:6: unknown key "group.check.script"`}},
	} {
		_, err := ParseTOML(strings.NewReader(head+tc.body), "haresources.toml", twoNodes)
		if err == nil {
			t.Errorf("%s: no error", tc.name)
			continue
		}
		for _, w := range tc.want {
			if !strings.Contains(err.Error(), w) {
				t.Errorf("%s: error\n%v\nlacks %q", tc.name, err, w)
			}
		}
	}
}
