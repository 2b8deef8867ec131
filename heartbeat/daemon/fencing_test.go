package daemon

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"go.uber.org/zap"
	"golang.org/x/sys/unix"

	"github.com/hasuite/hasuite/heartbeat/config"
)

// TestSelfFence runs self_fence programs (stand-ins that never touch the
// machine) the way a failed stop or the suicide device does.
func TestSelfFence(t *testing.T) {
	tests := []struct {
		name    string
		body    string // of a sh script; "$0.child" receives a pid to check
		timeout time.Duration
		wantErr []string // substrings; none: success
		wantIs  error
		maxTook time.Duration
	}{
		{name: "success", body: "echo rebooting\nexit 0\n", timeout: 10 * time.Second, maxTook: 5 * time.Second},
		{name: "failure quotes the output", body: "echo no ipmi; echo really >&2; exit 3\n", timeout: 10 * time.Second,
			wantErr: []string{"exit status 3", "no ipmi", "really"}, maxTook: 5 * time.Second},
		{name: "hangs: killed with its children", body: "sleep 300 &\necho $! > \"$0.child\"\nwait\n", timeout: 500 * time.Millisecond,
			wantErr: []string{"process group"}, wantIs: context.DeadlineExceeded, maxTook: 5 * time.Second},
		// A daemon it starts keeps stdout open: the result must not wait
		// for it (the exec.Cmd with a bytes.Buffer before waited for ever).
		{name: "starts a daemon holding stdout", body: "sleep 30 &\necho $! > \"$0.child\"\nexit 0\n", timeout: time.Minute, maxTook: 5 * time.Second},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			path := filepath.Join(t.TempDir(), "self-fence")
			if err := os.WriteFile(path, []byte("#!/bin/sh\n"+tt.body), 0o755); err != nil {
				t.Fatal(err)
			}
			d := &Daemon{cfg: &config.Config{SelfFence: []string{path, "now"}}, logs: &logSetup{}, log: zap.NewNop()}
			ctx, cancel := context.WithTimeout(context.Background(), tt.timeout)
			defer cancel()
			began := time.Now()
			err := d.selfFence(ctx)
			if took := time.Since(began); took > tt.maxTook {
				t.Errorf("selfFence took %v", took)
			}
			switch {
			case tt.wantErr == nil && err != nil:
				t.Errorf("selfFence = %v", err)
			case tt.wantErr != nil && err == nil:
				t.Errorf("selfFence succeeded, want an error")
			}
			for _, w := range tt.wantErr {
				if err != nil && !strings.Contains(err.Error(), w) {
					t.Errorf("error %q lacks %q", err, w)
				}
			}
			if tt.wantIs != nil && !errors.Is(err, tt.wantIs) {
				t.Errorf("error %v is not %v", err, tt.wantIs)
			}
			if b, rerr := os.ReadFile(path + ".child"); rerr == nil {
				pid, _ := strconv.Atoi(strings.TrimSpace(string(b)))
				if tt.wantIs != nil {
					waitGone(t, pid)
				} else if pid > 0 {
					_ = unix.Kill(pid, unix.SIGKILL)
				}
			}
		})
	}
}

// waitGone fails unless pid stops running (a zombie counts as gone) soon.
func waitGone(t *testing.T, pid int) {
	t.Helper()
	deadline := time.Now().Add(3 * time.Second)
	for {
		b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
		s := string(b)
		i := strings.LastIndexByte(s, ')')
		if err != nil || (i >= 0 && i+2 < len(s) && s[i+2] == 'Z') {
			return
		}
		if time.Now().After(deadline) {
			t.Errorf("the self_fence program's child (pid %d) still runs", pid)
			return
		}
		time.Sleep(10 * time.Millisecond)
	}
}
