package benchres

import (
	"os"
	"runtime"
	"strconv"
	"testing"

	"github.com/hasuite/hasuite/internal/testbed"
)

// bins are the binaries the benchmarks run; httpd is the demo service.
// HB_BIN names a directory with them already built.
var bins = &testbed.BinSet{
	Env:   "HB_BIN",
	Names: []string{"heartbeat", "cl_status", "hactl", "hb_standby", "hb_takeover", "httpd"},
	Pkgs: []string{"./cmd/heartbeat", "./cmd/cl_status", "./cmd/hactl", "./cmd/hb_standby", "./cmd/hb_takeover",
		"./internal/demo/httpd"},
}

// binaries returns the directory holding the binaries.
func binaries(b testing.TB) string {
	b.Helper()
	return bins.Dir(b)
}

func TestMain(m *testing.M) {
	// More Ps than CPUs: the prober's thread, woken from nanosleep, must
	// not wait for a P behind the goroutines finishing earlier probes.
	runtime.GOMAXPROCS(max(16, 4*runtime.NumCPU()))
	code := m.Run()
	bins.Remove()
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
