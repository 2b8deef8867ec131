package benchres

import (
	"fmt"
	"testing"
	"time"
)

// The machines these benchmarks run on are shared with other test runs, so
// a trial can be spoiled by something that is not the product:
//
//   - the instrument: the client's prober did not send for a while inside
//     the window a trial measures (its thread was not scheduled), which can
//     lengthen the figure by up to that pause; when the pause is longer
//     than minProberPause and than a tenth of the figure, the trial is
//     discarded and repeated (see disturbed);
//   - the cluster misbehaves (a false death under CPU starvation, a move
//     that does not complete in time): that is an anomaly, logged with the
//     daemons' logs, counted and reported; the pair is then reset and the
//     trial repeated.
//
// Both counts are reported as metrics, so a run that needed them says so.
const (
	minProberPause = 3 * time.Millisecond
	maxAnomalies   = 3
)

// trialRunner counts trials until want good ones were recorded.
type trialRunner struct {
	b         *testing.B
	want      int
	good      int
	attempts  int
	discarded int
	anomalies int
}

func newTrials(b *testing.B, want int) *trialRunner {
	return &trialRunner{b: b, want: want}
}

// next reports whether another trial is needed; it fails the benchmark
// when too many were spoiled.
func (t *trialRunner) next() bool {
	t.b.Helper()
	if t.good >= t.want {
		return false
	}
	if t.attempts >= 2*t.want+5 {
		t.b.Fatalf("%d attempts for %d good trials (%d discarded, %d anomalies): the machine is too busy to measure",
			t.attempts, t.want, t.discarded, t.anomalies)
	}
	t.attempts++
	return true
}

// n is the number of the current attempt, for log lines.
func (t *trialRunner) n() int { return t.attempts }

func (t *trialRunner) ok() { t.good++ }

// discard drops the current trial because the instrument was disturbed.
func (t *trialRunner) discard(format string, args ...any) {
	t.b.Helper()
	t.discarded++
	t.b.Logf("attempt %d discarded: %s", t.attempts, fmt.Sprintf(format, args...))
}

// anomaly records a misbehaving cluster; reset brings it back.
func (t *trialRunner) anomaly(err error, reset func()) {
	t.b.Helper()
	t.anomalies++
	t.b.Logf("attempt %d: ANOMALY: %v", t.attempts, err)
	if t.anomalies > maxAnomalies {
		t.b.Fatalf("more than %d anomalies", maxAnomalies)
	}
	reset()
}

// report adds the counts to the benchmark's metrics.
func (t *trialRunner) report() {
	t.b.ReportMetric(float64(t.good), "trials")
	t.b.ReportMetric(float64(t.discarded), "discarded")
	t.b.ReportMetric(float64(t.anomalies), "anomalies")
}

// disturbed reports whether a prober pause spoils a measured figure.
func disturbed(pause, figure time.Duration) bool {
	return pause > max(minProberPause, figure/10)
}

// proberPause is the longest pause between two consecutive sends of the
// prober that ends inside [from, to].
func proberPause(probes []probe, from, to time.Time) time.Duration {
	var pause time.Duration
	var prev time.Time
	for _, p := range probes { // ordered by sent
		if !prev.IsZero() && p.sent.After(from) && !prev.After(to) {
			pause = max(pause, p.sent.Sub(prev))
		}
		prev = p.sent
	}
	return pause
}
