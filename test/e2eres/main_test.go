package e2eres

import (
	"fmt"
	"os"
	"path/filepath"
	"testing"

	"github.com/hasuite/hasuite/internal/testbed"
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
	return testbed.GoBuild(dir, "./cmd/heartbeat", "./cmd/cl_status", "./cmd/hactl", "./cmd/hb_standby", "./cmd/hb_takeover", "./internal/demo/httpd")
}
