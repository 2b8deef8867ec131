package benchres

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"sync"
	"testing"
	"time"
)

// buildTimeout bounds "go build" of the binaries.
const buildTimeout = 5 * time.Minute

// binNames are the binaries the benchmarks run; httpd is the demo service.
var binNames = []string{"heartbeat", "cl_status", "hactl", "hb_standby", "hb_takeover", "httpd"}

var (
	buildOnce sync.Once
	binDir    string
	ownBin    bool // binDir was made here and is removed by TestMain
	buildErr  error
)

// binaries returns the directory holding the binaries: $HB_BIN if set, else
// a temporary directory they are built into once from this module.
func binaries(b testing.TB) string {
	b.Helper()
	buildOnce.Do(func() {
		if dir := os.Getenv("HB_BIN"); dir != "" {
			binDir = dir
			for _, name := range binNames {
				if _, err := os.Stat(filepath.Join(dir, name)); err != nil {
					buildErr = fmt.Errorf("HB_BIN=%s: %v", dir, err)
				}
			}
			return
		}
		_, file, _, ok := runtime.Caller(0)
		if !ok {
			buildErr = fmt.Errorf("cannot locate the module root")
			return
		}
		root := filepath.Join(filepath.Dir(file), "..", "..")
		dir, err := os.MkdirTemp("", "hasuite-benchres-bin-")
		if err != nil {
			buildErr = err
			return
		}
		// Traversable by everyone: nothing here drops privileges, but keep
		// it like the bed's directory.
		if err := os.Chmod(dir, 0o755); err != nil {
			buildErr = err
			return
		}
		binDir, ownBin = dir, true
		ctx, cancel := context.WithTimeout(context.Background(), buildTimeout)
		defer cancel()
		cmd := exec.CommandContext(ctx, "go", "build", "-trimpath", "-o", dir+"/",
			"./cmd/heartbeat", "./cmd/cl_status", "./cmd/hactl", "./cmd/hb_standby", "./cmd/hb_takeover",
			"./internal/demo/httpd")
		cmd.Dir = root
		if out, err := cmd.CombinedOutput(); err != nil {
			buildErr = fmt.Errorf("go build: %v: %s", err, out)
		}
	})
	if buildErr != nil {
		b.Fatal(buildErr)
	}
	return binDir
}

func TestMain(m *testing.M) {
	// More Ps than CPUs: the prober's thread, woken from nanosleep, must
	// not wait for a P behind the goroutines finishing earlier probes.
	runtime.GOMAXPROCS(max(16, 4*runtime.NumCPU()))
	code := m.Run()
	if ownBin {
		_ = os.RemoveAll(binDir)
	}
	os.Exit(code)
}

// envInt reads a positive integer knob.
func envInt(name string, def int) int {
	if v, err := strconv.Atoi(os.Getenv(name)); err == nil && v > 0 {
		return v
	}
	return def
}

// trials is the number of trials per figure (HB_TRIALS, default 20).
func trials() int { return envInt("HB_TRIALS", 20) }

// cmpTrials is the number of trials of the comparison (HB_CMP_TRIALS, default 10).
func cmpTrials() int { return envInt("HB_CMP_TRIALS", 10) }
