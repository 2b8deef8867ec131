package e2efence

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
	return testbed.GoBuild(dir, "./cmd/heartbeat", "./cmd/cl_status", "./cmd/hactl")
}
