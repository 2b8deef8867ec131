package e2e

import (
	"fmt"
	"os"
	"path/filepath"
	"testing"

	"github.com/hasuite/hasuite/internal/testbed"
)

// Paths of the suite's binaries, built once by TestMain.
var (
	heartbeatBin string
	clStatusBin  string
	hactlBin     string
)

func TestMain(m *testing.M) {
	os.Exit(runMain(m))
}

// binDirEnv names a directory holding already built heartbeat, cl_status
// and hactl binaries (a CI artifact, an installed build); when it is set
// TestMain tests those instead of building the working tree.
const binDirEnv = "HASUITE_E2E_BINDIR"

func runMain(m *testing.M) int {
	if dir := os.Getenv(binDirEnv); dir != "" {
		setBinaries(dir)
		for _, p := range []string{heartbeatBin, clStatusBin, hactlBin} {
			if _, err := os.Stat(p); err != nil {
				fmt.Fprintf(os.Stderr, "e2e: %s=%s: %v\n", binDirEnv, dir, err)
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
	dir, err := os.MkdirTemp("", "hasuite-e2e-bin-")
	if err != nil {
		fmt.Fprintln(os.Stderr, "e2e:", err)
		return 1
	}
	defer os.RemoveAll(dir)
	if err := buildBinaries(dir); err != nil {
		fmt.Fprintln(os.Stderr, "e2e: building the binaries:", err)
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
	return testbed.GoBuild(dir, "./cmd/heartbeat", "./cmd/cl_status", "./cmd/hactl")
}
