package migrate

import (
	"bytes"
	"flag"
	"os"
	"path/filepath"
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
