package daemon

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/hasuite/hasuite/heartbeat/config"
)

func TestCheckRespawn(t *testing.T) {
	dir := t.TempDir()
	exe := filepath.Join(dir, "client")
	plain := filepath.Join(dir, "plain")
	if err := os.WriteFile(exe, []byte("#!/bin/sh\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(plain, []byte("x"), 0o644); err != nil {
		t.Fatal(err)
	}
	const base = "node node1 node2\nucast eth0 198.18.0.2\n"
	for _, tc := range []struct {
		name, in, err string
	}{
		{"good", "respawn root " + exe + " -v", ""},
		{"failfast with self_fence", "self_fence /bin/true\nfailfast root " + exe, ""},
		{"failfast with watchdog", "watchdog /dev/watchdog\nfailfast root " + exe, ""},
		{"ipfail", "respawn hacluster /usr/lib/heartbeat/ipfail", "ha.cf:1: /usr/lib/heartbeat/ipfail: ipfail is not supported by this version"},
		{"missing", "\nrespawn root " + dir + "/none", "ha.cf:2: " + dir + "/none: stat"},
		{"not executable", "respawn root " + plain, "not an executable file"},
		{"directory", "respawn root " + dir, "not an executable file"},
		{"unknown user", "respawn no-such-user-xyz " + exe, `run as user "no-such-user-xyz"`},
		{"failfast without fencing", "failfast root " + exe, "needs self_fence or watchdog"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cfg, err := config.ParseHACF(strings.NewReader(tc.in+"\n"+base), "ha.cf")
			if err != nil {
				t.Fatal(err)
			}
			errs, _ := Check(cfg)
			if tc.err == "" {
				if len(errs) > 0 {
					t.Fatalf("errors: %v", errs)
				}
				return
			}
			if len(errs) != 1 || !strings.Contains(errs[0].Error(), tc.err) {
				t.Fatalf("errors %v, want one containing %q", errs, tc.err)
			}
		})
	}
}

func TestCheckPingTargets(t *testing.T) {
	const base = "node node1 node2\nucast eth0 198.18.0.2\n"
	for _, tc := range []struct{ in, err string }{
		{"ping 198.18.0.254", ""},
		{"ping gw.example", ""}, // a name: checked once resolved, at start
		{"ping 127.0.0.1", "ha.cf:1: ping node 127.0.0.1: 127.0.0.1 is a loopback address"},
		{"ping6 ::1", "is a loopback address"},
		{"ping_group g 198.18.0.254 127.0.0.2", "ha.cf:1: ping node g: 127.0.0.2 is a loopback address"},
		{"ping 0.0.0.0", "the unspecified address"},
	} {
		cfg, err := config.ParseHACF(strings.NewReader(tc.in+"\n"+base), "ha.cf")
		if err != nil {
			t.Fatal(err)
		}
		errs, _ := Check(cfg)
		if tc.err == "" {
			if len(errs) > 0 {
				t.Errorf("%s: %v", tc.in, errs)
			}
			continue
		}
		if len(errs) != 1 || !strings.Contains(errs[0].Error(), tc.err) {
			t.Errorf("%s: errors %v, want %q", tc.in, errs, tc.err)
		}
	}
}
