package e2efence

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"
)

// Paths of the suite's binaries, built once by TestMain.
var (
	heartbeatBin string
	clStatusBin  string
	hactlBin     string
)

const buildTimeout = 5 * time.Minute

func TestMain(m *testing.M) { os.Exit(runMain(m)) }

func runMain(m *testing.M) int {
	if os.Geteuid() != 0 && os.Getenv("CI") != "true" {
		// Every test needs root and skips without it (testbed.New says why).
		return m.Run()
	}
	dir, err := os.MkdirTemp("", "hasuite-e2efence-bin-")
	if err != nil {
		fmt.Fprintln(os.Stderr, "e2efence:", err)
		return 1
	}
	defer os.RemoveAll(dir)
	if err := buildBinaries(dir); err != nil {
		fmt.Fprintln(os.Stderr, "e2efence: building the binaries:", err)
		return 1
	}
	heartbeatBin = filepath.Join(dir, "heartbeat")
	clStatusBin = filepath.Join(dir, "cl_status")
	hactlBin = filepath.Join(dir, "hactl")
	return m.Run()
}

func buildBinaries(dir string) error {
	goTool := filepath.Join(runtime.GOROOT(), "bin", "go")
	if _, err := os.Stat(goTool); err != nil {
		goTool = "go"
	}
	ctx, cancel := context.WithTimeout(context.Background(), buildTimeout)
	defer cancel()
	out, err := exec.CommandContext(ctx, goTool, "env", "GOMOD").Output()
	if err != nil {
		return fmt.Errorf("go env GOMOD: %v", err)
	}
	gomod := strings.TrimSpace(string(out))
	if gomod == "" || gomod == os.DevNull {
		return fmt.Errorf("not inside a module (GOMOD=%q)", gomod)
	}
	cmd := exec.CommandContext(ctx, goTool, "build", "-o", dir+string(os.PathSeparator),
		"./cmd/heartbeat", "./cmd/cl_status", "./cmd/hactl")
	cmd.Dir = filepath.Dir(gomod)
	if out, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("%v: %s", err, bytes.TrimSpace(out))
	}
	return nil
}
