package control

import (
	"os"
	"path/filepath"
	"testing"
)

func TestPidFile(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "run")
	remove, err := WritePidFile(dir)
	if err != nil {
		t.Fatal(err)
	}
	pid, ok := ReadPid(dir)
	if !ok || pid != os.Getpid() {
		t.Fatalf("ReadPid = %d, %v; want %d, true", pid, ok, os.Getpid())
	}
	remove()
	if _, err := os.Stat(filepath.Join(dir, PidFileName)); !os.IsNotExist(err) {
		t.Fatalf("pid file still there: %v", err)
	}
	remove() // idempotent
}

func TestPidFileRemoverSparesSuccessor(t *testing.T) {
	dir := t.TempDir()
	remove, err := WritePidFile(dir)
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, PidFileName)
	if err := os.WriteFile(path, []byte("1\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	remove()
	if b, err := os.ReadFile(path); err != nil || string(b) != "1\n" {
		t.Fatalf("successor's pid file changed: %q, %v", b, err)
	}
}

func TestReadPid(t *testing.T) {
	tests := []struct {
		name    string
		content *string
		wantPid int
		wantOK  bool
	}{
		{name: "missing"},
		{name: "garbage", content: strp("hello\n")},
		{name: "empty", content: strp("")},
		{name: "zero", content: strp("0\n")},
		{name: "negative", content: strp("-1\n")},
		{name: "init exists", content: strp("1\n"), wantPid: 1, wantOK: true},
		{name: "no newline", content: strp("1"), wantPid: 1, wantOK: true},
		// Above any possible pid_max (2^22): certainly not running.
		{name: "stale", content: strp("1073741824\n"), wantPid: 1 << 30},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			if tc.content != nil {
				if err := os.WriteFile(filepath.Join(dir, PidFileName), []byte(*tc.content), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			pid, ok := ReadPid(dir)
			if pid != tc.wantPid || ok != tc.wantOK {
				t.Fatalf("ReadPid = %d, %v; want %d, %v", pid, ok, tc.wantPid, tc.wantOK)
			}
		})
	}
}

func TestDefaultRunDir(t *testing.T) {
	tests := []struct{ flag, env, want string }{
		{"", "", DefaultRunDirPath},
		{"", "/tmp/env", "/tmp/env"},
		{"/tmp/flag", "/tmp/env", "/tmp/flag"},
		{"/tmp/flag", "", "/tmp/flag"},
	}
	for _, tc := range tests {
		t.Setenv(RunDirEnv, tc.env)
		if got := DefaultRunDir(tc.flag); got != tc.want {
			t.Errorf("DefaultRunDir(%q) with env %q = %q, want %q", tc.flag, tc.env, got, tc.want)
		}
	}
}

func strp(s string) *string { return &s }
