package e2elinks

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
	return testbed.GoBuild(dir, "./cmd/...")
}
