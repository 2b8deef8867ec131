package testbed

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"
)

// buildTimeout bounds one GoBuild.
const buildTimeout = 5 * time.Minute

// GoBuild runs "go build -o dir/ pkgs..." in the root of the module the
// test runs in: end-to-end tests and benchmarks build the suite's binaries
// once, in TestMain, and run them as an operator would.
func GoBuild(dir string, pkgs ...string) error {
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
	args := append([]string{"build", "-o", dir + string(os.PathSeparator)}, pkgs...)
	cmd := exec.CommandContext(ctx, goTool, args...)
	cmd.Dir = filepath.Dir(gomod)
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0") // as `make build` ships them
	if out, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("go build %s: %v: %s", strings.Join(pkgs, " "), err, bytes.TrimSpace(out))
	}
	return nil
}

// BinSet is a set of the suite's binaries for a test or benchmark
// package: built once into a temporary directory, or taken from the
// directory $Env names (e.g. the bin/ that "make build" fills, or a CI
// artifact). Remove deletes what it built; call it after m.Run.
type BinSet struct {
	Env   string   // names a directory with the binaries already built ("": always build)
	Names []string // the binaries, each must be in that directory
	Pkgs  []string // what GoBuild builds otherwise

	once sync.Once
	dir  string
	own  bool
	err  error
}

// Build finds or builds the binaries (once) and returns their directory.
func (s *BinSet) Build() (string, error) {
	s.once.Do(s.find)
	return s.dir, s.err
}

// Dir is Build for a test or benchmark that uses the binaries: a benchmark
// that is not selected builds nothing. It fails tb on an error.
func (s *BinSet) Dir(tb testing.TB) string {
	tb.Helper()
	dir, err := s.Build()
	if err != nil {
		tb.Fatal(err)
	}
	return dir
}

func (s *BinSet) find() {
	if s.Env != "" {
		if dir := os.Getenv(s.Env); dir != "" {
			s.dir = dir
			for _, name := range s.Names {
				if _, err := os.Stat(filepath.Join(dir, name)); err != nil {
					s.err = fmt.Errorf("%s=%s: %v", s.Env, dir, err)
					return
				}
			}
			return
		}
	}
	dir, err := os.MkdirTemp("", "hasuite-bin-")
	if err != nil {
		s.err = err
		return
	}
	s.dir, s.own = dir, true
	// Traversable by every user: sandboxed daemons run as another user.
	if err := os.Chmod(dir, 0o755); err != nil {
		s.err = err
		return
	}
	if err := GoBuild(dir, s.Pkgs...); err != nil {
		s.err = fmt.Errorf("building the binaries: %w", err)
	}
}

// Remove deletes the directory Build made (never one $Env named).
func (s *BinSet) Remove() {
	if s.own {
		_ = os.RemoveAll(s.dir)
	}
}
