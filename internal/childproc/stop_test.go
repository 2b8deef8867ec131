package childproc

import (
	"context"
	"errors"
	"os"
	"strings"
	"syscall"
	"testing"
	"time"
)

// TestStop: closing Spec.Stop ends the run with SIGTERM (the program may
// clean up) and SIGKILL after KillGrace when it ignores SIGTERM.
func TestStop(t *testing.T) {
	for _, tt := range []struct {
		name       string
		body       string
		wantSignal syscall.Signal
		wantExit   int
		minElapsed time.Duration
	}{
		{name: "SIGTERM obeyed", body: "trap 'echo term; exit 7' TERM\necho ready\nwhile :; do sleep 0.05; done\n", wantExit: 7},
		{name: "SIGTERM ignored: SIGKILL after the grace", body: "trap '' TERM\necho ready\nwhile :; do sleep 0.05; done\n",
			wantSignal: syscall.SIGKILL, wantExit: -1, minElapsed: time.Second},
	} {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			path := script(t, tt.body)
			stop := make(chan struct{})
			ready := make(chan struct{})
			go func() {
				<-ready
				close(stop)
			}()
			var once bool
			start := time.Now()
			res, err := Run(context.Background(), Spec{Path: path, Env: os.Environ(), Stop: stop, KillGrace: time.Second,
				OnLine: func(l Line) {
					if l.Text == "ready" && !once {
						once = true
						close(ready)
					}
				}})
			took := time.Since(start)
			if !errors.Is(err, ErrStopped) || errors.Is(err, ErrTimeout) {
				t.Fatalf("error %v, want ErrStopped", err)
			}
			if !res.Killed || res.TimedOut {
				t.Errorf("Killed %v TimedOut %v", res.Killed, res.TimedOut)
			}
			if res.Signal != tt.wantSignal || res.ExitCode != tt.wantExit {
				t.Errorf("signal %v exit %d, want %v %d", res.Signal, res.ExitCode, tt.wantSignal, tt.wantExit)
			}
			if took < tt.minElapsed || took > 10*time.Second {
				t.Errorf("took %s", took)
			}
			if tt.wantExit == 7 && !strings.Contains(res.Stdout.String(), "term") {
				t.Errorf("the program's SIGTERM handler did not run: %q", res.Stdout.String())
			}
		})
	}
}

// TestStopAfterExit: a Stop channel closed after the program has exited
// changes nothing.
func TestStopAfterExit(t *testing.T) {
	stop := make(chan struct{})
	res, err := Run(context.Background(), Spec{Path: script(t, "exit 3\n"), Stop: stop})
	close(stop)
	if err != nil || res.ExitCode != 3 || res.Killed {
		t.Fatalf("res %+v err %v", res, err)
	}
}
