package migrate

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// exportCases are the configuration directories exported in the tests:
// the sample, a fencing pair, and each keepalived fixture's import.
func exportCases(t *testing.T) map[string]string {
	t.Helper()
	out := map[string]string{}
	// The sample haresources with a minimal ha.cf for its nodes.
	sample, err := os.ReadFile(filepath.Join("..", "..", "etc", "haresources.sample"))
	if err != nil {
		t.Fatal(err)
	}
	d := t.TempDir()
	write(t, d, "ha.cf", "node node1 node2\nucast eth0 198.18.0.2\nauto_failback on\n")
	write(t, d, "haresources", string(sample))
	out["sample"] = d
	// Two groups, a Filesystem script, an OCF agent, fencing, no failback.
	d = t.TempDir()
	write(t, d, "ha.cf", "node alpha beta\nbcast eth0\nauto_failback off\n"+
		"stonith_host alpha external/ipmi beta 198.18.5.2 admin Secret-Pw lanplus\n"+
		"stonith_host beta external/ipmi alpha 198.18.5.1 admin Secret-Pw lanplus\n")
	write(t, d, "haresources", "alpha 198.18.0.100/24/eth0:web Filesystem::/dev/sdb1::/srv::ext4 httpd\n"+
		"beta IPaddr2::198.18.0.200/24/eth0 ocf:heartbeat:Dummy::state=/run/dummy.state MailTo::ops@example.com::failover\n")
	out["fencing"] = d
	for _, fx := range fixtures {
		im := importFixture(t, fx.name, fx.files)
		relocatePrograms(t, im, t.TempDir()) // the hooks' programs must exist
		d := t.TempDir()
		if _, _, err := im.Write(d, false); err != nil {
			t.Fatal(err)
		}
		out["keepalived-"+fx.name] = d
	}
	return out
}

func write(t *testing.T, dir, name, content string) {
	t.Helper()
	if err := os.WriteFile(filepath.Join(dir, name), []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
}

// TestExportGolden: the CIB and pcs commands of the fencing pair, and no
// secret in them.
func TestExportGolden(t *testing.T) {
	dir := exportCases(t)["fencing"]
	cfg, groups, err := LoadForExport(dir)
	if err != nil {
		t.Fatal(err)
	}
	ex, err := ExportPacemaker(cfg, groups)
	if err != nil {
		t.Fatal(err)
	}
	var pcs bytes.Buffer
	ex.WritePCS(&pcs)
	golden(t, filepath.Join("testdata", "pacemaker", "fencing.xml"), string(ex.CIB))
	golden(t, filepath.Join("testdata", "pacemaker", "fencing.pcs"), pcs.String())
	golden(t, filepath.Join("testdata", "pacemaker", "fencing.warnings"), strings.ReplaceAll(strings.Join(ex.Warnings, "\n"), dir, "DIR")+"\n")
	for _, s := range [][]byte{ex.CIB, pcs.Bytes(), []byte(strings.Join(ex.Warnings, "\n"))} {
		if bytes.Contains(s, []byte("Secret-Pw")) {
			t.Errorf("a STONITH password is in the output:\n%s", s)
		}
	}
}

// needTool returns the path of a Pacemaker tool, skipping the test when it
// is missing outside CI (scripts/install-test-deps.sh installs it).
func needTool(t *testing.T, name string) string {
	t.Helper()
	p, err := exec.LookPath(name)
	if err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("%s is missing (Debian package pacemaker-cli-utils; scripts/install-test-deps.sh installs it)", name)
		}
		t.Skipf("%s is missing: install pacemaker-cli-utils (scripts/install-test-deps.sh) to run this test", name)
	}
	return p
}

// TestExportPacemakerTools: every exported CIB passes crm_verify, and
// crm_simulate with both nodes up starts every group on its preferred
// node.
func TestExportPacemakerTools(t *testing.T) {
	verify, simulate := needTool(t, "crm_verify"), needTool(t, "crm_simulate")
	for name, dir := range exportCases(t) {
		t.Run(name, func(t *testing.T) {
			cfg, groups, err := LoadForExport(dir)
			if err != nil {
				t.Fatal(err)
			}
			ex, err := ExportPacemaker(cfg, groups)
			if err != nil {
				t.Fatal(err)
			}
			f := filepath.Join(t.TempDir(), "cib.xml")
			if err := os.WriteFile(f, ex.CIB, 0o644); err != nil {
				t.Fatal(err)
			}
			out, err := exec.Command(verify, "--xml-file", f, "-V").CombinedOutput()
			t.Logf("crm_verify --xml-file cib.xml -V: %v\n%s", err, out)
			if len(cfg.Stonith) == 0 {
				if err != nil || len(bytes.TrimSpace(out)) > 0 {
					t.Errorf("crm_verify: %v\n%s\n%s", err, out, ex.CIB)
				}
			} else {
				// With fencing on, a CIB without status has two nodes never
				// seen, which Pacemaker fences at start (startup-fencing):
				// the only findings allowed. The same CIB once both nodes
				// joined must be clean.
				for _, l := range strings.Split(strings.TrimSpace(string(out)), "\n") {
					if !regexp.MustCompile(`Scheduling node \S+ for fencing|Warnings found during check`).MatchString(l) {
						t.Errorf("crm_verify: %s\n%s", l, ex.CIB)
					}
				}
				up := filepath.Join(t.TempDir(), "up.xml")
				cmd := exec.Command(simulate, "--xml-file", f, "--node-up", cfg.Nodes[0], "--node-up", cfg.Nodes[1], "--save-output", up)
				cmd.Env = append(os.Environ(), "CIB_shadow_dir="+t.TempDir())
				if out, err := cmd.CombinedOutput(); err != nil {
					t.Fatalf("crm_simulate --save-output: %v\n%s", err, out)
				}
				out, err = exec.Command(verify, "--xml-file", up, "-V").CombinedOutput()
				t.Logf("crm_verify of the CIB with both nodes up: %v\n%s", err, out)
				if err != nil || len(bytes.TrimSpace(out)) > 0 {
					t.Errorf("crm_verify with both nodes up: %v\n%s", err, out)
				}
			}
			cmd := exec.Command(simulate, "--xml-file", f, "--simulate", "--node-up", cfg.Nodes[0], "--node-up", cfg.Nodes[1])
			cmd.Env = append(os.Environ(), "CIB_shadow_dir="+t.TempDir())
			out, err = cmd.CombinedOutput()
			if err != nil {
				t.Fatalf("crm_simulate: %v\n%s", err, out)
			}
			// The revised status lists each group's resources as
			// "* name (class:type): Started node".
			_, revised, ok := strings.Cut(string(out), "Revised Cluster Status")
			if !ok {
				t.Fatalf("crm_simulate printed no revised status:\n%s", out)
			}
			for _, g := range groups {
				for _, r := range g.Resources {
					p, _ := primitive(cfg, r, ids{})
					re := regexp.MustCompile(`\* ` + regexp.QuoteMeta(p.x.ID) + `\s+\([^)]*\):\s+Started ` + regexp.QuoteMeta(g.Node) + `\b`)
					if !re.MatchString(revised) {
						t.Errorf("%s of group %s is not started on %s:\n%s", p.x.ID, g.Key, g.Node, revised)
					}
				}
			}
			t.Logf("crm_simulate revised status:%s", revised)
		})
	}
}
