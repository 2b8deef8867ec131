package benchres

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/hasuite/hasuite/test/internal/e2ekit"
)

// Local restart (issue 13): the monitored service (the demo httpd as a
// resource.d script, in a group after the VIP) is SIGKILLed on the active
// node; its monitor finds it gone and the group restarts it in place. The
// figure is the client's outage: its last answer before the kill to its
// first answer from the restarted server (the prober, every 1 ms). The
// target is median ≤ monitor interval + the service's own start time + 5
// ms; the monitor's check comes at a random phase of its interval, so the
// expected outage is up to interval + start, about interval/2 + start in
// the median. The service's start time is measured apart: the same
// script's start, run on the idle node2 (whose daemon does not hold the
// group), timed to its return (it returns once the server accepts).

// restartBenchTrials is the trials per interval when HB_TRIALS is not set
// (3 with BENCH_QUICK=1); startSamples the runs of the script's start.
const (
	restartBenchTrials = 10
	startSamples       = 10
)

// restartTOML is one group preferring node1: the VIP, then httpd,
// monitored every interval, with restarts enough for every trial.
func restartTOML(interval time.Duration) string {
	return fmt.Sprintf(`[[group]]
node = "node1"
resources = ["%s/24/eth0", "httpd"]
restarts = 1000
restart_window = "1h"

[[group.resource_options]]
resource = "httpd"
monitor_interval = "%s"
monitor_timeout = "5s"
`, firstVIP, interval)
}

func BenchmarkLocalRestart(b *testing.B) {
	b.Run("monitor-1s", func(b *testing.B) {
		for range b.N {
			benchLocalRestart(b, time.Second)
		}
	})
	b.Run("monitor-200ms", func(b *testing.B) {
		for range b.N {
			benchLocalRestart(b, 200*time.Millisecond)
		}
	})
}

// restartObs is one kill and restart as the client and node1's log saw it.
type restartObs struct {
	out      outageResult
	took     string        // the daemon's "restarted in place" took
	detect   time.Duration // kill to node1's "restarting it in place" (log stamp, ms truncated)
	node2Ans int           // answers from node2 in the trial (the group moved)
	pause    time.Duration
}

func benchLocalRestart(b *testing.B, interval time.Duration) {
	bin := binaries(b)
	n := newNet3(b, bin)
	n.httpd1.Kill()
	n.httpd2.Kill()
	n.managed = true
	vips := vipAddrs(1)
	c := &ourCluster{net3: n, vips: vips}
	c.n1 = newOurNode(b, bin, c.h1, "node1", addr2, vips)
	c.n2 = newOurNode(b, bin, c.h2, "node2", addr1, vips)
	scripts := map[string]string{}
	for _, nd := range []*ourNode{c.n1, c.n2} {
		if err := os.Remove(filepath.Join(nd.ConfDir, "haresources")); err != nil {
			b.Fatal(err)
		}
		e2ekit.WriteFile(b, filepath.Join(nd.ConfDir, "haresources.toml"), restartTOML(interval), 0o644)
		scripts[nd.Name] = filepath.Join(nd.ConfDir, "resource.d", "httpd")
		e2ekit.WriteFile(b, scripts[nd.Name],
			httpdScript(filepath.Join(bin, "httpd"), nd.Name, filepath.Join(nd.Dir, "httpd.pid")), 0o755)
	}
	b.Cleanup(func() { b.Logf("daemon logs: %s", c.health()) })

	// The service's own start time, on node2 before the pair runs.
	var starts []time.Duration
	for i := 0; i < startSamples; i++ {
		d, err := timeScript(c.n2, scripts["node2"], "start")
		if err != nil {
			b.Fatalf("httpd start on node2: %v", err)
		}
		starts = append(starts, d)
		if _, err := timeScript(c.n2, scripts["node2"], "stop"); err != nil {
			b.Fatalf("httpd stop on node2: %v", err)
		}
	}
	start := summarize(starts)
	bound := interval + start.p50 + 5*time.Millisecond

	c.n1.Launch()
	c.n2.Launch()
	c.waitHolder(b, "node1", steadyTimeout)
	vip := vips[0]
	steady := func() error {
		if err := c.tryWaitHolder(b, "node1", 20*time.Second); err != nil {
			return err
		}
		return n.waitClientSees(b, vip, "node1", 10*time.Second)
	}

	want := restartBenchTrials
	if quick() {
		want = 3
	}
	want = envInt("HB_TRIALS", want)
	tr := newTrials(b, want)
	var outs, tooks, detects []time.Duration
	moved := 0
	for tr.next() {
		if err := steady(); err != nil {
			tr.anomaly(err, func() { c.reset(b) })
			continue
		}
		// At a random phase of the monitor's schedule.
		time.Sleep(interval + rand.N(interval))
		o, err := killAndRestart(b, c, interval)
		if err != nil {
			tr.anomaly(err, func() { c.reset(b) })
			continue
		}
		if disturbed(o.pause, o.out.gap) {
			tr.discard("prober paused %v in an outage of %v", o.pause, o.out.gap)
			continue
		}
		if o.node2Ans > 0 || c.n2.holding() != "none" || c.vipsOn(b, c.h2) != 0 {
			moved++
		}
		b.Logf("attempt %d: %v; failure logged %v after the kill; daemon's restart took %s; node2 answers %d",
			tr.n(), o.out, o.detect, o.took, o.node2Ans)
		outs = append(outs, o.out.gap)
		detects = append(detects, o.detect)
		if d, err := time.ParseDuration(o.took); err == nil {
			tooks = append(tooks, d)
		}
		tr.ok()
	}
	out, took := summarize(outs), summarize(tooks)
	met := "met"
	if out.p50 > bound {
		met = "MISSED"
	}
	b.Logf("httpd killed on node1 -> served again by node1 (monitor interval %v):\n"+
		"  client outage                %v\n"+
		"  httpd start (script, node2)  %v\n"+
		"  kill -> failure logged       %v\n"+
		"  daemon's restart (took)      %v\n"+
		"  bound interval+start+5ms     %.2fms: median %s\n"+
		"  trials where the group moved %d",
		interval, out, start, summarize(detects), took, ms(bound), met, moved)
	b.ReportMetric(ms(out.p50), "outage-median-ms")
	b.ReportMetric(ms(out.min), "outage-min-ms")
	b.ReportMetric(ms(out.max), "outage-max-ms")
	b.ReportMetric(ms(start.p50), "start-median-ms")
	b.ReportMetric(ms(took.p50), "restart-took-median-ms")
	b.ReportMetric(ms(summarize(detects).p50), "detect-median-ms")
	b.ReportMetric(ms(bound), "bound-ms")
	b.ReportMetric(float64(moved), "moved")
	tr.report()
	if moved > 0 {
		b.Errorf("the group moved (or node2 answered) in %d trials of a restart in place", moved)
	}
}

// timeScript runs "script verb" inside the node's namespace and returns how
// long it took.
func timeScript(nd *ourNode, script, verb string) (time.Duration, error) {
	var d time.Duration
	var err error
	if derr := nd.Host.Do(func() error {
		cmd := exec.Command(script, verb)
		t0 := time.Now()
		out, e := cmd.CombinedOutput()
		d = time.Since(t0)
		if e != nil {
			err = fmt.Errorf("%s %s: %v: %s", script, verb, e, out)
		}
		return nil
	}); derr != nil {
		return 0, derr
	}
	return d, err
}

// killAndRestart probes the VIP, SIGKILLs node1's httpd and waits for the
// client's first answer after the outage and node1's "restarted in place".
func killAndRestart(b *testing.B, c *ourCluster, interval time.Duration) (restartObs, error) {
	b.Helper()
	var o restartObs
	vip := c.vips[0]
	pidData, err := os.ReadFile(filepath.Join(c.n1.Dir, "httpd.pid"))
	if err != nil {
		return o, fmt.Errorf("httpd pid file: %v", err)
	}
	pid, err := strconv.Atoi(strings.TrimSpace(string(pidData)))
	if err != nil || pid <= 1 {
		return o, fmt.Errorf("bad httpd pid %q", pidData)
	}
	mark := c.n1.log.mark()
	pr := startProber(c.client, []netip.Addr{vip}, probeEvery, probeTimeout)
	if err := checkBaseline(pr, "node1", 1); err != nil {
		stopProber(b, pr)
		return o, err
	}
	time.Sleep(baseline)
	t0 := time.Now()
	if err := syscall.Kill(pid, syscall.SIGKILL); err != nil {
		stopProber(b, pr)
		return o, fmt.Errorf("kill httpd %d: %v", pid, err)
	}
	// The first failed probe sent after the kill, then the first answer
	// to one sent after that. The outage ends there and begins at the
	// last answer to a probe sent before that failed one.
	var fail, back probe
	ok := waitAll(interval+10*time.Second, func() bool {
		fail, back = restartGap(pr.snapshot(), t0)
		return !back.sent.IsZero()
	})
	found, _, ferr := c.n1.log.waitFor(mark, interval+10*time.Second, "restarting it in place")
	line, _, lerr := c.n1.log.waitFor(mark, interval+10*time.Second, "group ", " restarted in place")
	time.Sleep(settleAfter)
	probes, _ := stopProber(b, pr)
	if !ok {
		return o, fmt.Errorf("node1 does not serve again within %v of the kill (%s)\n%s", interval+10*time.Second, describeProbes(probes), c.logs(30))
	}
	if err := errors.Join(ferr, lerr); err != nil {
		return o, fmt.Errorf("%v\n%s", err, c.logs(30))
	}
	if at, err := e2ekit.ParseLogTime(found.text); err == nil {
		o.detect = at.Sub(t0)
	}
	o.took = logField(line.text, "took")
	fail, back = restartGap(probes, t0)
	o.out.firstNew = back.done
	for _, p := range probes {
		switch {
		case p.node == "node2":
			o.node2Ans++
		case p.ok() && p.sent.Before(fail.sent) && p.done.Before(back.done) && p.done.After(o.out.lastOld):
			o.out.lastOld = p.done
		}
		if !p.ok() && !p.sent.Before(fail.sent) && p.sent.Before(back.sent) {
			o.out.failed++
		}
	}
	if o.out.lastOld.IsZero() {
		return o, fmt.Errorf("no answer before the kill (%s)", describeProbes(probes))
	}
	o.out.gap = back.done.Sub(o.out.lastOld)
	o.pause = proberPause(probes, o.out.lastOld, back.done)
	o.out.sendGap = o.pause
	return o, nil
}

// restartGap finds, in probes (any order), the first probe sent after t0
// that failed and the earliest answer (by completion) of those sent after
// that one.
func restartGap(probes []probe, t0 time.Time) (fail, back probe) {
	for _, p := range probes {
		if !p.ok() && !p.sent.Before(t0) && (fail.sent.IsZero() || p.sent.Before(fail.sent)) {
			fail = p
		}
	}
	if fail.sent.IsZero() {
		return fail, back
	}
	for _, p := range probes {
		if p.ok() && p.sent.After(fail.sent) && (back.sent.IsZero() || p.done.Before(back.done)) {
			back = p
		}
	}
	return fail, back
}
