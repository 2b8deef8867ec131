package daemon

import (
	"testing"
	"time"
)

// The tests' wall clock: Unix time wall0 + mono (+ a step).
const wall0 = time.Duration(1_765_000_000) * time.Second

func stampAt(wall time.Duration) time.Time { return time.Unix(0, int64(wall)) }

func TestArrivalClockConvertsAndClamps(t *testing.T) {
	a := &arrivalClock{}
	if got := a.arrival(stampAt(wall0), 0, 5*time.Millisecond); got != 5*time.Millisecond {
		t.Fatalf("before any sample: %v, want the read time", got)
	}
	if step := a.sampleAt(wall0+time.Second, time.Second); step != 0 {
		t.Fatalf("first sample reports a step %v", step)
	}
	stamp := stampAt(wall0 + 700*time.Millisecond) // arrived at mono 700ms
	if got := a.arrival(stamp, 0, time.Second); got != 700*time.Millisecond {
		t.Fatalf("arrival = %v, want 700ms", got)
	}
	if got := a.arrival(time.Time{}, 0, time.Second); got != time.Second {
		t.Fatalf("no stamp: %v, want the read time", got)
	}
	if got := a.arrival(stamp, 800*time.Millisecond, time.Second); got != 800*time.Millisecond {
		t.Fatalf("stamp before the socket's last empty moment: %v, want that moment", got)
	}
	if got := a.arrival(stampAt(wall0+3*time.Second), 0, time.Second); got != time.Second {
		t.Fatalf("stamp after the read: %v, want the read time", got)
	}
	// A slew within tolerance is no step: 1 ms + 1000 ppm of 10 s = 11 ms.
	if step := a.sampleAt(wall0+11*time.Second+10*time.Millisecond, 11*time.Second); step != 0 {
		t.Fatalf("a 10ms drift over 10s taken for a step: %v", step)
	}
}

// A step of the wall clock during a stall: the stamps of that wake-up are
// not trusted (read time), those of the next ones are again.
func TestArrivalClockStepFallsBackToReadTime(t *testing.T) {
	for _, step := range []time.Duration{time.Hour, -time.Hour, 50 * time.Millisecond, -5 * time.Millisecond} {
		a := &arrivalClock{}
		a.sampleAt(wall0+time.Second, time.Second)
		// Stalled until mono 2.5 s; the wall clock was stepped at mono
		// 1.5 s; a datagram arrived at mono 2 s, stamped on the stepped
		// clock. Had the offset sampled at 2.5 s been applied to a stamp
		// from before the step, it would be off by the whole step.
		if got := a.sampleAt(wall0+2500*time.Millisecond+step, 2500*time.Millisecond); got != step {
			t.Fatalf("step %v: sample reported %v", step, got)
		}
		for _, st := range []time.Duration{2 * time.Second, 2*time.Second + step} {
			if at := a.arrival(stampAt(wall0+st), time.Second, 2500*time.Millisecond); at != 2500*time.Millisecond {
				t.Fatalf("step %v: arrival %v after a step, want the read time 2.5s", step, at)
			}
		}
		// The next wake-up, without a new step: stamps count again.
		if got := a.sampleAt(wall0+2600*time.Millisecond+step, 2600*time.Millisecond); got != 0 {
			t.Fatalf("step %v: step reported twice (%v)", step, got)
		}
		if at := a.arrival(stampAt(wall0+2550*time.Millisecond+step), 2500*time.Millisecond, 2600*time.Millisecond); at != 2550*time.Millisecond {
			t.Fatalf("step %v: arrival after the step: %v, want 2.55s", step, at)
		}
	}
}

func TestArrivalClockSampleUsesBothReadings(t *testing.T) {
	start := time.Now().Add(-time.Second) // keeps the monotonic reading
	a := &arrivalClock{start: start}
	now := time.Now()
	a.sample(now)
	read := now.Sub(start)
	// A datagram stamped 30 ms before now arrived 30 ms before the read.
	stamp := now.Round(0).Add(-30 * time.Millisecond)
	if got := a.arrival(stamp, 0, read); got < read-31*time.Millisecond || got > read-29*time.Millisecond {
		t.Fatalf("arrival %v, want about %v", got, read-30*time.Millisecond)
	}
}
