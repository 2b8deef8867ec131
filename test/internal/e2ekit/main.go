package e2ekit

import (
	"fmt"
	"os"
	"path/filepath"
	"testing"

	"github.com/hasuite/hasuite/internal/testbed"
)

// BinDirEnv names a directory holding already built binaries (a CI
// artifact, an installed build): a package whose Build lists Prebuilt tests
// those instead of building the working tree.
const BinDirEnv = "HASUITE_E2E_BINDIR"

// Build is what a package's TestMain builds.
type Build struct {
	// Name is the package's, for messages and the temporary directory.
	Name string
	// Pkgs are built with "go build -o DIR/" in the module root.
	Pkgs []string
	// Prebuilt, if set, are the binaries the package takes from
	// $HASUITE_E2E_BINDIR when that is set (each must be there); nil: the
	// package always builds its own.
	Prebuilt []string
}

// binDir holds the binaries Main built or found ("" before, and when it
// built nothing).
var binDir string

// Bin is the path of the binary name that Main built or found; "" when it
// built nothing (no root: every test skips).
func Bin(name string) string {
	if binDir == "" {
		return ""
	}
	return filepath.Join(binDir, name)
}

// Main is the body of an end-to-end package's TestMain: it builds b.Pkgs
// into a temporary directory (or takes the Prebuilt ones), runs the tests
// and returns the exit code:
//
//	func TestMain(m *testing.M) { os.Exit(e2ekit.Main(m, e2ekit.Build{...})) }
//
// Without root (and outside CI) it builds nothing: every test needs root
// for its namespaces and skips without it (testbed.New says why).
func Main(m *testing.M, b Build) int {
	set := &testbed.BinSet{Pkgs: b.Pkgs}
	if b.Prebuilt != nil {
		set.Env, set.Names = BinDirEnv, b.Prebuilt
	}
	if os.Getenv(set.Env) == "" && os.Geteuid() != 0 && os.Getenv("CI") != "true" {
		return m.Run()
	}
	dir, err := set.Build()
	defer set.Remove()
	if err != nil {
		fmt.Fprintf(os.Stderr, "%s: %v\n", b.Name, err)
		return 1
	}
	binDir = dir
	return m.Run()
}
