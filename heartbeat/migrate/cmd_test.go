package migrate

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/hasuite/hasuite/heartbeat/cli"
)

// hactl is the hactl of cmd/hactl as far as import and export go.
type hactl struct {
	cli.Daemon // nil: import and export do not talk to a daemon
	Migrator
}

func runHactl(args ...string) (string, string, int) {
	var out, errOut bytes.Buffer
	code := cli.Hactl(context.Background(), args, &out, &errOut, hactl{})
	return out.String(), errOut.String(), code
}

// TestHactlImportExport runs the two commands as a user does: import a
// pair, refuse to overwrite it, export it; the key is never printed.
func TestHactlImportExport(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "ha.d")
	fx := filepath.Join("testdata", "keepalived", "unicast")
	out, errOut, code := runHactl("import", "keepalived", "-o", dir, filepath.Join(fx, "node1.conf"), filepath.Join(fx, "node2.conf"))
	if code != 0 {
		t.Fatalf("import: exit %d\n%s%s", code, out, errOut)
	}
	for _, want := range []string{"wrote " + filepath.Join(dir, "authkeys"), "nodes: node1, node2", "mapped:\n", "not mapped:\n",
		"node1.conf:16: notify_master /etc/keepalived/master.sh -> notify_master /etc/keepalived/master.sh"} {
		if !strings.Contains(out, want) {
			t.Errorf("import output lacks %q:\n%s", want, out)
		}
	}
	keys, err := os.ReadFile(filepath.Join(dir, "authkeys"))
	if err != nil {
		t.Fatal(err)
	}
	f := strings.Fields(string(keys))
	if key := f[len(f)-1]; len(key) != 64 || strings.Contains(out+errOut, key) {
		t.Errorf("key %q: 64 hex digits, never printed", key)
	}
	if _, errOut, code := runHactl("import", "keepalived", "-o", dir, filepath.Join(fx, "node1.conf"), filepath.Join(fx, "node2.conf")); code != 1 || !strings.Contains(errOut, "exists: nothing written") {
		t.Errorf("second import without --force: exit %d %q", code, errOut)
	}
	if _, errOut, code := runHactl("import", "keepalived", "--force", "-o", dir, filepath.Join(fx, "node1.conf"), filepath.Join(fx, "node2.conf")); code != 0 {
		t.Errorf("--force: exit %d %q", code, errOut)
	}
	again, _ := os.ReadFile(filepath.Join(dir, "authkeys"))
	if bytes.Equal(again, keys) {
		t.Error("a new import made the same key")
	}
	// Loading ha.cf checks the hooks' programs, which the target machine has.
	hacf, err := os.ReadFile(filepath.Join(dir, "ha.cf"))
	if err != nil {
		t.Fatal(err)
	}
	moved, _ := relocate(t, string(hacf), "", t.TempDir())
	if err := os.WriteFile(filepath.Join(dir, "ha.cf"), []byte(moved), 0o644); err != nil {
		t.Fatal(err)
	}
	out, errOut, code = runHactl("export", "pacemaker", "-c", dir)
	if code != 0 || !strings.HasPrefix(out, "<cib ") || !strings.Contains(out, `<rsc_location id="loc_grp_vip_198.18.0.100_node1" rsc="grp_vip_198.18.0.100" node="node1" score="100">`) {
		t.Errorf("export: exit %d\n%s%s", code, out, errOut)
	}
	out, _, code = runHactl("export", "pacemaker", "--pcs", "-c", dir)
	if code != 0 || !strings.Contains(out, "pcs constraint location grp_vip_198.18.0.100 prefers node1=100\n") {
		t.Errorf("export --pcs: exit %d\n%s", code, out)
	}
	if _, errOut, code := runHactl("export", "pacemaker", "-c", t.TempDir()); code != 1 || !strings.Contains(errOut, "no ha.cf or ha.toml found") {
		t.Errorf("export of an empty directory: exit %d %q", code, errOut)
	}
}
