package e2eres

import (
	"os"
	"testing"

	"github.com/hasuite/hasuite/test/internal/e2ekit"
)

// TestMain builds the binaries once: the suite's, and the demo httpd that
// the tests' LSB script runs.
func TestMain(m *testing.M) {
	os.Exit(e2ekit.Main(m, e2ekit.Build{Name: "e2eres", Pkgs: []string{"./cmd/heartbeat", "./cmd/cl_status", "./cmd/hactl",
		"./cmd/hb_standby", "./cmd/hb_takeover", "./internal/demo/httpd"}}))
}
