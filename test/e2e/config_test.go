package e2e

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/hasuite/hasuite/internal/testbed"
	"github.com/hasuite/hasuite/test/internal/e2ekit"
)

// TestConfigurationErrorsAreReportedWithFileAndLineByTheBinary drives
// "heartbeat -t" and the daemon itself with good and bad configuration
// directories: a good one prints the effective values and exits 0; a bad
// directive or value exits 6 naming ha.cf:<line>; group-readable authkeys
// are refused with a message about the permissions; and the daemon given a
// bad configuration exits 6 at once instead of starting. Everything runs
// in a namespace so that a daemon that wrongly starts cannot send anything
// on the machine's network.
func TestConfigurationErrorsAreReportedWithFileAndLineByTheBinary(t *testing.T) {
	b := testbed.New(t)
	h := b.AddHost("node1")
	h.Connect(b.AddSwitch("lan"), "eth0", "198.18.0.1/24")
	good := ourHACF("100ms", "500ms", "2s", "ucast eth0 198.18.0.2")

	type cfgCase struct {
		name       string
		hacf       string
		keyMode    os.FileMode
		wantCode   int
		wantOutput []string
	}
	cases := []cfgCase{
		{"good directory prints the effective values", good, 0o600, 0, []string{
			"node node1\n", "node node2\n", "keepalive 100ms\n", "deadtime 500ms\n", "initdead 2000ms\n",
			"ucast eth0 198.18.0.2\n", "auto_failback on\n", "configuration OK",
			// One path, no STONITH, no watchdog: a warning, exit 0.
			"warning: ", "ha.cf:6: eth0 is the only heartbeat path and there is neither STONITH nor a watchdog"}},
		{"misspelt directive", "keeplive 100ms\ndeadtime 500ms\nucast eth0 198.18.0.2\nnode node1 node2\n",
			0o600, 6, []string{"ha.cf:1:", `unknown directive "keeplive" (did you mean keepalive?)`}},
		{"unknown directive", "keepalive 100ms\ndeadtime 500ms\nbogus_directive 1\nucast eth0 198.18.0.2\nnode node1 node2\n",
			0o600, 6, []string{"ha.cf:3:", "bogus_directive"}},
		{"bad time value", "keepalive 100ms\ndeadtime soon\nucast eth0 198.18.0.2\nnode node1 node2\n",
			0o600, 6, []string{"ha.cf:2:", "deadtime", "soon"}},
		{"deadtime not above keepalive", "keepalive 2\ndeadtime 1\nucast eth0 198.18.0.2\nnode node1 node2\n",
			0o600, 6, []string{"ha.cf:"}},
		{"group-readable authkeys", good, 0o644, 6, []string{"authkeys", "permissions", "0644"}},
	}
	for i, c := range cases {
		dir := filepath.Join(b.Dir, "conf", string(rune('a'+i)))
		e2ekit.WriteFile(t, filepath.Join(dir, "ha.cf"), c.hacf, 0o644)
		e2ekit.WriteFile(t, filepath.Join(dir, "authkeys"), sha256Authkeys, c.keyMode)

		r := h.Exec(t, e2ekit.Bin("heartbeat"), "-t", "-c", dir, "-n", "node1")
		if r.Code != c.wantCode {
			t.Errorf("%s: heartbeat -t = %v, want exit %d", c.name, r, c.wantCode)
		}
		for _, w := range c.wantOutput {
			if out := r.Stdout + r.Stderr; !strings.Contains(out, w) {
				t.Errorf("%s: heartbeat -t output lacks %q:\n%s", c.name, w, out)
			}
		}
		// hactl check is the same check; --json gives the findings with file and line.
		j := h.Exec(t, e2ekit.Bin("hactl"), "check", "--json", "-c", dir, "-n", "node1")
		var rep struct {
			OK       bool `json:"ok"`
			Warnings []struct {
				File    string `json:"file"`
				Line    int    `json:"line"`
				Message string `json:"message"`
			} `json:"warnings"`
			Errors []struct {
				File    string `json:"file"`
				Line    int    `json:"line"`
				Message string `json:"message"`
			} `json:"errors"`
		}
		if err := json.Unmarshal([]byte(j.Stdout), &rep); err != nil || j.Code != c.wantCode || rep.OK != (c.wantCode == 0) {
			t.Errorf("%s: hactl check --json = %v (%v), want exit %d", c.name, j, err, c.wantCode)
		}
		if c.wantCode == 0 {
			found := false
			for _, w := range rep.Warnings {
				found = found || w.File == filepath.Join(dir, "ha.cf") && w.Line == 6 && strings.HasPrefix(w.Message, "eth0 is the only heartbeat path")
			}
			if !found {
				t.Errorf("%s: hactl check --json lacks the one-path warning at ha.cf:6: %+v", c.name, rep.Warnings)
			}
			continue
		}
		if len(rep.Errors) == 0 || !strings.Contains(rep.Errors[0].File+":"+strconv.Itoa(rep.Errors[0].Line)+": "+rep.Errors[0].Message, c.wantOutput[len(c.wantOutput)-1]) {
			t.Errorf("%s: hactl check --json errors %+v lack %q", c.name, rep.Errors, c.wantOutput[len(c.wantOutput)-1])
		}

		// The daemon itself refuses to start, at once, and leaves nothing running.
		runDir, stateDir := filepath.Join(dir, "run"), filepath.Join(dir, "state")
		d := h.Exec(t, e2ekit.Bin("heartbeat"), "-c", dir, "-n", "node1", "--run-dir", runDir, "--state-dir", stateDir)
		dout := d.Stdout + d.Stderr
		if d.Code != 6 || !strings.Contains(dout, "Configuration error, heartbeat not started.") {
			t.Errorf("%s: daemon = %v, want exit 6 and \"Configuration error, heartbeat not started.\"", c.name, d)
		}
		if d.Took > 3*time.Second {
			t.Errorf("%s: the daemon took %v to refuse a bad configuration", c.name, d.Took)
		}
		for _, w := range c.wantOutput {
			if !strings.Contains(dout, w) {
				t.Errorf("%s: daemon's error lacks %q:\n%s", c.name, w, dout)
			}
		}
		if _, err := os.Stat(filepath.Join(runDir, "heartbeat.pid")); err == nil {
			t.Errorf("%s: the refused daemon left a pid file", c.name)
		}
	}
}
