package control

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"
)

const helperEnv = "HBT_CONTROL_HELPER_RUNDIR"

// TestHelperProcess is not a test: re-executed as another user, it makes
// one Call and prints the outcome as JSON.
func TestHelperProcess(t *testing.T) {
	dir := os.Getenv(helperEnv)
	if dir == "" {
		t.Skip("helper process only")
	}
	ctx, cancel := context.WithTimeout(context.Background(), testTimeout)
	defer cancel()
	resp, err := Call(ctx, dir, Request{Cmd: "status"})
	out := struct {
		Resp Response
		Err  string
	}{Resp: resp}
	if err != nil {
		out.Err = err.Error()
	}
	_ = json.NewEncoder(os.Stdout).Encode(out)
	os.Exit(0)
}

// skipUnlessRoot skips (or fails under CI=true) when we cannot switch uid.
func skipUnlessRoot(t *testing.T) {
	t.Helper()
	if os.Geteuid() == 0 {
		return
	}
	if os.Getenv("CI") == "true" {
		t.Fatal("this test needs root to run a client as another uid, and CI=true")
	}
	t.Skip("needs root to run a client as another uid")
}

// worldDir returns a fresh directory every user can traverse.
func worldDir(t *testing.T) string {
	t.Helper()
	d, err := os.MkdirTemp("", "hbt-control-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = os.RemoveAll(d) })
	if err := os.Chmod(d, 0o755); err != nil {
		t.Fatal(err)
	}
	return d
}

// copyTestBinary makes this test binary executable by other users (the go
// build cache directory is private to us).
func copyTestBinary(t *testing.T, dir string) string {
	t.Helper()
	self, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	src, err := os.Open(self)
	if err != nil {
		t.Fatal(err)
	}
	defer src.Close()
	dst := filepath.Join(dir, "control.test")
	f, err := os.OpenFile(dst, os.O_CREATE|os.O_WRONLY|os.O_EXCL, 0o755)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := io.Copy(f, src); err != nil {
		t.Fatal(err)
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
	return dst
}

type helperResult struct {
	Resp Response
	Err  string
}

func runAsNobody(t *testing.T, bin, runDir string) helperResult {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), testTimeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, bin, "-test.run=^TestHelperProcess$", "-test.count=1")
	cmd.Env = []string{helperEnv + "=" + runDir}
	cmd.Dir = "/"
	cmd.SysProcAttr = &syscall.SysProcAttr{Credential: &syscall.Credential{Uid: 65534, Gid: 65534}}
	cmd.WaitDelay = time.Second
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("helper as uid 65534: %v; output %q", err, out)
	}
	var res helperResult
	if err := json.Unmarshal(out, &res); err != nil {
		t.Fatalf("helper output %q: %v", out, err)
	}
	return res
}

func TestPeerCredentials(t *testing.T) {
	skipUnlessRoot(t)
	base := worldDir(t)
	bin := copyTestBinary(t, base)
	runDir := filepath.Join(base, "run")
	var calls atomic.Int32
	s := listen(t, runDir, func(ctx context.Context, req Request) Response {
		calls.Add(1)
		return echo(ctx, req)
	})

	t.Run("socket mode keeps others out", func(t *testing.T) {
		res := runAsNobody(t, bin, runDir)
		if !strings.Contains(res.Err, "permission denied") {
			t.Fatalf("uid 65534 on a 0600 socket: %+v, want connect permission denied", res)
		}
	})
	t.Run("peer credentials refuse others", func(t *testing.T) {
		// Simulate an operator widening the socket's mode by mistake.
		if err := os.Chmod(s.Path(), 0o666); err != nil {
			t.Fatal(err)
		}
		res := runAsNobody(t, bin, runDir)
		if res.Err != "" || res.Resp.OK || !strings.Contains(res.Resp.Error, fmt.Sprintf("uid %d", 65534)) {
			t.Fatalf("uid 65534 through a 0666 socket: %+v, want refusal response", res)
		}
	})
	if n := calls.Load(); n != 0 {
		t.Fatalf("handler ran %d times for a refused uid", n)
	}
	// Root still gets through.
	if resp := call(t, runDir, Request{Cmd: "x"}); !resp.OK {
		t.Fatalf("root refused: %+v", resp)
	}
}
