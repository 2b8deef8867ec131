package e2elinks

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

// buildTimeout bounds "go build" of the three commands.
const buildTimeout = 5 * time.Minute

// binDirEnv names a directory holding already built heartbeat, cl_status
// and hactl binaries; when it is set TestMain tests those instead of
// building the working tree (the same variable as test/e2e).
const binDirEnv = "HASUITE_E2E_BINDIR"

func TestMain(m *testing.M) {
	os.Exit(runMain(m))
}

func runMain(m *testing.M) int {
	go stalls.watch()
	if dir := os.Getenv(binDirEnv); dir != "" {
		setBinaries(dir)
		for _, p := range []string{heartbeatBin, clStatusBin, hactlBin} {
			if _, err := os.Stat(p); err != nil {
				fmt.Fprintf(os.Stderr, "e2elinks: %s=%s: %v\n", binDirEnv, dir, err)
				return 1
			}
		}
		return m.Run()
	}
	if os.Geteuid() != 0 && os.Getenv("CI") != "true" {
		// Every test needs root for its namespaces and skips without it
		// (testbed.New says why); building would only cost time.
		return m.Run()
	}
	dir, err := os.MkdirTemp("", "hasuite-e2elinks-bin-")
	if err != nil {
		fmt.Fprintln(os.Stderr, "e2elinks:", err)
		return 1
	}
	defer os.RemoveAll(dir)
	if err := buildBinaries(dir); err != nil {
		fmt.Fprintln(os.Stderr, "e2elinks: building the binaries:", err)
		return 1
	}
	setBinaries(dir)
	return m.Run()
}

func setBinaries(dir string) {
	heartbeatBin = filepath.Join(dir, "heartbeat")
	clStatusBin = filepath.Join(dir, "cl_status")
	hactlBin = filepath.Join(dir, "hactl")
}

// buildBinaries runs "go build -o dir/ ./cmd/..." in the module root.
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
	cmd := exec.CommandContext(ctx, goTool, "build", "-o", dir+string(os.PathSeparator), "./cmd/...")
	cmd.Dir = filepath.Dir(gomod)
	if out, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("%v: %s", err, bytes.TrimSpace(out))
	}
	return nil
}
