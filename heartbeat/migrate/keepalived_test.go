package migrate

import (
	"bytes"
	"flag"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/hasuite/hasuite/heartbeat/check"
	"github.com/hasuite/hasuite/heartbeat/cli"
)

var update = flag.Bool("update", false, "rewrite the golden files")

// fixtures are the keepalived pairs of testdata/keepalived: the files of
// each node, in order.
var fixtures = []struct {
	name  string
	files []string
}{
	{"masterbackup", []string{"lb1.conf", "lb2.conf"}},
	{"syncgroup", []string{"fw-a.conf", "fw-b.conf"}},
	{"unicast", []string{"node1.conf", "node2.conf"}},
}

// zeroRand makes the key all zeros, so the output is deterministic.
type zeroRand struct{}

func (zeroRand) Read(b []byte) (int, error) {
	clear(b)
	return len(b), nil
}

func importFixture(t *testing.T, name string, files []string) *Imported {
	t.Helper()
	var paths []string
	for _, f := range files {
		paths = append(paths, filepath.Join("testdata", "keepalived", name, f))
	}
	im, err := ImportKeepalived(ImportOptions{Files: paths, Rand: zeroRand{}})
	if err != nil {
		t.Fatal(err)
	}
	return im
}

func golden(t *testing.T, path, got string) {
	t.Helper()
	if *update {
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test -update)", err)
	}
	if got != string(want) {
		t.Errorf("%s differs:\n--- got\n%s\n--- want\n%s", path, got, want)
	}
}

// TestImportFixtures compares each fixture's output with its golden files
// and runs the heartbeat -t check on the written directory, for each node.
func TestImportFixtures(t *testing.T) {
	for _, fx := range fixtures {
		t.Run(fx.name, func(t *testing.T) {
			im := importFixture(t, fx.name, fx.files)
			var rep bytes.Buffer
			im.Report(&rep)
			dir := filepath.Join("testdata", "keepalived", fx.name, "golden")
			golden(t, filepath.Join(dir, "ha.cf"), im.HACF)
			golden(t, filepath.Join(dir, "haresources.toml"), im.HaresourcesTOML)
			golden(t, filepath.Join(dir, "authkeys"), im.Authkeys)
			golden(t, filepath.Join(dir, "report.txt"), rep.String())
			// The hooks and checks name the keepalived files' programs:
			// heartbeat -t wants them to exist, so they are made here.
			relocatePrograms(t, im, t.TempDir())
			out := t.TempDir()
			if _, _, err := im.Write(out, false); err != nil {
				t.Fatal(err)
			}
			for _, node := range im.Nodes {
				r := check.Run(cli.CheckRequest{ConfigDir: out, NodeName: node}, nil)
				if r.Err != nil {
					t.Errorf("heartbeat -t for %s: %v", node, r.Err)
				}
				if len(r.Groups) == 0 {
					t.Errorf("heartbeat -t for %s: no groups", node)
				}
			}
		})
	}
}

// relocatePrograms points the absolute programs of im's hooks and checks
// at executable stubs under dir (dir + the program's path), as the target
// machine has them.
func relocatePrograms(t *testing.T, im *Imported, dir string) {
	t.Helper()
	im.HACF, im.HaresourcesTOML = relocate(t, im.HACF, im.HaresourcesTOML, dir)
}

// relocate is relocatePrograms on the text of ha.cf and haresources.toml.
func relocate(t *testing.T, hacf, toml, dir string) (string, string) {
	t.Helper()
	var progs []string
	for _, l := range strings.Split(hacf, "\n") {
		f := strings.Fields(l)
		if len(f) >= 2 && strings.HasPrefix(f[0], "notify") && f[0] != "notify_timeout" {
			progs = append(progs, f[1])
		}
	}
	for _, m := range regexp.MustCompile(`(?m)^command = \["(/[^"]*)"`).FindAllStringSubmatch(toml, -1) {
		progs = append(progs, m[1])
	}
	for _, p := range progs {
		stub := filepath.Join(dir, p)
		if err := os.MkdirAll(filepath.Dir(stub), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(stub, []byte("#!/bin/sh\nexit 0\n"), 0o755); err != nil {
			t.Fatal(err)
		}
		hacf = strings.ReplaceAll(hacf, " "+p+"\n", " "+stub+"\n")
		hacf = strings.ReplaceAll(hacf, " "+p+" ", " "+stub+" ")
		toml = strings.ReplaceAll(toml, `["`+p+`"`, `["`+stub+`"`)
	}
	return hacf, toml
}

func TestImportOneFile(t *testing.T) {
	path := filepath.Join("testdata", "keepalived", "unicast", "node2.conf")
	if _, err := ImportKeepalived(ImportOptions{Files: []string{path}}); err == nil || !strings.Contains(err.Error(), "the peer's node name is unknown") {
		t.Fatalf("no peer name: %v", err)
	}
	im, err := ImportKeepalived(ImportOptions{Files: []string{path}, Nodes: []string{"", "node1"}, Rand: zeroRand{}})
	if err != nil {
		t.Fatal(err)
	}
	// node2 is BACKUP: the group prefers the peer.
	if !strings.Contains(im.HaresourcesTOML, "node = \"node1\"") || !strings.Contains(im.HACF, "ucast eth0 198.18.0.2\nucast eth0 198.18.0.1\n") {
		t.Errorf("one file:\n%s\n%s", im.HACF, im.HaresourcesTOML)
	}
	im, err = ImportKeepalived(ImportOptions{Files: []string{path}, Nodes: []string{"b", "a"}, Rand: zeroRand{}})
	if err != nil || im.Nodes[0] != "b" || !strings.Contains(im.HACF, "node b a\n") {
		t.Errorf("--node: %v %v", err, im)
	}
}

func TestImportErrors(t *testing.T) {
	fs := map[string]string{
		"/k/none.conf":  "global_defs { router_id a }\n",
		"/k/noid.conf":  "vrrp_instance X { virtual_ipaddress { 198.18.0.5 } }\n",
		"/k/same.conf":  "global_defs { router_id a }\nvrrp_instance X { interface eth0\n virtual_ipaddress { 198.18.0.5 } }\n",
		"/k/badid.conf": "global_defs { router_id \"a b\" }\nvrrp_instance X { virtual_ipaddress { 198.18.0.5 } }\n",
	}
	for _, tc := range []struct {
		files, nodes []string
		want         string
	}{
		{[]string{"/k/none.conf"}, []string{"a", "b"}, "/k/none.conf: no vrrp_instance"},
		{[]string{"/k/noid.conf"}, nil, "/k/noid.conf: no node name"},
		{[]string{"/k/same.conf", "/k/same.conf"}, nil, "both nodes are named a"},
		{[]string{"/k/badid.conf", "/k/same.conf"}, nil, `"a b" is not a node name`},
		{[]string{"/k/missing.conf"}, nil, "/k/missing.conf: file does not exist"},
	} {
		_, err := ImportKeepalived(ImportOptions{Files: tc.files, Nodes: tc.nodes, Source: mapFS(fs)})
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%v: error %v, want %q", tc.files, err, tc.want)
		}
	}
}

// TestWriteRefusesExisting: without --force nothing is written over an
// existing file; authkeys is 0600.
func TestWrite(t *testing.T) {
	im := importFixture(t, "unicast", []string{"node1.conf", "node2.conf"})
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "authkeys"), []byte("old"), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, _, err := im.Write(dir, false); err == nil || !strings.Contains(err.Error(), "authkeys exists: nothing written") {
		t.Fatalf("no --force: %v", err)
	}
	if _, err := os.Stat(filepath.Join(dir, "ha.cf")); err == nil {
		t.Fatal("ha.cf written although authkeys existed")
	}
	if err := os.WriteFile(filepath.Join(dir, "haresources"), []byte("x"), 0o644); err != nil {
		t.Fatal(err)
	}
	written, warns, err := im.Write(dir, true)
	if err != nil || len(written) != 3 || len(warns) != 1 {
		t.Fatalf("--force: %v %v %v", written, warns, err)
	}
	fi, err := os.Stat(filepath.Join(dir, "authkeys"))
	if err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("authkeys: %v %v", fi.Mode(), err)
	}
}

// TestImportOddInput: what our parsers would refuse is reported and left
// out, never an error or a broken file.
func TestImportOddInput(t *testing.T) {
	fs := mapFS(map[string]string{
		"/k/a.conf": "global_defs { router_id A }\n" +
			"vrrp_instance X {\n interface \"bad if\"\n priority 300\n advert_int 0\n" +
			" virtual_ipaddress {\n  127.0.0.5/8\n  224.0.0.9\n  198.18.0.7 dev eth0:x\n  198.18.0.8/24 dev eth0 label other:1 scope global\n  nonsense\n  198.18.0.9/40\n }\n" +
			" unicast_peer {\n  198.18.0.2\n }\n}\n" +
			"vrrp_instance Y {\n interface eth1\n virtual_ipaddress {\n  198.18.0.8/24\n }\n}\n" +
			"vrrp_sync_group G {\n group {\n  Y Z\n }\n}\n}\n",
	})
	im, err := ImportKeepalived(ImportOptions{Files: []string{"/k/a.conf"}, Nodes: []string{"", "b"}, Source: fs, Rand: zeroRand{}})
	if err != nil {
		t.Fatal(err)
	}
	var rep bytes.Buffer
	im.Report(&rep)
	for _, want := range []string{
		`/k/a.conf:3: interface "bad if": not an interface name; ignored`,
		"/k/a.conf:4: priority 300: want 1-255; 100 assumed",
		"/k/a.conf:5: advert_int 0: want 0.01-255 seconds; 1 assumed",
		"/k/a.conf:7: virtual_ipaddress 127.0.0.5/8: ",
		"/k/a.conf:8: virtual_ipaddress 224.0.0.9: ",
		`/k/a.conf:9: virtual_ipaddress 198.18.0.7 dev "eth0:x": not an interface name; left out`,
		"/k/a.conf:10: virtual_ipaddress 198.18.0.8/24: scope global: ignored",
		"/k/a.conf:10: virtual_ipaddress 198.18.0.8/24 label other:1: a label must be DEV:NAME",
		"/k/a.conf:11: virtual_ipaddress nonsense: not an address; left out",
		"/k/a.conf:12: virtual_ipaddress 198.18.0.9/40: bad prefix length; left out",
		"/k/a.conf:7: virtual_ipaddress 127.0.0.5/8: resource \"IPaddr2::127.0.0.5/8\": 127.0.0.5 cannot be a virtual IP address",
		"/k/a.conf:14: vrrp_instance X: unicast peers without an interface: no ucast line",
		"/k/a.conf:24: vrrp_sync_group G: instance Z is not defined: left out",
		"/k/a.conf:29: '}' without a block to close",
		"/k/a.conf:10: virtual_ipaddress 198.18.0.8: already in a group (/k/a.conf:21); left out",
		"/k/a.conf:24: vrrp_sync_group G -> group 1 on b (this node is state (none) priority 100): IPaddr2::198.18.0.8/24/eth1",
	} {
		if !strings.Contains(rep.String(), want) {
			t.Errorf("report lacks %q:\n%s", want, rep.String())
		}
	}
	if !strings.Contains(im.HaresourcesTOML, `resources = ["IPaddr2::198.18.0.8/24/eth1"]`) {
		t.Errorf("haresources.toml:\n%s", im.HaresourcesTOML)
	}
}

// TestImportScriptsHooksMail: vrrp_script and track_script become checks,
// notify scripts hooks, smtp_alert mail settings; what cannot be carried
// over is reported, never fatal.
func TestImportScriptsHooksMail(t *testing.T) {
	fs := mapFS(map[string]string{
		"/k/a.conf": "global_defs {\n router_id A\n notification_email {\n  ops@example.com\n  not-an-address\n }\n smtp_server 2001:db8::25 2525\n smtp_connect_timeout 30\n}\n" +
			"vrrp_script chk_sh {\n script \"pidof nginx || exit 1\"\n interval 0.5\n user nobody nogroup\n}\n" +
			"vrrp_script chk_rel {\n script \"./check.sh\"\n}\n" +
			"vrrp_script chk_q {\n script \"/usr/bin/test -e '/run/a b'\"\n weight 10 reverse\n init_fail\n}\n" +
			"vrrp_script chk_unused {\n script \"/bin/true\"\n}\n" +
			"vrrp_instance X {\n interface eth0\n state MASTER\n smtp_alert\n virtual_ipaddress {\n  198.18.0.5/24\n }\n" +
			" track_script {\n  chk_sh weight -30\n  chk_rel\n  chk_q\n  chk_missing\n }\n" +
			" notify_master \"/usr/local/bin/m.sh a\" nobody\n notify_backup \"/x/b.sh 'a b'\"\n notify_fault f.sh\n notify \"/x/n.sh $X\"\n notify_stop /x/stop.sh\n notify_deleted /x/d.sh\n}\n",
	})
	im, err := ImportKeepalived(ImportOptions{Files: []string{"/k/a.conf"}, Nodes: []string{"", "b"}, Source: fs, Rand: zeroRand{}})
	if err != nil {
		t.Fatal(err)
	}
	var rep bytes.Buffer
	im.Report(&rep)
	for _, want := range []string{
		`/k/a.conf:5: notification_email not-an-address: mail_to: "not-an-address" is not a mail address`,
		"/k/a.conf:8: smtp_connect_timeout 30: not configurable here",
		`/k/a.conf:10: vrrp_script chk_sh script "pidof nginx || exit 1" holds shell syntax`,
		`/k/a.conf:15: vrrp_script chk_rel script "./check.sh": a relative path`,
		"/k/a.conf:20: vrrp_script chk_q weight 10 reverse: a reversed weight has no equivalent here",
		"/k/a.conf:21: vrrp_script chk_q init_fail -> how every check starts here",
		"/k/a.conf:23: vrrp_script chk_unused: no track_script names it",
		"/k/a.conf:37: track_script chk_missing: no vrrp_script chk_missing in /k/a.conf: left out",
		`/k/a.conf:34: track_script chk_sh (vrrp_script at /k/a.conf:10) -> [[group.check]] of group 1: command ["/bin/sh", "-c", "pidof nginx || exit 1"], interval 500ms, weight -30`,
		`/k/a.conf:39: notify_master "/usr/local/bin/m.sh a" in vrrp_instance X runs as nobody in keepalived`,
		`/k/a.conf:40: notify_backup "/x/b.sh 'a b'" in vrrp_instance X: the word "a b" cannot be written in ha.cf`,
		`/k/a.conf:41: notify_fault "f.sh" in vrrp_instance X: a hook program must be an absolute path`,
		`/k/a.conf:42: notify "/x/n.sh $X" in vrrp_instance X: shell syntax`,
		"/k/a.conf:43: notify_stop /x/stop.sh -> notify_stop /x/stop.sh",
		"/k/a.conf:44: notify_deleted /x/d.sh: no equivalent here",
		"/k/a.conf:3: notification_email -> mail_to ops@example.com",
		"/k/a.conf:7: smtp_server -> smtp_server [2001:db8::25]:2525",
		"/k/a.conf:29: smtp_alert -> mail_events group-active group-stopped group-failed",
	} {
		if !strings.Contains(rep.String(), want) {
			t.Errorf("report lacks %q:\n%s", want, rep.String())
		}
	}
	for _, want := range []string{"notify_stop /x/stop.sh\n", "mail_to ops@example.com\n", "smtp_server [2001:db8::25]:2525\n"} {
		if !strings.Contains(im.HACF, want) {
			t.Errorf("ha.cf lacks %q:\n%s", want, im.HACF)
		}
	}
	if strings.Contains(im.HACF, "m.sh") || strings.Contains(im.HACF, "b.sh") || strings.Contains(im.HACF, "mail_from") {
		t.Errorf("ha.cf:\n%s", im.HACF)
	}
	for _, want := range []string{
		"name = \"chk_sh\"\ncommand = [\"/bin/sh\", \"-c\", \"pidof nginx || exit 1\"]\ninterval = \"500ms\"\nweight = -30\nuser = \"nobody:nogroup\"\n",
		"name = \"chk_q\"\ncommand = [\"/usr/bin/test\", \"-e\", \"/run/a b\"]\ninterval = \"1s\"\nweight = 0\n",
	} {
		if !strings.Contains(im.HaresourcesTOML, want) {
			t.Errorf("haresources.toml lacks %q:\n%s", want, im.HaresourcesTOML)
		}
	}
	if strings.Contains(im.HaresourcesTOML, "chk_rel") || strings.Contains(im.HaresourcesTOML, "chk_unused") {
		t.Errorf("haresources.toml:\n%s", im.HaresourcesTOML)
	}

	// notification_email without smtp_alert: keepalived mails nothing.
	fs["/k/a.conf"] = strings.Replace(fs["/k/a.conf"], " smtp_alert\n", "", 1)
	im, err = ImportKeepalived(ImportOptions{Files: []string{"/k/a.conf"}, Nodes: []string{"", "b"}, Source: fs, Rand: zeroRand{}})
	if err != nil {
		t.Fatal(err)
	}
	rep.Reset()
	im.Report(&rep)
	if strings.Contains(im.HACF, "mail_to") || !strings.Contains(rep.String(), "/k/a.conf:3: notification_email: no smtp_alert") {
		t.Errorf("without smtp_alert:\n%s\n%s", im.HACF, rep.String())
	}
}
