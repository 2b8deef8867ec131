package script

import (
	"context"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/hasuite/hasuite/resources/haresources"
)

// requireResourceAgents skips without the resource-agents package (fails
// under CI=true, where it is promised).
func requireResourceAgents(t *testing.T) {
	t.Helper()
	const dummy = DefaultOCFRoot + "/resource.d/heartbeat/Dummy"
	if reason := checkExecutable(dummy); reason != "" {
		msg := "resource-agents not installed (" + dummy + ": " + reason + ")"
		if os.Getenv("CI") == "true" {
			t.Fatal(msg + "; CI=true promises it")
		}
		t.Skip(msg)
	}
}

// TestRealDummy drives the OCF Dummy agent of resource-agents through a
// full cycle, with its state file in a temporary directory given each way
// the suite can pass parameters.
func TestRealDummy(t *testing.T) {
	requireResourceAgents(t)
	tests := []struct {
		name string
		// res builds the resource and returns the state file it should use.
		res func(t *testing.T, dir string) (haresources.Resource, string)
	}{
		{"ocf:heartbeat:Dummy with state parameter", func(t *testing.T, dir string) (haresources.Resource, string) {
			state := filepath.Join(dir, "dummy.state")
			return ocfRes("heartbeat", "Dummy", "d1", map[string]string{"state": state}), state
		}},
		{"OCF::Dummy::inst with a bare name in the instance file", func(t *testing.T, dir string) (haresources.Resource, string) {
			state := filepath.Join(dir, "bare.state") // Dummy does not quote its state path
			pf := writeFile(t, filepath.Join(dir, "conf/OCF/Dummy/inst"), "# Dummy\nstate='"+state+"'\n", 0o644)
			return haresources.Resource{Raw: "OCF::Dummy::inst", Kind: haresources.KindOCF, Type: "Dummy",
				OCF: &haresources.OCFSpec{Provider: "heartbeat", Agent: "Dummy", Instance: "inst", ParamFile: pf}}, state
		}},
		{"OCF::Dummy::inst with OCF_RESKEY_ names in the instance file", func(t *testing.T, dir string) (haresources.Resource, string) {
			state := filepath.Join(dir, "reskey.state")
			pf := writeFile(t, filepath.Join(dir, "conf/OCF/Dummy/inst"), "OCF_RESKEY_state=\""+state+"\" # state file\n", 0o644)
			return haresources.Resource{Raw: "OCF::Dummy::inst", Kind: haresources.KindOCF, Type: "Dummy",
				OCF: &haresources.OCFSpec{Provider: "heartbeat", Agent: "Dummy", Instance: "inst", ParamFile: pf}}, state
		}},
		{"default state file under HA_RSCTMP", func(t *testing.T, dir string) (haresources.Resource, string) {
			return ocfRes("heartbeat", "Dummy", "d2", nil), filepath.Join(dir, "rsctmp", "Dummy-d2.state")
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			res, state := tt.res(t, dir)
			log := &recorder{}
			env := Env{RscTmp: filepath.Join(dir, "rsctmp"), Timeout: 20 * time.Second, Log: log.log}
			ag, err := New(res, env)
			if err != nil {
				t.Fatal(err)
			}
			ctx := context.Background()
			steps := []struct {
				do      func() error
				running bool
				exists  bool
			}{
				{nil, false, false},
				{func() error { return ag.Start(ctx) }, true, true},
				{func() error { return ag.Start(ctx) }, true, true}, // idempotent
				{func() error { return ag.Stop(ctx) }, false, false},
				{func() error { return ag.Stop(ctx) }, false, false}, // idempotent
			}
			for i, s := range steps {
				if s.do != nil {
					if err := s.do(); err != nil {
						t.Fatalf("step %d: %v\nlog: %q", i, err, log.all())
					}
				}
				running, err := ag.Status(ctx)
				if err != nil {
					t.Fatalf("step %d: monitor: %v", i, err)
				}
				if running != s.running {
					t.Errorf("step %d: running = %v, want %v", i, running, s.running)
				}
				_, statErr := os.Stat(state)
				if exists := statErr == nil; exists != s.exists {
					t.Errorf("step %d: state file %s exists = %v, want %v", i, state, exists, s.exists)
				}
			}
			if !log.has("monitor: exit code 7") || !log.has("monitor: exit code 0") {
				t.Errorf("monitor results not logged: %q", log.all())
			}
		})
	}
}
