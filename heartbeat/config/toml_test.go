package config

import (
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"
)

const keysFile = "auth 2\n1 md5 s3cret\n2 sha256 k2-long-random\n"

// The same cluster in both syntaxes; every implemented setting appears.
const equivHACF = `node node1 node2
keepalive 500ms
deadtime 5
warntime 2.5
initdead 30s
deadping 10
udpport 7000
baud 38400
ucast eth0 198.18.0.2
ucast6 eth0 2001:db8::2
bcast eth1
mcast eth2 239.0.0.1 694 2 1
mcast6 eth2 ff12::1:2 695 1 0
serial /dev/ttyS0
ping 198.18.0.254
ping6 2001:db8::fe
ping_group gws 198.18.0.253 gw.example
auto_failback off
hopfudge 2
msgfmt netstring
max_rexmit_delay 300
hbgenmethod time
uuidfrom nodename
logfile /var/log/ha-log
debugfile /var/log/ha-debug
logfacility local3
debug 1
watchdog /dev/watchdog
stonith external/ipmi /etc/ha.d/ipmi.cfg
stonith_host node2 external/ssh node2 extra words
`

const equivTOML = `nodes = ["node1", "node2"]
keepalive = "500ms"
deadtime = 5
warntime = 2.5
initdead = "30s"
deadping = "10"
udpport = 7000
baud = 38400
auto_failback = false
hopfudge = 2
msgfmt = "netstring"
max_rexmit_delay = 300
hbgenmethod = "time"
uuidfrom = "nodename"
logfile = "/var/log/ha-log"
debugfile = "/var/log/ha-debug"
logfacility = "local3"
debug = 1
watchdog = "/dev/watchdog"

[[media]]
kind = "ucast"
dev = "eth0"
peer = "198.18.0.2"
[[media]]
kind = "ucast6"
dev = "eth0"
peer = "2001:db8::2"
[[media]]
kind = "bcast"
dev = "eth1"
[[media]]
kind = "mcast"
dev = "eth2"
group = "239.0.0.1"
port = 694
ttl = 2
loop = true
[[media]]
kind = "mcast6"
dev = "eth2"
group = "ff12::1:2"
port = 695
ttl = 1
loop = 0
[[media]]
kind = "serial"
dev = "/dev/ttyS0"

[[ping]]
hosts = ["198.18.0.254", "2001:db8::fe"]
[[ping]]
group = "gws"
hosts = ["198.18.0.253", "gw.example"]

[[stonith]]
type = "external/ipmi"
file = "/etc/ha.d/ipmi.cfg"
[[stonith]]
host = "node2"
type = "external/ssh"
params = "node2 extra words"

[auth]
current = 2
keys = [
  {index = 1, method = "md5", secret = "s3cret"},
  {index = 2, method = "sha256", secret = "k2-long-random"},
]
`

type file struct {
	text string
	mode os.FileMode
}

// configDir creates a configuration directory.
func configDir(t *testing.T, files map[string]file) string {
	t.Helper()
	dir := t.TempDir()
	for name, f := range files {
		writeFile(t, dir, name, f.text, f.mode)
	}
	return dir
}

func load(t *testing.T, dir string) *Config {
	t.Helper()
	c, err := Load(Options{Dir: dir, NodeName: "NODE1", ServicesFile: "/nonexistent"})
	if err != nil {
		t.Fatalf("Load(%s):\n%v", dir, err)
	}
	return c
}

func TestTOMLEquivalence(t *testing.T) {
	cf := load(t, configDir(t, map[string]file{"ha.cf": {equivHACF, 0o644}, "authkeys": {keysFile, 0o600}}))
	tm := load(t, configDir(t, map[string]file{"ha.toml": {equivTOML, 0o600}}))
	a, b := stripPositions(cf), stripPositions(tm)
	if !reflect.DeepEqual(a, b) {
		t.Errorf("configs differ:\nha.cf:   %+v\nha.toml: %+v", a, b)
	}
	keys := func(m map[string]Pos) []string {
		var k []string
		for n := range m {
			k = append(k, n)
		}
		slices.Sort(k)
		return k
	}
	if !slices.Equal(keys(cf.Set), keys(tm.Set)) {
		t.Errorf("Set differs:\n%v\n%v", keys(cf.Set), keys(tm.Set))
	}
	if !slices.Equal(messages(cf.Warnings), messages(tm.Warnings)) {
		t.Errorf("warnings differ:\n%v\n%v", cf.Warnings, tm.Warnings)
	}
	for _, p := range []string{"keepalive", "deadtime", "auto_failback", "udpport"} {
		v1, _ := cf.Parameter(p)
		v2, _ := tm.Parameter(p)
		if v1 != v2 {
			t.Errorf("Parameter(%s): %q vs %q", p, v1, v2)
		}
	}
	if tm.Set["keepalive"].Line != 2 || tm.Media[3].Line != 32 || tm.Set["watchdog"].Line != 19 {
		t.Errorf("TOML positions: keepalive %v, media[3] %v, watchdog %v", tm.Set["keepalive"], tm.Media[3].Pos, tm.Set["watchdog"])
	}
}

// TestSamples: the shipped samples parse, and ha.cf and ha.toml describe
// the same cluster.
func TestSamples(t *testing.T) {
	read := func(name string) string {
		data, err := os.ReadFile(filepath.Join("..", "..", "etc", name))
		if err != nil {
			t.Fatal(err)
		}
		return string(data)
	}
	keys := file{read("authkeys.sample"), 0o600}
	cf := load(t, configDir(t, map[string]file{"ha.cf": {read("ha.cf.sample"), 0o644}, "authkeys": keys}))
	tm := load(t, configDir(t, map[string]file{"ha.toml": {read("ha.toml.sample"), 0o644}, "authkeys": keys}))
	if a, b := stripPositions(cf), stripPositions(tm); !reflect.DeepEqual(a, b) {
		t.Errorf("samples differ:\nha.cf:   %+v\nha.toml: %+v", a, b)
	}
	if len(cf.Warnings) != 0 || len(tm.Warnings) != 0 {
		t.Errorf("samples should load without warnings: %v %v", cf.Warnings, tm.Warnings)
	}
}

func TestTOMLErrors(t *testing.T) {
	const ok = "nodes = [\"node1\", \"node2\"]\n[[media]]\nkind = \"ucast\"\ndev = \"eth0\"\npeer = \"198.18.0.2\"\n"
	tests := []struct {
		name string
		in   string // put before ok unless it starts a table
		line int
		err  string
	}{
		{"syntax", "nodes = [\n", 2, "expected"},
		{"unknown key", "frob = 1\n", 1, "unknown key frob"},
		{"no-effect directive", "memreserve = 6500\n", 1, "memreserve has no effect here"},
		{"singular node", "node = \"a\"\n", 1, "the list of nodes is \"nodes\""},
		{"rejected directive", "hbaping = \"x\"\n", 1, "hbaping: the hbaping medium is not supported"},
		{"time type", "keepalive = true\n", 1, "keepalive: want a time"},
		{"time value", "keepalive = \"fast\"\n", 1, "keepalive: invalid time"},
		{"negative time", "deadtime = -3\n", 1, "invalid time"},
		{"int type", "udpport = \"694\"\n", 1, "udpport: want an integer, got a string"},
		{"int range", "\n\nudpport = 70000\n", 3, "udpport: 70000 is out of range"},
		{"string with blank", "logfile = \"/var/log/ha log\"\n", 1, "contains a blank"},
		{"auto_failback", "auto_failback = 1\n", 1, "want \"on\", \"off\", \"legacy\" or a boolean"},
		{"nodes type", "nodes = \"a\"\n", 1, "nodes: want an array"},
		{"node type", "nodes = [\"a\", 1]\n", 1, "nodes[1]: want a string"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			in := tc.in + ok
			if strings.HasPrefix(tc.in, "nodes") {
				in = tc.in + strings.SplitN(ok, "\n", 2)[1]
			}
			_, err := ParseTOML(strings.NewReader(in), "ha.toml")
			wantDiag(t, err, "ha.toml", tc.line, tc.err)
		})
	}
}

func TestTOMLTableErrors(t *testing.T) {
	const head = "nodes = [\"node1\", \"node2\"]\n"
	tests := []struct {
		name string
		in   string
		line int
		err  string
	}{
		{"medium without kind", "[[media]]\ndev = \"eth0\"\n", 2, "media[0]: missing kind"},
		{"medium unknown kind", "[[media]]\nkind = \"carrier-pigeon\"\n", 2, "unknown kind"},
		{"ucast without peer", "[[media]]\nkind = \"ucast\"\ndev = \"eth0\"\n", 2, "media[0]: ucast needs peer"},
		{"group on ucast", "[[media]]\nkind = \"ucast\"\ndev = \"eth0\"\npeer = \"198.18.0.2\"\ngroup = \"239.0.0.1\"\n", 6, "group does not apply to ucast"},
		{"unknown medium key", "[[media]]\nkind = \"bcast\"\ndev = \"eth0\"\nspeed = 10\n", 5, "unknown key media.speed"},
		{"second medium bad", "[[media]]\nkind = \"bcast\"\ndev = \"eth0\"\n\n[[media]]\nkind = \"mcast\"\ndev = \"eth1\"\ngroup = \"10.0.0.1\"\nport = 694\nttl = 1\nloop = false\n", 6, "not a multicast address"},
		{"media not tables", "media = 3\n", 2, "media"},
		{"ping without hosts", "[[media]]\nkind = \"bcast\"\ndev = \"eth0\"\n[[ping]]\ngroup = \"g\"\n", 5, "ping[0]: missing hosts"},
		{"ping empty hosts", "[[media]]\nkind = \"bcast\"\ndev = \"eth0\"\n[[ping]]\nhosts = []\n", 6, "want a non-empty array of strings, got an empty array"},
		{"stonith file and host", "[[media]]\nkind = \"bcast\"\ndev = \"eth0\"\n[[stonith]]\ntype = \"x\"\nfile = \"/f\"\nhost = \"*\"\n", 5, "either file"},
		{"stonith without type", "[[media]]\nkind = \"bcast\"\ndev = \"eth0\"\n[[stonith]]\nhost = \"*\"\n", 5, "want stonith_host"},
		{"auth without current", "[[media]]\nkind = \"bcast\"\ndev = \"eth0\"\n[auth]\nkeys = [{index = 1, method = \"sha256\", secret = \"k\"}]\n", 0, "no \"auth <n>\" line"},
		{"auth key without secret", "[[media]]\nkind = \"bcast\"\ndev = \"eth0\"\n[auth]\ncurrent = 1\nkeys = [\n  {index = 1, method = \"sha256\"},\n]\n", 8, "sha256 needs a key"},
		{"auth index range", "[[media]]\nkind = \"bcast\"\ndev = \"eth0\"\n[auth]\ncurrent = 1\nkeys = [{index = 16, method = \"md5\", secret = \"k\"}]\n", 7, "out of range 0-15"},
		{"auth secret type", "[[media]]\nkind = \"bcast\"\ndev = \"eth0\"\n[auth]\ncurrent = 1\n[[auth.keys]]\nindex = 1\nmethod = \"md5\"\nsecret = 5\n", 7, "secret: want a string"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := ParseTOML(strings.NewReader(head+tc.in), "ha.toml")
			wantDiag(t, err, "ha.toml", tc.line, tc.err)
		})
	}
}

func TestTOMLAuthPermissions(t *testing.T) {
	const withAuth = "nodes = [\"node1\"]\n[[media]]\nkind = \"bcast\"\ndev = \"eth0\"\n[auth]\ncurrent = 1\nkeys = [{index = 1, method = \"sha256\", secret = \"k\"}]\n"
	dir := configDir(t, map[string]file{"ha.toml": {withAuth, 0o640}})
	_, err := Load(Options{Dir: dir, NodeName: "node1", ServicesFile: "/nonexistent"})
	wantDiag(t, err, filepath.Join(dir, "ha.toml"), 0, "bad permissions 0640")

	dir = configDir(t, map[string]file{"ha.toml": {withAuth, 0o600}, "authkeys": {keysFile, 0o600}})
	c := load(t, dir)
	if c.Keys == nil || c.Keys.Current != 1 {
		t.Errorf("keys not taken from ha.toml: %+v", c.Keys)
	}
	if !hasDiag(c.Warnings, "ignored: ha.toml has an [auth] table") {
		t.Errorf("no warning about the ignored authkeys: %v", c.Warnings)
	}
}
