package bench

import (
	"os"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/hasuite/hasuite/internal/testbed"
	"github.com/hasuite/hasuite/test/internal/e2ekit"
)

const (
	defaultSoak = 10 * time.Minute
	// soakCheck is how often the soak checks that both daemons still run.
	soakCheck = 10 * time.Second
)

// lateInterval finds the interval of a "late heartbeat" line.
var lateInterval = regexp.MustCompile(`"interval": "([^"]+)"`)

// lateStats summarises the "late heartbeat" lines of a log.
type lateStats struct {
	lines    int           // lines logged
	episodes int           // groups of lines less than a deadtime apart
	max      time.Duration // largest interval reported
}

// scanLate reads our log's "late heartbeat" lines. The daemon can log one
// late packet twice (when the silence passes warntime, and again when the
// late packet arrives), so lines less than a deadtime apart are counted as
// one episode as well.
func scanLate(log string) lateStats {
	var s lateStats
	var last time.Time
	for _, l := range strings.Split(log, "\n") {
		if !strings.Contains(l, "late heartbeat") {
			continue
		}
		s.lines++
		ts, err := e2ekit.ParseLogTime(l)
		if err != nil || last.IsZero() || ts.Sub(last) > deadtimeD {
			s.episodes++
		}
		if err == nil {
			last = ts
		}
		if m := lateInterval.FindStringSubmatch(l); m != nil {
			if d, err := time.ParseDuration(m[1]); err == nil && d > s.max {
				s.max = d
			}
		}
	}
	return s
}

// BenchmarkNoFalseDeaths runs an idle pair of our daemons at keepalive 10ms,
// deadtime 50ms, warntime 30ms for HB_SOAK (default 10m) and counts the "is
// dead" and "late heartbeat" lines both nodes log. Any death is a false one
// (nothing was killed) and fails the benchmark.
//
// A pair of real Heartbeat 3.0.6 nodes at the same timings runs at the same
// time on the same machine (its own switch and hosts), so that both see the
// same load; its counts are reported as "hb-" metrics for comparison and
// fail nothing.
func BenchmarkNoFalseDeaths(b *testing.B) {
	bin := binaries(b)
	soak := envDuration(b, "HB_SOAK", defaultSoak)
	withReal := true
	if _, ok := testbed.RealHeartbeatAvailable(); !ok {
		b.Logf("the real Heartbeat 3.0.6 is not installed: soaking our pair only")
		withReal = false
	}
	for i := 0; i < b.N; i++ {
		p := newPair(b)
		var real []*testbed.RealHB
		if withReal {
			sw := p.bed.AddSwitch("lanhb")
			r1, r2 := p.bed.AddHost("hb1"), p.bed.AddHost("hb2")
			r1.Connect(sw, "eth0", addr1+"/24")
			r2.Connect(sw, "eth0", addr2+"/24")
			cfg1, cfg2 := realConfigs(realTimings(realFootprintTimings))
			real = []*testbed.RealHB{r1.StartRealHeartbeat(b, cfg1), r2.StartRealHeartbeat(b, cfg2)}
			real[0].WaitNodeStatus(b, "node2", "active", realJoinTimeout)
			real[1].WaitNodeStatus(b, "node1", "active", realJoinTimeout)
			settled := func(out string, code int) bool { return code == 0 && out != "transition" }
			for _, r := range real {
				if !realWait(b, r, realSettleTimeout, settled, "rscstatus") {
					b.Logf("real %s is still in a resource transition; soaking anyway", r.Node)
				}
			}
		}
		n1, n2 := p.ours(b, bin)
		nodes := []*e2ekit.Node{n1, n2}
		for _, n := range nodes {
			n.Launch()
		}
		nodes[0].WaitPeer("node2", "active", joinTimeout)
		nodes[1].WaitPeer("node1", "active", joinTimeout)
		offs := []int64{fileSize(nodes[0].Proc.LogPath()), fileSize(nodes[1].Proc.LogPath())}
		var realOffs []int64
		for _, r := range real {
			realOffs = append(realOffs, fileSize(r.LogPath()))
		}
		pid1 := nodes[0].Proc.Pid()
		cpu0, err := readProc(pid1)
		if err != nil {
			b.Fatal(err)
		}
		load0 := loadAvg()
		start := time.Now()
		for elapsed := time.Duration(0); elapsed < soak; elapsed = time.Since(start) {
			time.Sleep(min(soakCheck, soak-elapsed))
			for _, n := range nodes {
				if n.Proc.Exited() {
					b.Fatalf("%s exited after %v of the soak (code %d); log:\n%s", n.Name,
						time.Since(start).Round(time.Second), n.Proc.ExitCode(), testbed.Tail(n.Proc.Log(), 30))
				}
			}
		}
		took := time.Since(start)
		cpu1, err := readProc(pid1)
		if err != nil {
			b.Fatal(err)
		}
		deaths, late := 0, lateStats{}
		for j, n := range nodes {
			log := n.Proc.Log()[offs[j]:]
			d, l := testbed.CountLines(log, "is dead"), scanLate(log)
			b.Logf("%s: %d death(s), %d late-heartbeat line(s) in %d episode(s), largest interval %v",
				n.Name, d, l.lines, l.episodes, l.max)
			for _, line := range strings.Split(log, "\n") {
				if strings.Contains(line, "is dead") || strings.Contains(line, "late heartbeat") {
					b.Logf("  %s", line)
				}
			}
			deaths += d
			late.lines += l.lines
			late.episodes += l.episodes
			late.max = max(late.max, l.max)
		}
		realDeaths, realLate := 0, 0
		for j, r := range real {
			log := readLog(r.LogPath())[realOffs[j]:]
			d, l := testbed.CountLines(log, "is dead"), testbed.CountLines(log, "Late heartbeat")
			b.Logf("real heartbeat %s: %d death(s), %d late heartbeat(s), running=%v", r.Node, d, l, r.Running())
			for _, line := range strings.Split(log, "\n") {
				if strings.Contains(line, "is dead") {
					b.Logf("  %s", line)
				}
			}
			realDeaths += d
			realLate += l
		}
		cpu := float64(cpu1.ticks-cpu0.ticks) / userHZ / took.Seconds() * 100
		b.Logf("soak %v (load average %s at the start, %s at the end): %d death(s), %d late-heartbeat line(s) (%d episode(s), largest %v); node1 CPU %.3f%%, RSS %.2f MiB",
			took.Round(time.Second), load0, loadAvg(), deaths, late.lines, late.episodes, late.max, cpu, mib(cpu1.rssKB))
		if withReal {
			b.Logf("real Heartbeat 3.0.6 pair over the same time: %d death(s), %d late heartbeat(s)", realDeaths, realLate)
			b.ReportMetric(float64(realDeaths), "hb-deaths")
			b.ReportMetric(float64(realLate), "hb-late-heartbeats")
		}
		b.ReportMetric(float64(deaths), "deaths")
		b.ReportMetric(float64(late.lines), "late-heartbeats")
		b.ReportMetric(float64(late.episodes), "late-episodes")
		b.ReportMetric(ms(late.max), "max-late-ms")
		b.ReportMetric(took.Seconds(), "soak-s")
		b.ReportMetric(cpu, "cpu-%")
		if deaths > 0 {
			b.Errorf("%d false death(s) during an idle soak of %v", deaths, took.Round(time.Second))
		}
	}
}

// loadAvg is the 1, 5 and 15 minute load averages of the machine.
func loadAvg() string {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return "?"
	}
	f := strings.Fields(string(b))
	if len(f) < 3 {
		return "?"
	}
	return strings.Join(f[:3], " ")
}
