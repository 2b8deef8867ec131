package daemon

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/hasuite/hasuite/heartbeat/config"
)

// The notify hooks' programs and the smtp_auth file are checked on the
// machine that runs the daemon (heartbeat -t, start), with the line of
// their directive: ha.cf itself parses the same anywhere.
func TestCheckNotifyOnThisMachine(t *testing.T) {
	dir := t.TempDir()
	write := func(name, text string, mode os.FileMode) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(text), mode); err != nil {
			t.Fatal(err)
		}
		if err := os.Chmod(p, mode); err != nil {
			t.Fatal(err)
		}
		return p
	}
	hook := write("hook", "#!/bin/sh\nexit 0\n", 0o755)
	plain := write("plain", "#!/bin/sh\n", 0o644)
	auth600 := write("auth", "user secret-password\n", 0o600)
	auth644 := write("auth644", "user secret-password\n", 0o644)
	for _, tc := range []struct {
		name, in string
		line     int
		err      string // "" = no error
	}{
		{"good", "notify " + hook + "\nmail_to a@example.com\nsmtp_auth " + auth600, 0, ""},
		{"hook missing", "\nnotify " + dir + "/nothing", 2, "no such file or directory"},
		{"hook not executable", "notify_master " + plain, 1, "is not executable"},
		{"hook a directory", "notify " + dir, 1, "is not a regular file"},
		{"smtp_auth readable", "mail_to a@example.com\nsmtp_auth " + auth644, 2, "bad permissions 0644"},
		{"smtp_auth missing", "mail_to a@example.com\nsmtp_auth " + dir + "/none", 2, "no such file"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cfg, err := config.ParseHACF(strings.NewReader(tc.in+"\nnode node1 node2\nucast eth0 198.18.0.2\n"), "ha.cf")
			if err != nil {
				t.Fatalf("parse: %v", err)
			}
			errs := checkNotify(cfg)
			if tc.err == "" {
				if len(errs) > 0 {
					t.Fatalf("errors for a good configuration: %v", errs)
				}
				return
			}
			if len(errs) != 1 || errs[0].Pos.Line != tc.line || !strings.Contains(errs[0].Error(), tc.err) ||
				!strings.HasPrefix(errs[0].Error(), "ha.cf:") {
				t.Fatalf("errors %v, want one at ha.cf:%d containing %q", errs, tc.line, tc.err)
			}
		})
	}
}
