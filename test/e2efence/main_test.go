package e2efence

import (
	"os"
	"testing"

	"github.com/hasuite/hasuite/test/internal/e2ekit"
)

// TestMain builds heartbeat, cl_status and hactl once.
func TestMain(m *testing.M) {
	os.Exit(e2ekit.Main(m, e2ekit.Build{Name: "e2efence", Pkgs: []string{"./cmd/heartbeat", "./cmd/cl_status", "./cmd/hactl"}}))
}
