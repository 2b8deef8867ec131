package pkg

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/hasuite/hasuite/internal/testbed"
)

// stub stands for every command the maintainer scripts call on a live
// system (systemctl, deb-systemd-helper, deb-systemd-invoke, invoke-rc.d,
// update-rc.d, dpkg-query, and the old /etc/init.d/heartbeat): it logs its
// call and answers from the environment.
const stub = `#!/bin/sh
echo "$(basename "$0") $*" >>"$STUB_LOG"
case "$(basename "$0") $*" in
"systemctl show --value -p ActiveState heartbeat.service") echo "$STUB_STATE" ;;
"systemctl show --value -p InactiveEnterTimestampMonotonic heartbeat.service") echo "$STUB_INACTIVE" ;;
"systemctl show --value -p ActiveEnterTimestampMonotonic heartbeat.service") echo "$STUB_ACTIVE" ;;
"dpkg-query "*) [ -n "$STUB_OLD_PACKAGE" ] || exit 1; echo "install ok installed" ;;
"heartbeat status") exit "$STUB_OLD_STATUS" ;;
esac
exit 0
`

// TestMaintainerScripts runs the package's maintainer scripts as dpkg
// would on a live system, but in a private mount namespace (tmpfs over
// /run and /var/lib, a stand-in /etc/init.d) with every service command
// stubbed, and checks which service actions they take: none on a first
// install, a start only after replacing a heartbeat that ran, try-restart
// on an upgrade, stop on removal.
func TestMaintainerScripts(t *testing.T) {
	if os.Geteuid() != 0 {
		testbed.Unavailable(t, "the maintainer scripts test needs root (a private mount namespace)")
	}
	if _, err := exec.LookPath("unshare"); err != nil {
		testbed.Unavailable(t, "unshare not found")
	}
	scripts, err := filepath.Abs("../../packaging/deb")
	if err != nil {
		t.Fatal(err)
	}
	up, err := os.ReadFile("/proc/uptime")
	if err != nil {
		t.Fatal(err)
	}
	secs, err := strconv.ParseFloat(strings.Fields(string(up))[0], 64)
	if err != nil {
		t.Fatal(err)
	}
	now := int64(secs * 1e6) // µs since boot, as systemd's monotonic stamps
	// A stop moments ago, and one more than 10 minutes ago (or, on a
	// machine up for less, none since boot: the stamps are 0 then).
	recent := now - min(30e6, now/2)
	old := max(now-660e6, 0)

	type step struct {
		script string
		args   []string
	}
	install := []step{{"preinst", []string{"install"}}, {"postinst", []string{"configure", ""}}}
	for _, tc := range []struct {
		name       string
		systemd    bool
		oldPackage bool   // Debian's heartbeat is installed (being replaced)
		state      string // its unit's ActiveState
		inactive   int64  // µs since boot it stopped
		oldStatus  int    // its init script's status exit code
		steps      []step
		want       []string // log lines that must be there
		wantNot    []string // prefixes that must not
	}{
		{name: "first install, systemd", systemd: true, state: "inactive", oldStatus: 3, steps: install,
			want:    []string{"deb-systemd-helper unmask heartbeat.service", "deb-systemd-helper enable heartbeat.service", "update-rc.d heartbeat defaults"},
			wantNot: []string{"deb-systemd-invoke", "invoke-rc.d"}},
		{name: "replacing a heartbeat its prerm just stopped, systemd", systemd: true, oldPackage: true, state: "inactive",
			inactive: recent, oldStatus: 3, steps: install,
			want:    []string{"deb-systemd-invoke start heartbeat.service"},
			wantNot: []string{"deb-systemd-invoke try-restart", "invoke-rc.d"}},
		{name: "replacing a heartbeat stopped 11 minutes ago, systemd", systemd: true, oldPackage: true, state: "inactive",
			inactive: old, oldStatus: 3, steps: install,
			want:    []string{"deb-systemd-helper enable heartbeat.service"},
			wantNot: []string{"deb-systemd-invoke", "invoke-rc.d"}},
		{name: "replacing a heartbeat still active, systemd", systemd: true, oldPackage: true, state: "active", oldStatus: 0, steps: install,
			want: []string{"deb-systemd-invoke start heartbeat.service"}},
		{name: "upgrade, systemd", systemd: true, state: "active", oldStatus: 0,
			steps:   []step{{"prerm", []string{"upgrade", "0.2"}}, {"preinst", []string{"upgrade", "0.0.1"}}, {"postinst", []string{"configure", "0.0.1"}}},
			want:    []string{"deb-systemd-invoke try-restart heartbeat.service"},
			wantNot: []string{"deb-systemd-invoke start", "deb-systemd-invoke stop"}},
		{name: "remove, systemd", systemd: true, state: "active", oldStatus: 0,
			steps: []step{{"prerm", []string{"remove"}}, {"postrm", []string{"remove"}}},
			want:  []string{"deb-systemd-invoke stop heartbeat.service", "systemctl --system daemon-reload"}},
		{name: "first install, SysV", oldStatus: 3, steps: install,
			want:    []string{"update-rc.d heartbeat defaults"},
			wantNot: []string{"invoke-rc.d", "deb-systemd-invoke", "systemctl"}},
		{name: "replacing a running heartbeat, SysV", oldPackage: true, oldStatus: 0, steps: install,
			want: []string{"heartbeat status", "invoke-rc.d heartbeat stop", "invoke-rc.d heartbeat start"}},
		{name: "replacing a stopped heartbeat, SysV", oldPackage: true, oldStatus: 3, steps: install,
			wantNot: []string{"invoke-rc.d"}},
		{name: "upgrade, SysV", oldStatus: 0,
			steps: []step{{"preinst", []string{"upgrade", "0.0.1"}}, {"postinst", []string{"configure", "0.0.1"}}},
			want:  []string{"invoke-rc.d heartbeat try-restart"}},
		{name: "purge, SysV", oldStatus: 3,
			steps: []step{{"prerm", []string{"remove"}}, {"postrm", []string{"remove"}}, {"postrm", []string{"purge"}}},
			want:  []string{"invoke-rc.d heartbeat stop", "deb-systemd-helper purge heartbeat.service", "update-rc.d heartbeat remove"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			bin := filepath.Join(dir, "bin")
			initd := filepath.Join(dir, "init.d")
			for _, d := range []string{bin, initd} {
				if err := os.Mkdir(d, 0o755); err != nil {
					t.Fatal(err)
				}
			}
			for _, name := range []string{"systemctl", "deb-systemd-helper", "deb-systemd-invoke", "invoke-rc.d", "update-rc.d", "dpkg-query"} {
				if err := os.WriteFile(filepath.Join(bin, name), []byte(stub), 0o755); err != nil {
					t.Fatal(err)
				}
			}
			if err := os.WriteFile(filepath.Join(initd, "heartbeat"), []byte(stub), 0o755); err != nil {
				t.Fatal(err)
			}
			log := filepath.Join(dir, "log")
			var sh strings.Builder
			sh.WriteString("set -e\nmount -t tmpfs tmpfs /run\nmount -t tmpfs tmpfs /var/lib\nmount --bind \"$STUB_INITD\" /etc/init.d\n")
			if tc.systemd {
				sh.WriteString("mkdir -p /run/systemd/system\n")
			}
			sh.WriteString("export PATH=\"$STUB_BIN:$PATH\"\n")
			for _, s := range tc.steps {
				fmt.Fprintf(&sh, "echo '== %s %s' >>\"$STUB_LOG\"\n", s.script, strings.Join(s.args, " "))
				fmt.Fprintf(&sh, "sh %s/%s", scripts, s.script)
				for _, a := range s.args {
					fmt.Fprintf(&sh, " '%s'", a)
				}
				sh.WriteString("\n")
			}
			// What the scripts made.
			sh.WriteString("stat -c 'dir %n %a' /var/lib/heartbeat /run/heartbeat >>\"$STUB_LOG\" 2>/dev/null || true\n")
			sh.WriteString("[ ! -e /run/hasuite.start-after-install ] || echo 'marker left' >>\"$STUB_LOG\"\n")
			cmd := exec.Command("unshare", "--mount", "--propagation", "private", "sh", "-c", sh.String())
			cmd.Env = append(os.Environ(), "STUB_LOG="+log, "STUB_BIN="+bin, "STUB_INITD="+initd,
				"STUB_STATE="+tc.state, fmt.Sprintf("STUB_INACTIVE=%d", tc.inactive),
				fmt.Sprintf("STUB_ACTIVE=%d", tc.inactive/2),
				fmt.Sprintf("STUB_OLD_STATUS=%d", tc.oldStatus), "DPKG_ROOT=")
			if tc.oldPackage {
				cmd.Env = append(cmd.Env, "STUB_OLD_PACKAGE=1")
			}
			out, err := cmd.CombinedOutput()
			b, _ := os.ReadFile(log)
			calls := string(b)
			if err != nil {
				t.Fatalf("scripts failed: %v\n%s\ncalls:\n%s", err, out, calls)
			}
			t.Logf("calls:\n%s", calls)
			lines := strings.Split(calls, "\n")
			for _, w := range tc.want {
				found := false
				for _, l := range lines {
					found = found || strings.HasPrefix(l, w)
				}
				if !found {
					t.Errorf("no %q; calls:\n%s", w, calls)
				}
			}
			for _, w := range tc.wantNot {
				for _, l := range lines {
					if strings.HasPrefix(l, w) {
						t.Errorf("unexpected %q; calls:\n%s", l, calls)
					}
				}
			}
			if strings.Contains(calls, "marker left") {
				t.Errorf("the start marker was left behind; calls:\n%s", calls)
			}
			if strings.Contains(tc.steps[len(tc.steps)-1].script, "postinst") &&
				(!strings.Contains(calls, "dir /var/lib/heartbeat 700") || !strings.Contains(calls, "dir /run/heartbeat 755")) {
				t.Errorf("state or run directory missing or with the wrong mode; calls:\n%s", calls)
			}
			if tc.name == "purge, SysV" && strings.Contains(calls, "dir /") {
				t.Errorf("purge left a directory; calls:\n%s", calls)
			}
		})
	}
}
