package bench

import (
	"fmt"
	"math/rand/v2"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/hasuite/hasuite/internal/testbed"
	"github.com/hasuite/hasuite/test/internal/e2ekit"
)

// Detection benchmark parameters.
const (
	defaultTrials = 50
	// linePoll is how often the log is read while waiting for the death:
	// the "seen" figures are late by at most this (plus a read).
	linePoll = time.Millisecond
	// Before each kill the benchmark waits a random time in
	// [settleMin, settleMin+settleJitter) after the peer became active, so
	// that the kill falls at a random phase of the keepalive and tick.
	settleMin    = 200 * time.Millisecond
	settleJitter = 100 * time.Millisecond
	// Bounds for the real Heartbeat: a join and settle takes about 10 s.
	realJoinTimeout   = 60 * time.Second
	realSettleTimeout = 60 * time.Second
	realDeathTimeout  = 30 * time.Second
	// detectionTarget is the brief's target for our p99.
	detectionTarget = 60 * time.Millisecond
)

// BenchmarkDetection measures the time from SIGKILL of node2 to node1
// declaring it dead, over HB_TRIALS (default 50) trials, with keepalive
// 10ms, deadtime 50ms: for our daemon and for the real Heartbeat 3.0.6.
func BenchmarkDetection(b *testing.B) {
	b.Run("hasuite", benchDetectionOurs)
	b.Run("heartbeat-3.0.6", benchDetectionReal)
}

// benchDetectionOurs keeps node1 running and restarts node2 for every trial.
// T is taken just before the SIGKILL; D is the timestamp of node1's log line
// "node node2 is dead" (ms resolution, truncated, same clock). The time at
// which the benchmark first read that line (polling every 1 ms) is reported
// as well ("seen-"): an upper bound that includes the log write and read.
func benchDetectionOurs(b *testing.B) {
	bin := binaries(b)
	trials := envInt(b, "HB_TRIALS", defaultTrials)
	for i := 0; i < b.N; i++ {
		p := newPair(b)
		n1, n2 := p.ours(b, bin)
		n1.Launch()
		var logD, seenD []time.Duration
		falseDeaths := 0
		for trial := 0; trial < trials; trial++ {
			n2.Launch()
			startOff := fileSize(n1.Proc.LogPath())
			n1.WaitPeer("node2", "active", joinTimeout)
			time.Sleep(settleMin + rand.N(settleJitter))
			off := fileSize(n1.Proc.LogPath())
			// A death before the kill would be a false one (and would spoil
			// the trial): count and report it.
			if c := testbed.CountLines(n1.Proc.Log()[startOff:], "node node2 is dead"); c > 0 {
				falseDeaths += c
				b.Logf("trial %d: node1 declared node2 dead %d time(s) before the kill", trial, c)
			}
			if s := n1.PeerState("node2"); s != "active" {
				b.Logf("trial %d: node2 is %q, not active, at the kill", trial, s)
			}
			t := time.Now()
			n2.Proc.Kill()
			w, err := waitLine(n1.Proc.LogPath(), off, "node node2 is dead", linePoll, deathTimeout)
			if err != nil {
				b.Fatalf("trial %d: %v; node1 log:\n%s", trial, err, testbed.Tail(n1.Proc.Log(), 30))
			}
			ts, err := e2ekit.ParseLogTime(w.line)
			if err != nil {
				b.Fatalf("trial %d: %v", trial, err)
			}
			logD = append(logD, ts.Sub(t))
			seenD = append(seenD, w.seen.Sub(t))
		}
		sl, ss := summarize(logD), summarize(seenD)
		b.Logf("hasuite detection (log timestamp):   %v", sl)
		b.Logf("hasuite detection (line first read): %v", ss)
		b.Logf("hasuite detection samples (log, ms): %s", fmtSamples(logD))
		if sl.p99 >= detectionTarget {
			b.Logf("TARGET MISSED: p99 %.1fms >= %v", ms(sl.p99), detectionTarget)
		}
		sl.report(b, "")
		b.ReportMetric(ms(ss.p50), "seen-p50-ms")
		b.ReportMetric(ms(ss.p99), "seen-p99-ms")
		b.ReportMetric(float64(falseDeaths), "false-deaths")
		b.ReportMetric(float64(len(logD)), "trials")
	}
}

// Timings of the real Heartbeat 3.0.6. Detection runs it at keepalive 20ms,
// deadtime 100ms, warntime 60ms: the smallest at which it mostly works here.
// At our 10ms/50ms it starts and detects, but declares live peers dead (5 in
// 50 trials, 1 in a 60 s idle run) and logs "Message hist queue is filling
// up" and "Dispatch function ... was delayed"; docs/benchmarks.md has its
// figures there. The footprint is measured at our 10ms/50ms, the same
// keepalive. HB_REAL_KEEPALIVE, HB_REAL_DEADTIME and HB_REAL_WARNTIME
// override both.
type timings struct{ keepalive, deadtime, warntime string }

var (
	realDetectTimings    = timings{"20ms", "100ms", "60ms"}
	realFootprintTimings = timings{keepalive, deadtime, warntime}
)

func realTimings(def timings) timings {
	get := func(name, def string) string {
		if v := os.Getenv(name); v != "" {
			return v
		}
		return def
	}
	return timings{get("HB_REAL_KEEPALIVE", def.keepalive), get("HB_REAL_DEADTIME", def.deadtime), get("HB_REAL_WARNTIME", def.warntime)}
}

func realConfigs(t timings) (cfg1, cfg2 testbed.RealHBConfig) {
	cfg1 = testbed.RealHBConfig{Node: "node1", Authkeys: realAuthkeys, HACF: realHACF(addr2, t.keepalive, t.deadtime, t.warntime)}
	cfg2 = testbed.RealHBConfig{Node: "node2", Authkeys: realAuthkeys, HACF: realHACF(addr1, t.keepalive, t.deadtime, t.warntime)}
	return cfg1, cfg2
}

// benchDetectionReal runs the same trials with two real Heartbeat 3.0.6
// nodes. Heartbeat's log timestamps have one-second resolution, so D is the
// moment the benchmark first read "node node2: is dead" in node1's logfile
// (polling every 1 ms); Heartbeat appends each line to the file at once.
//
// Every trial uses a fresh pair (both nodes power-cycled, started, joined,
// settled), as restarting node2 against a long-running node1 is not a
// steady state for Heartbeat (see docs/benchmarks.md); HB_REAL_MODE=restart
// restarts only node2 instead.
//
// Heartbeat at these timings sometimes declares a live peer dead; that is
// counted (during join and settle, and in the steady window before the
// kill), and a trial in which the pair does not reach the steady state
// (node2 not active at the kill, or a node stuck in "transition") is
// counted as spoiled and done again, up to 3*HB_TRIALS attempts.
func benchDetectionReal(b *testing.B) {
	testbed.RequireRealHeartbeat(b)
	trials := envInt(b, "HB_TRIALS", defaultTrials)
	restart := os.Getenv("HB_REAL_MODE") == "restart"
	tm := realTimings(realDetectTimings)
	cfg1, cfg2 := realConfigs(tm)
	for i := 0; i < b.N; i++ {
		var seenD []time.Duration
		joinDeaths, steadyDeaths, spoiled, missed := 0, 0, 0, 0
		var p *pair
		var n1 *testbed.RealHB
		fresh := true
		for attempt := 0; len(seenD) < trials && attempt < 3*trials; attempt++ {
			switch {
			case p == nil:
				p = newPair(b)
				n1 = p.h1.StartRealHeartbeat(b, cfg1)
			case fresh || !restart:
				// Both machines "reboot": every process killed, /run emptied.
				p.powerCycle()
				n1 = p.h1.StartRealHeartbeat(b, cfg1)
			}
			fresh = false
			n2 := p.h2.StartRealHeartbeat(b, cfg2)
			startOff := fileSize(n1.LogPath())
			joinStart := time.Now()
			spoil := func(why string) {
				spoiled++
				fresh = true
				b.Logf("attempt %d spoiled: %s; node1 log:\n%s", attempt, why, testbed.Tail(n1.Log(), 8))
			}
			if !realWait(b, n1, realJoinTimeout, func(out string, _ int) bool { return out == "active" }, "nodestatus", "node2") {
				spoil("node1 never saw node2 active")
				continue
			}
			// Kill only in the steady state: a crash during the initial
			// resource negotiation can leave Heartbeat in "transition".
			settled := func(out string, code int) bool { return code == 0 && out != "transition" }
			if !realWait(b, n1, realSettleTimeout, settled, "rscstatus") || !realWait(b, n2, realSettleTimeout, settled, "rscstatus") {
				spoil("a node stayed in transition")
				continue
			}
			joined := time.Since(joinStart)
			settledOff := fileSize(n1.LogPath())
			time.Sleep(settleMin + rand.N(settleJitter))
			if out, _ := n1.ClStatus(b, "nodestatus", "node2"); strings.TrimSpace(out) != "active" {
				spoil("node2 is " + strings.TrimSpace(out) + " at the kill")
				continue
			}
			off := fileSize(n1.LogPath())
			log := n1.Log()
			jd := testbed.CountLines(log[startOff:settledOff], "node node2: is dead")
			sd := testbed.CountLines(log[settledOff:off], "node node2: is dead")
			if jd+sd > 0 {
				b.Logf("attempt %d: node1 declared the live node2 dead %d time(s) while joining, %d time(s) in the steady state", attempt, jd, sd)
			}
			joinDeaths += jd
			steadyDeaths += sd
			t := time.Now()
			n2.Kill()
			w, err := waitLine(n1.LogPath(), off, "node node2: is dead", linePoll, realDeathTimeout)
			if err != nil {
				missed++
				fresh = true
				b.Logf("attempt %d: %v; node1 log:\n%s", attempt, err, testbed.Tail(n1.Log(), 20))
				continue
			}
			seenD = append(seenD, w.seen.Sub(t))
			if len(seenD) <= 2 {
				b.Logf("attempt %d: join and settle took %v", attempt, joined.Round(time.Millisecond))
			}
		}
		ss := summarize(seenD)
		b.Logf("heartbeat 3.0.6 at keepalive %s deadtime %s warntime %s, restart=%v", tm.keepalive, tm.deadtime, tm.warntime, restart)
		b.Logf("heartbeat 3.0.6 detection (line first read): %v", ss)
		b.Logf("heartbeat 3.0.6 samples (ms): %s", fmtSamples(seenD))
		b.Logf("false deaths: %d while joining, %d in the steady state; %d spoiled attempt(s), %d kill(s) never detected",
			joinDeaths, steadyDeaths, spoiled, missed)
		if len(seenD) < trials {
			b.Errorf("only %d of %d trials completed", len(seenD), trials)
		}
		ss.report(b, "")
		b.ReportMetric(float64(joinDeaths+steadyDeaths), "false-deaths")
		b.ReportMetric(float64(steadyDeaths), "steady-false-deaths")
		b.ReportMetric(float64(spoiled), "spoiled")
		b.ReportMetric(float64(missed), "missed")
		b.ReportMetric(float64(len(seenD)), "trials")
	}
}

// realWait polls "cl_status args..." on r every 100 ms until done accepts
// its trimmed output and exit code, and reports whether it did within
// timeout. Unlike RealHB.WaitClStatus it does not fail the benchmark.
func realWait(b *testing.B, r *testbed.RealHB, timeout time.Duration, done func(string, int) bool, args ...string) bool {
	deadline := time.Now().Add(timeout)
	for {
		out, code := r.ClStatus(b, args...)
		if done(strings.TrimSpace(out), code) {
			return true
		}
		if !r.Running() || time.Now().After(deadline) {
			return false
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// fmtSamples prints samples in trial order, in ms with one decimal.
func fmtSamples(d []time.Duration) string {
	parts := make([]string, len(d))
	for i, v := range d {
		parts[i] = fmt.Sprintf("%.1f", ms(v))
	}
	return strings.Join(parts, " ")
}
