package daemon

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/hasuite/hasuite/resources/haresources"
)

// The checks of haresources.toml are resolved at start and by heartbeat
// -t: a program that is missing or cannot be executed, and an unknown
// user, are errors at the check's file:line.
func TestCheckSpecs(t *testing.T) {
	dir := t.TempDir()
	noexec := filepath.Join(dir, "noexec")
	if err := os.WriteFile(noexec, []byte("#!/bin/sh\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	at := func(line int) haresources.Pos { return haresources.Pos{File: "/etc/ha.d/haresources.toml", Line: line} }
	check := func(line int, user string, cmd ...string) haresources.Check {
		return haresources.Check{Name: filepath.Base(cmd[0]), Command: cmd, User: user, Pos: at(line)}
	}
	good := []haresources.Group{{Key: "g", Checks: []haresources.Check{check(5, "", "sh", "-c", "true"), check(9, "root", "/bin/true")}}}
	specs, err := checkSpecs(good)
	if err != nil {
		t.Fatal(err)
	}
	if len(specs) != 2 || !strings.HasSuffix(specs[0].Path, "/sh") || specs[0].Args[1] != "true" || specs[1].Index != 1 || specs[1].User != "root" {
		t.Fatalf("%+v", specs)
	}
	for _, tc := range []struct {
		c    haresources.Check
		want string
	}{
		{check(3, "", "/nonexistent/check"), "/etc/ha.d/haresources.toml:3: check check of group g: stat /nonexistent/check: no such file"},
		{check(4, "", noexec), "/etc/ha.d/haresources.toml:4: check noexec of group g: " + noexec + " is not executable"},
		{check(5, "", dir), "is not a regular file"},
		{check(6, "", "bin/true"), "/etc/ha.d/haresources.toml:6: check true of group g: command \"bin/true\": give an absolute path"},
		{check(7, "", "no-such-check-program"), "/etc/ha.d/haresources.toml:7: check no-such-check-program of group g: command \"no-such-check-program\" not found"},
		{check(8, "no-such-user-hasuite", "/bin/true"), "/etc/ha.d/haresources.toml:8: check true of group g: run as user \"no-such-user-hasuite\""},
	} {
		_, err := checkSpecs([]haresources.Group{{Key: "g", Checks: []haresources.Check{tc.c}}})
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%v: error %v, want %q", tc.c.Command, err, tc.want)
		}
	}
}
