package benchres

import (
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"
)

// summary holds the order statistics of a sample.
type summary struct {
	n                  int
	min, p50, p90, max time.Duration
	mean               time.Duration
}

// percentile is the nearest-rank percentile of a sorted sample: the smallest
// value with at least p% of the sample at or below it.
func percentile(sorted []time.Duration, p float64) time.Duration {
	if len(sorted) == 0 {
		return 0
	}
	rank := int(p/100*float64(len(sorted)) + 0.999999999)
	rank = min(max(rank, 1), len(sorted))
	return sorted[rank-1]
}

// median is the middle value (the mean of the two middle ones for an even
// count).
func median(sorted []time.Duration) time.Duration {
	n := len(sorted)
	switch {
	case n == 0:
		return 0
	case n%2 == 1:
		return sorted[n/2]
	default:
		return (sorted[n/2-1] + sorted[n/2]) / 2
	}
}

func summarize(d []time.Duration) summary {
	s := slices.Clone(d)
	slices.Sort(s)
	out := summary{n: len(s)}
	if len(s) == 0 {
		return out
	}
	var sum time.Duration
	for _, v := range s {
		sum += v
	}
	out.min, out.max = s[0], s[len(s)-1]
	out.p50, out.p90 = median(s), percentile(s, 90)
	out.mean = sum / time.Duration(len(s))
	return out
}

func ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }

func (s summary) String() string {
	return fmt.Sprintf("n=%d min=%.2fms median=%.2fms p90=%.2fms max=%.2fms mean=%.2fms",
		s.n, ms(s.min), ms(s.p50), ms(s.p90), ms(s.max), ms(s.mean))
}

// report puts a summary into the benchmark's metrics, names prefixed.
func (s summary) report(b *testing.B, prefix string) {
	b.ReportMetric(ms(s.p50), prefix+"-median-ms")
	b.ReportMetric(ms(s.p90), prefix+"-p90-ms")
	b.ReportMetric(ms(s.max), prefix+"-max-ms")
}

// samples collects named series of durations, in insertion order.
type samples struct {
	names []string
	vals  map[string][]time.Duration
}

func (s *samples) add(name string, d time.Duration) {
	if s.vals == nil {
		s.vals = map[string][]time.Duration{}
	}
	if _, ok := s.vals[name]; !ok {
		s.names = append(s.names, name)
	}
	s.vals[name] = append(s.vals[name], d)
}

// report logs every series and reports those in metrics (all if empty).
func (s *samples) report(b *testing.B, metrics ...string) {
	b.Helper()
	var lines []string
	for _, n := range s.names {
		lines = append(lines, fmt.Sprintf("  %-28s %v", n, summarize(s.vals[n])))
	}
	b.Logf("%s:\n%s", b.Name(), strings.Join(lines, "\n"))
	if len(metrics) == 0 {
		metrics = s.names
	}
	for _, n := range metrics {
		if v, ok := s.vals[n]; ok {
			summarize(v).report(b, n)
		}
	}
}

func TestSummary(t *testing.T) {
	var d []time.Duration
	for i := 20; i >= 1; i-- {
		d = append(d, time.Duration(i)*time.Millisecond)
	}
	s := summarize(d)
	if s.min != time.Millisecond || s.max != 20*time.Millisecond || s.p50 != 10500*time.Microsecond || s.p90 != 18*time.Millisecond {
		t.Fatalf("summary %v", s)
	}
}

func TestOutage(t *testing.T) {
	t0 := time.Unix(1000, 0)
	at := func(ms int) time.Time { return t0.Add(time.Duration(ms) * time.Millisecond) }
	var probes []probe
	for ms := 0; ms < 100; ms++ {
		p := probe{sent: at(ms), done: at(ms).Add(300 * time.Microsecond)}
		switch {
		case ms < 40:
			p.node = "node1"
		case ms < 90:
			p.err = fmt.Errorf("timeout")
			p.done = at(ms + 200)
		default:
			p.node = "node2"
		}
		probes = append(probes, p)
	}
	r, err := outage(probes, "node1", "node2", 0, t0)
	if err != nil {
		t.Fatal(err)
	}
	if r.gap != 51*time.Millisecond || r.failed != 50 || r.oldAfter != 0 || r.gapAfter != time.Millisecond || r.sendGap != time.Millisecond {
		t.Fatalf("outage %+v", r)
	}
	if _, err := outage(probes[:40], "node1", "node2", 0, t0); err == nil {
		t.Fatal("no answer from node2: want an error")
	}
}
