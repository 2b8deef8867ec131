package e2eres

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

// Paths of the binaries, built once by TestMain.
var (
	heartbeatBin  string
	clStatusBin   string
	hactlBin      string
	hbStandbyBin  string
	hbTakeoverBin string
	httpdBin      string
)

// buildTimeout bounds "go build" of the commands.
const buildTimeout = 5 * time.Minute

func TestMain(m *testing.M) {
	os.Exit(runMain(m))
}

func runMain(m *testing.M) int {
	if os.Geteuid() != 0 && os.Getenv("CI") != "true" {
		// Every test needs root for its namespaces and skips without it
		// (testbed.New says why); building would only cost time.
		return m.Run()
	}
	dir, err := os.MkdirTemp("", "hasuite-e2eres-bin-")
	if err != nil {
		fmt.Fprintln(os.Stderr, "e2eres:", err)
		return 1
	}
	defer os.RemoveAll(dir)
	// The sandboxed daemons' children drop nothing, but keep the directory
	// traversable for any user like the bed's own.
	if err := os.Chmod(dir, 0o755); err != nil {
		fmt.Fprintln(os.Stderr, "e2eres:", err)
		return 1
	}
	if err := buildBinaries(dir); err != nil {
		fmt.Fprintln(os.Stderr, "e2eres: building the binaries:", err)
		return 1
	}
	heartbeatBin = filepath.Join(dir, "heartbeat")
	clStatusBin = filepath.Join(dir, "cl_status")
	hactlBin = filepath.Join(dir, "hactl")
	hbStandbyBin = filepath.Join(dir, "hb_standby")
	hbTakeoverBin = filepath.Join(dir, "hb_takeover")
	httpdBin = filepath.Join(dir, "httpd")
	return m.Run()
}

// buildBinaries runs "go build -o dir/ ..." in the module root.
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
		"./cmd/heartbeat", "./cmd/cl_status", "./cmd/hactl", "./cmd/hb_standby", "./cmd/hb_takeover",
		"./internal/demo/httpd")
	cmd.Dir = filepath.Dir(gomod)
	if out, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("%v: %s", err, bytes.TrimSpace(out))
	}
	return nil
}
