package e2e

import (
	"os"
	"testing"

	"github.com/hasuite/hasuite/test/internal/e2ekit"
)

// TestMain builds heartbeat, cl_status and hactl once, or tests those in
// $HASUITE_E2E_BINDIR (e2ekit.BinDirEnv: a CI artifact, an installed build)
// when it is set.
func TestMain(m *testing.M) {
	os.Exit(e2ekit.Main(m, e2ekit.Build{Name: "e2e", Pkgs: []string{"./cmd/heartbeat", "./cmd/cl_status", "./cmd/hactl"},
		Prebuilt: []string{"heartbeat", "cl_status", "hactl"}}))
}
