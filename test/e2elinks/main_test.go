package e2elinks

import (
	"os"
	"testing"

	"github.com/hasuite/hasuite/test/internal/e2ekit"
)

// TestMain starts the stall watch, then builds the binaries once, or tests
// those in $HASUITE_E2E_BINDIR (as test/e2e) when it is set.
func TestMain(m *testing.M) {
	go stalls.watch()
	os.Exit(e2ekit.Main(m, e2ekit.Build{Name: "e2elinks", Pkgs: []string{"./cmd/..."},
		Prebuilt: []string{"heartbeat", "cl_status", "hactl"}}))
}
