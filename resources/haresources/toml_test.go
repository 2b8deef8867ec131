package haresources

import (
	"reflect"
	"strings"
	"testing"
	"time"
)

const plainForm = `node1 198.18.0.100/24/eth0 httpd
node2 IPaddr2::198.18.0.101/24/eth0:1/198.18.0.255 Filesystem::/dev/drbd0::/srv::ext4 \
      ocf:heartbeat:Dummy::state=/run/d OCF::apache::web
node1 2001:db8::10/64/eth0 MailTo::root@example.com::Failover
`

const tomlForm = `# the same groups as plainForm
[[group]]
node = "node1"
resources = ["198.18.0.100/24/eth0", "httpd"]

[[group]]
node = "NODE2"
resources = [
  "IPaddr2::198.18.0.101/24/eth0:1/198.18.0.255",
  "Filesystem::/dev/drbd0::/srv::ext4",   # a comment, "quoted" [brackets]
  'ocf:heartbeat:Dummy::state=/run/d',
  """OCF::apache::web""",
]

[[group]]
node = "node1"
resources = ["2001:db8::10/64/eth0", "MailTo::root@example.com::Failover"]
`

func mustParseTOML(t *testing.T, src string) []Group {
	t.Helper()
	gs, err := ParseTOML(strings.NewReader(src), "haresources.toml", twoNodes)
	if err != nil {
		t.Fatalf("ParseTOML:\n%s\nerror: %v", src, err)
	}
	return gs
}

func TestTOMLEquivalence(t *testing.T) {
	plain := mustParse(t, plainForm, twoNodes)
	tm := mustParseTOML(t, tomlForm)
	if !sameGroups(plain, tm, false) {
		t.Errorf("forms differ:\nplain\n%stoml\n%s", dumpGroups(plain), dumpGroups(tm))
	}
	// The TOML groups written as haresources parse to the same groups.
	if again := mustParse(t, render(tm), twoNodes); !sameGroups(tm, again, false) {
		t.Errorf("TOML groups do not round-trip through String")
	}
}

func TestTOMLPositions(t *testing.T) {
	gs := mustParseTOML(t, tomlForm)
	var got [][]int
	for _, g := range gs {
		lines := []int{g.Pos.Line}
		for _, r := range g.Resources {
			lines = append(lines, r.Pos.Line)
			if r.Pos.File != "haresources.toml" {
				t.Errorf("file %q", r.Pos.File)
			}
		}
		got = append(got, lines)
	}
	want := [][]int{{2, 4, 4}, {6, 9, 10, 11, 12}, {15, 17, 17}}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("group and resource lines %v, want %v", got, want)
	}
}

func TestTOMLOptions(t *testing.T) {
	src := `
[[group]]
node = "node1"
resources = ["198.18.0.100/24/eth0", "httpd", "smb", "nfs"]
timeout = "1m"

[[group.resource_options]]
resource = "httpd"
timeout = "30s"

[[group.resource_options]]
resource = 3
timeout = 90

[[group]]
node = "node2"
resources = ["10.0.0.1", "db"]
resource_options = [{resource = 1, timeout = 2.5}, {resource = "10.0.0.1", timeout = "15"}]
`
	gs := mustParseTOML(t, src)
	var got []time.Duration
	for _, g := range gs {
		for _, r := range g.Resources {
			got = append(got, r.Timeout)
		}
	}
	want := []time.Duration{time.Minute, 30 * time.Second, time.Minute, 90 * time.Second, 15 * time.Second, 2500 * time.Millisecond}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("timeouts %v, want %v", got, want)
	}
}

func TestTOMLMonitorAndRecovery(t *testing.T) {
	src := `
[[group]]
node = "node1"
resources = ["198.18.0.100/24/eth0", "httpd", "ocf:heartbeat:Dummy"]
timeout = "1m"
restarts = 2
restart_window = "5m"

[[group.resource_options]]
resource = "httpd"
monitor_interval = "2s"
monitor_timeout = 1.5

[[group.resource_options]]
resource = 0
monitor_interval = 1
garp_count = 2

[[group]]
node = "node2"
resources = ["db"]
restarts = 0

[[group]]
node = "node2"
resources = ["web"]
restart_window = 60

[[group]]
node = "node1"
resources = ["mail"]
`
	gs := mustParseTOML(t, src)
	type mon struct{ interval, timeout time.Duration }
	var got []mon
	for _, r := range gs[0].Resources {
		got = append(got, mon{r.MonitorInterval, r.MonitorTimeout})
	}
	want := []mon{{time.Second, 0}, {2 * time.Second, 1500 * time.Millisecond}, {0, 0}}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("monitor settings %v, want %v", got, want)
	}
	if gs[0].Resources[0].Announce.Count != 2 {
		t.Errorf("garp_count next to monitor_interval lost: %+v", gs[0].Resources[0].Announce)
	}
	recs := []Recovery{
		{Restarts: 2, Window: 5 * time.Minute},
		{Restarts: 0, Window: DefaultRestartWindow},
		{Restarts: DefaultRestarts, Window: time.Minute},
		{Restarts: DefaultRestarts, Window: DefaultRestartWindow},
	}
	for i, g := range gs {
		if r := RecoveryOf(g); r != recs[i] {
			t.Errorf("group %d: recovery %+v, want %+v", i, r, recs[i])
		}
	}
	if gs[3].Recovery != nil {
		t.Errorf("a group without restarts or restart_window should keep Recovery nil (the defaults)")
	}
	// The plain form has no room for them: defaults.
	if r := RecoveryOf(mustParse(t, "node1 httpd\n", twoNodes)[0]); r != (Recovery{DefaultRestarts, DefaultRestartWindow}) {
		t.Errorf("plain haresources recovery %+v", r)
	}
}

func TestTOMLEmpty(t *testing.T) {
	for _, src := range []string{"", "# nothing\n", "group = []\n"} {
		if gs := mustParseTOML(t, src); len(gs) != 0 {
			t.Errorf("%q: %d groups", src, len(gs))
		}
	}
}

func TestTOMLErrors(t *testing.T) {
	tests := []struct {
		name string
		in   string
		errs []string
	}{
		{"syntax", "[[group]]\nnode = 1 2\n", []string{"haresources.toml:2: "}},
		{"unterminated string", "[[group]]\nnode = \"node1\nresources = []\n", []string{"haresources.toml:2: "}},
		{"unknown top-level key", "nodes = 1\n", []string{`haresources.toml:1: unknown key "nodes"`}},
		{"unknown group key", "[[group]]\nnode = \"node1\"\nresources = [\"a\"]\ncolour = \"red\"\n",
			[]string{`haresources.toml:4: unknown key "group.colour"`}},
		{"unknown option key", "[[group]]\nnode = \"node1\"\nresources = [\"a\"]\n[[group.resource_options]]\nresource = \"a\"\nretries = 3\n",
			[]string{`haresources.toml:6: unknown key "group.resource_options.retries"`}},
		{"group not an array", "group = 3\n", []string{"haresources.toml:1: group: want [[group]] tables"}},
		{"group a table", "[group]\nnode = \"node1\"\n", []string{"haresources.toml:1: group: want [[group]] tables"}},
		{"options not tables", "[[group]]\nnode = \"node1\"\nresources = [\"a\"]\nresource_options = 1\n", []string{"haresources.toml:4: group.resource_options: want [[group.resource_options]] tables"}},
		{"node missing", "[[group]]\nresources = [\"a\"]\n", []string{`haresources.toml:1: group[0]: node is missing`}},
		{"node not a string", "[[group]]\nnode = 1\nresources = [\"a\"]\n", []string{`haresources.toml:2: group[0].node: want a string, have an integer`}},
		{"node a float", "[[group]]\nnode = 1.5\nresources = [\"a\"]\n", []string{`haresources.toml:2: group[0].node: want a string, have a float`}},
		{"node an array", "[[group]]\nnode = [\"node1\"]\nresources = [\"a\"]\n", []string{`haresources.toml:2: group[0].node: want a string, have an array`}},
		{"node a date", "[[group]]\nnode = 1979-05-27\nresources = [\"a\"]\n", []string{`haresources.toml:2: group[0].node: want a string, have a date or time`}},
		{"node empty", "[[group]]\nnode = \"\"\nresources = [\"a\"]\n", []string{`haresources.toml:2: empty node name`}},
		{"node with escapes", "[[group]]\nnode = \"node\\u0031\\\"\"\nresources = [\"a\"]\n", []string{`haresources.toml:2: node name "node1\""`}},
		{"unknown node", "[[group]]\nnode = \"node3\"\nresources = [\"a\"]\n", []string{`haresources.toml:2: unknown node "node3" (the cluster's nodes are node1, node2)`}},
		{"node with a blank", "[[group]]\nnode = \"node 1\"\nresources = [\"a\"]\n", []string{`haresources.toml:2: node name "node 1"`}},
		{"resources missing", "[[group]]\nnode = \"node1\"\n", []string{`haresources.toml:1: group[0]: resources is missing`}},
		{"resources empty", "[[group]]\nnode = \"node1\"\nresources = []\n", []string{`haresources.toml:3: group[0].resources: want a non-empty array`}},
		{"resources a table", "[[group]]\nnode = \"node1\"\nresources = {a = 1}\n", []string{`haresources.toml:3: group[0].resources: want a non-empty array`}},
		{"resources a string", "[[group]]\nnode = \"node1\"\nresources = \"httpd\"\n", []string{`haresources.toml:3: group[0].resources: want a non-empty array`}},
		{"resource not a string", "[[group]]\nnode = \"node1\"\nresources = [\n  \"a\",\n  7,\n]\n", []string{`haresources.toml:5: group[0].resources[1]: want a string, have an integer`}},
		{"two words in one resource", "[[group]]\nnode = \"node1\"\nresources = [\"httpd smb\"]\n", []string{`haresources.toml:3: resource "httpd smb": contains a blank`}},
		{"bad resource", "[[group]]\nnode = \"node1\"\nresources = [\n\"a\",\n\"10.0.0.1/99\"]\n", []string{`haresources.toml:5: resource "10.0.0.1/99"`}},
		{"duplicate across groups", "[[group]]\nnode = \"node1\"\nresources = [\"10.0.0.1\"]\n[[group]]\nnode = \"node2\"\nresources = [\"IPaddr::10.0.0.1/8\"]\n",
			[]string{`haresources.toml:6: address 10.0.0.1 (resource "IPaddr::10.0.0.1/8") is already in group "10.0.0.1" at haresources.toml:3`}},
		{"option without resource", "[[group]]\nnode = \"node1\"\nresources = [\"a\"]\n[[group.resource_options]]\ntimeout = \"1s\"\n",
			[]string{`haresources.toml:4: group[0].resource_options[0]: resource is missing`}},
		{"option for an unknown token", "[[group]]\nnode = \"node1\"\nresources = [\"a\"]\n[[group.resource_options]]\nresource = \"b\"\n",
			[]string{`haresources.toml:5: group[0].resource_options[0].resource: the group has no resource "b"`}},
		{"option index out of range", "[[group]]\nnode = \"node1\"\nresources = [\"a\"]\n[[group.resource_options]]\nresource = 1\n",
			[]string{`haresources.toml:5: group[0].resource_options[0].resource: index 1 is out of range`}},
		{"option index negative", "[[group]]\nnode = \"node1\"\nresources = [\"a\"]\n[[group.resource_options]]\nresource = -1\n",
			[]string{`haresources.toml:5: group[0].resource_options[0].resource: index -1 is out of range`}},
		{"option resource a bool", "[[group]]\nnode = \"node1\"\nresources = [\"a\"]\n[[group.resource_options]]\nresource = true\n",
			[]string{`haresources.toml:5: group[0].resource_options[0].resource: want a resource string or an index, have a boolean`}},
		{"options twice for one resource", "[[group]]\nnode = \"node1\"\nresources = [\"a\", \"b\"]\n[[group.resource_options]]\nresource = \"b\"\n[[group.resource_options]]\nresource = 1\n",
			[]string{`haresources.toml:6: group[0].resource_options[1]: resource 1 ("b") already has options in group[0].resource_options[0]`}},
		{"bad timeout", "[[group]]\nnode = \"node1\"\nresources = [\"a\"]\n[[group.resource_options]]\nresource = \"a\"\ntimeout = \"soon\"\n",
			[]string{`haresources.toml:6: group[0].resource_options[0].timeout: "soon" is not a duration`}},
		{"zero timeout", "[[group]]\nnode = \"node1\"\nresources = [\"a\"]\ntimeout = 0\n", []string{`haresources.toml:4: group[0].timeout: 0 seconds is out of range`}},
		{"negative timeout", "[[group]]\nnode = \"node1\"\nresources = [\"a\"]\ntimeout = \"-1s\"\n", []string{`haresources.toml:4: group[0].timeout: timeout -1s is out of range`}},
		{"huge timeout", "[[group]]\nnode = \"node1\"\nresources = [\"a\"]\ntimeout = 1e300\n", []string{`haresources.toml:4: group[0].timeout: 1e+300 seconds is out of range`}},
		{"nan timeout", "[[group]]\nnode = \"node1\"\nresources = [\"a\"]\ntimeout = nan\n", []string{`haresources.toml:4: group[0].timeout: NaN seconds is out of range`}},
		{"timeout a string number with exponent", "[[group]]\nnode = \"node1\"\nresources = [\"a\"]\ntimeout = \"1e3\"\n", []string{`haresources.toml:4: group[0].timeout: "1e3" is not a duration`}},
		{"timeout a bool", "[[group]]\nnode = \"node1\"\nresources = [\"a\"]\ntimeout = true\n", []string{`haresources.toml:4: group[0].timeout: want a duration string or a number of seconds, have a boolean`}},
		{"bad monitor_interval", "[[group]]\nnode = \"node1\"\nresources = [\"a\"]\n[[group.resource_options]]\nresource = 0\nmonitor_interval = \"often\"\n",
			[]string{`haresources.toml:6: group[0].resource_options[0].monitor_interval: "often" is not a duration`}},
		{"monitor_interval too short", "[[group]]\nnode = \"node1\"\nresources = [\"a\"]\n[[group.resource_options]]\nresource = 0\nmonitor_interval = \"10ms\"\n",
			[]string{`haresources.toml:6: group[0].resource_options[0].monitor_interval: at least 100ms`}},
		{"monitor_timeout zero", "[[group]]\nnode = \"node1\"\nresources = [\"a\"]\n[[group.resource_options]]\nresource = 0\nmonitor_timeout = 0\n",
			[]string{`haresources.toml:6: group[0].resource_options[0].monitor_timeout: 0 seconds is out of range`}},
		{"monitor_timeout a bool", "[[group]]\nnode = \"node1\"\nresources = [\"a\"]\n[[group.resource_options]]\nresource = 0\nmonitor_timeout = true\n",
			[]string{`haresources.toml:6: group[0].resource_options[0].monitor_timeout: want a duration string or a number of seconds, have a boolean`}},
		{"monitor option of an unknown resource", "[[group]]\nnode = \"node1\"\nresources = [\"a\"]\n[[group.resource_options]]\nresource = \"b\"\nmonitor_interval = \"1ms\"\n",
			[]string{`haresources.toml:5: group[0].resource_options[0].resource: the group has no resource "b"`,
				`haresources.toml:6: group[0].resource_options[0].monitor_interval: at least 100ms`}},
		{"restarts negative", "[[group]]\nnode = \"node1\"\nresources = [\"a\"]\nrestarts = -1\n",
			[]string{`haresources.toml:4: group[0].restarts: want an integer from 0 to 1000`}},
		{"restarts a string", "[[group]]\nnode = \"node1\"\nresources = [\"a\"]\nrestarts = \"3\"\n",
			[]string{`haresources.toml:4: group[0].restarts: want an integer from 0 to 1000`}},
		{"restarts too many", "[[group]]\nnode = \"node1\"\nresources = [\"a\"]\nrestarts = 1001\n",
			[]string{`haresources.toml:4: group[0].restarts: want an integer from 0 to 1000`}},
		{"restart_window bad", "[[group]]\nnode = \"node1\"\nresources = [\"a\"]\nrestart_window = \"a while\"\n",
			[]string{`haresources.toml:4: group[0].restart_window: "a while" is not a duration`}},
		{"restart_window short", "[[group]]\nnode = \"node1\"\nresources = [\"a\"]\nrestart_window = \"500ms\"\n",
			[]string{`haresources.toml:4: group[0].restart_window: at least 1s`}},
		{"restarts in resource_options", "[[group]]\nnode = \"node1\"\nresources = [\"a\"]\n[[group.resource_options]]\nresource = 0\nrestarts = 2\n",
			[]string{`haresources.toml:6: unknown key "group.resource_options.restarts"`}},
		{"errors in several groups", "[[group]]\nnode = \"node9\"\nresources = [\"a\"]\n\n[[group]]\nnode = \"node1\"\nresources = [\"IPaddr\"]\n", []string{
			`haresources.toml:2: unknown node "node9"`,
			`haresources.toml:7: resource "IPaddr": IPaddr needs an address`,
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			gs, err := ParseTOML(strings.NewReader(tt.in), "haresources.toml", twoNodes)
			if err == nil {
				t.Fatalf("ParseTOML succeeded with %d groups, want %q", len(gs), tt.errs)
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
		})
	}
}

func TestTOMLAnnounceOptions(t *testing.T) {
	base := "[[group]]\nnode = \"node1\"\nresources = [\"198.18.0.100/24/eth0\", \"httpd\"]\n[[group.resource_options]]\n"
	tests := []struct {
		name, opts, err string
		want            Announce
	}{
		{"all three", "resource = 0\ngarp_count = 3\ngarp_interval = \"50ms\"\ngarp_refresh = \"10s\"\n", "",
			Announce{Count: 3, Interval: 50 * time.Millisecond, Refresh: 10 * time.Second}},
		{"count range", "resource = 0\ngarp_count = 0\n", "garp_count: want an integer from 1 to 100", Announce{}},
		{"interval too short", "resource = 0\ngarp_interval = \"10us\"\n", "garp_interval: at least 1ms", Announce{}},
		{"not an ip", "resource = \"httpd\"\ngarp_count = 2\n", "apply to virtual IPs only", Announce{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			groups, err := ParseTOML(strings.NewReader(base+tt.opts), "haresources.toml", []string{"node1", "node2"})
			if tt.err != "" {
				if err == nil || !strings.Contains(err.Error(), tt.err) || !strings.Contains(err.Error(), "haresources.toml:") {
					t.Fatalf("err %v, want %q with file:line", err, tt.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if got := groups[0].Resources[0].Announce; got != tt.want {
				t.Fatalf("announce %+v, want %+v", got, tt.want)
			}
		})
	}
}

// TestTOMLSuggestions: a misspelt key of haresources.toml is answered with
// the nearest key of the same table. A setting of ha.cf (keeplive) has no
// near key here and gets none.
func TestTOMLSuggestions(t *testing.T) {
	const group = "[[group]]\nnode = \"node1\"\n"
	tests := []struct {
		name, in, want string
	}{
		{"resources", group + "resorces = [\"a\"]\n", `haresources.toml:3: unknown key "group.resorces" (did you mean "group.resources"?)`},
		{"timeout", group + "resources = [\"a\"]\ntimout = \"30s\"\n", `haresources.toml:4: unknown key "group.timout" (did you mean "group.timeout"?)`},
		{"garp_count", group + "resources = [\"198.18.0.100\"]\n[[group.resource_options]]\nresource = 0\ngarp_cont = 3\n",
			`haresources.toml:6: unknown key "group.resource_options.garp_cont" (did you mean "group.resource_options.garp_count"?)`},
		{"table", "[[gruop]]\nnode = \"node1\"\n", `haresources.toml:1: unknown key "gruop" (did you mean "group"?)`},
		{"an ha.cf setting", "keeplive = 2\n", `haresources.toml:1: unknown key "keeplive"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := ParseTOML(strings.NewReader(tt.in), "haresources.toml", []string{"node1", "node2"})
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("error %v, want it to contain %q", err, tt.want)
			}
			if !strings.Contains(tt.want, "did you mean") && strings.Contains(err.Error(), "did you mean") {
				t.Errorf("unexpected suggestion: %v", err)
			}
		})
	}
}
