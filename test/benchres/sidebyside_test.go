package benchres

import (
	"encoding/json"
	"fmt"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/hasuite/hasuite/internal/testbed"
	"github.com/hasuite/hasuite/test/internal/e2ekit"
)

// The side-by-side benchmark (issue 17, item 5): ours, keepalived and
// Heartbeat 3.0.6 through the same scenarios in one run, with the same
// client prober, results (min / median / max per system and scenario) in a
// JSON file that test/benchreport turns into the table and chart of
// docs/benchmarks.md.

// sbsResult is one line of the JSON file (test/benchreport's Result).
type sbsResult struct {
	Scenario string  `json:"scenario"`
	System   string  `json:"system"`
	Unit     string  `json:"unit"`
	N        int     `json:"n"`
	Min      float64 `json:"min"`
	Median   float64 `json:"median"`
	Max      float64 `json:"max"`
	Note     string  `json:"note,omitempty"`
}

type sbsReport struct {
	Date     string            `json:"date"`
	Kernel   string            `json:"kernel"`
	Go       string            `json:"go"`
	Quick    bool              `json:"quick"`
	Load     []string          `json:"load"`
	Versions map[string]string `json:"versions"`
	Systems  []string          `json:"systems"`
	Results  []sbsResult       `json:"results"`
}

var sbs = struct {
	sync.Mutex
	r sbsReport
}{}

// sbsOut is where the results go (BENCH_JSON, default
// $TMPDIR/hasuite-bench.json); the file is rewritten after every system.
func sbsOut() string {
	if p := os.Getenv("BENCH_JSON"); p != "" {
		return p
	}
	return filepath.Join(os.TempDir(), "hasuite-bench.json")
}

func sbsAdd(b *testing.B, res sbsResult) {
	sbs.Lock()
	defer sbs.Unlock()
	sbs.r.Results = append(sbs.r.Results, res)
	data, err := json.MarshalIndent(sbs.r, "", "  ")
	if err == nil {
		err = os.WriteFile(sbsOut(), data, 0o644)
	}
	if err != nil {
		b.Errorf("writing %s: %v", sbsOut(), err)
	}
}

// sbsSample adds a scenario's samples (or the note when there are none).
func sbsSample(b *testing.B, system, scenario, unit string, vals []float64, note string) {
	r := sbsResult{Scenario: scenario, System: system, Unit: unit, N: len(vals), Note: note}
	if len(vals) > 0 {
		s := slices.Clone(vals)
		slices.Sort(s)
		r.Min, r.Max = s[0], s[len(s)-1]
		if len(s)%2 == 1 {
			r.Median = s[len(s)/2]
		} else {
			r.Median = (s[len(s)/2-1] + s[len(s)/2]) / 2
		}
	}
	b.Logf("%s / %s: %+v", system, scenario, r)
	sbsAdd(b, r)
}

func cmdOut(name string, args ...string) string {
	out, err := exec.Command(name, args...).Output()
	if err != nil {
		return "unknown"
	}
	return strings.TrimSpace(string(out))
}

func dpkgVersion(pkg string) string { return cmdOut("dpkg-query", "-W", "-f", "${Version}", pkg) }

// sbsTrials is the number of trials per scenario: BENCH_QUICK=1 2,
// else HB_CMP_TRIALS (default 10).
func sbsTrials() int {
	if quick() {
		return envInt("HB_CMP_TRIALS", 2)
	}
	return cmpTrials()
}

// idleWindow and idleWindows: how CPU and RSS at rest are sampled.
func idleWindow() (time.Duration, int) {
	if quick() {
		return time.Second, 3
	}
	return 10 * time.Second, 5
}

// sbsPair is a system under test: a refPair that can also SIGKILL its
// daemon on a node.
type sbsPair interface {
	refPair
	kill(b *testing.B, node string)
	comms() []string // daemon process names, for CPU and RSS
}

// BenchmarkSideBySide runs every system through the scenarios and writes
// the JSON file (sbsOut). HB_CMP=0 skips the reference systems.
func BenchmarkSideBySide(b *testing.B) {
	u := unix.Utsname{}
	_ = unix.Uname(&u)
	sbs.Lock()
	sbs.r = sbsReport{
		Date: time.Now().UTC().Format(time.RFC3339), Kernel: unix.ByteSliceToString(u.Release[:]),
		Go: runtime.Version(), Quick: quick(), Load: []string{"start: " + machineLoad()},
		Versions: map[string]string{
			"hasuite":         hasuiteVersion(),
			"keepalived":      dpkgVersion("keepalived"),
			"Heartbeat 3.0.6": dpkgVersion("heartbeat"),
		},
		Systems: []string{"hasuite", "hasuite (service managed)", "keepalived", "Heartbeat 3.0.6"},
	}
	sbs.Unlock()
	b.Cleanup(func() {
		sbs.Lock()
		sbs.r.Load = append(sbs.r.Load, "end: "+machineLoad())
		sbs.Unlock()
		sbsAdd(b, sbsResult{Scenario: "service NIC down", System: "hasuite", Unit: "ms",
			Note: "not supported yet (no interface tracking)"})
		b.Logf("results in %s; render with: cd test/benchreport && go run . -in %s -md - -png ../../docs/bench-compare.png", sbsOut(), sbsOut())
	})
	b.Run("hasuite", func(b *testing.B) {
		for range b.N {
			n := newNet3(b, binaries(b))
			c := &ourCluster{net3: n, vips: vipAddrs(1)}
			c.n1 = newOurNode(b, n.bin, c.h1, "node1", addr2, c.vips)
			c.n2 = newOurNode(b, n.bin, c.h2, "node2", addr1, c.vips)
			sideBySide(b, "hasuite", n, &ourPair{c})
		}
	})
	b.Run("hasuite-service", func(b *testing.B) {
		for range b.N {
			n := newNet3(b, binaries(b))
			n.httpd1.Kill()
			n.httpd2.Kill()
			n.managed = true
			c := &ourCluster{net3: n, vips: vipAddrs(1)}
			c.n1 = newOurNode(b, n.bin, c.h1, "node1", addr2, c.vips)
			c.n2 = newOurNode(b, n.bin, c.h2, "node2", addr1, c.vips)
			for _, nd := range []*ourNode{c.n1, c.n2} {
				e2ekit.WriteFile(b, filepath.Join(nd.ConfDir, "haresources"),
					fmt.Sprintf("node1 %s/24/eth0 httpd\n", firstVIP), 0o644)
				e2ekit.WriteFile(b, filepath.Join(nd.ConfDir, "resource.d", "httpd"),
					httpdScript(filepath.Join(n.bin, "httpd"), nd.Name, filepath.Join(nd.Dir, "httpd.pid")), 0o755)
			}
			sideBySide(b, "hasuite (service managed)", n, &ourPair{c})
		}
	})
	if os.Getenv("HB_CMP") == "0" {
		return
	}
	b.Run("keepalived", func(b *testing.B) {
		for range b.N {
			n, p := newKeepalivedPair(b)
			sideBySide(b, "keepalived", n, p)
		}
	})
	b.Run("heartbeat306", func(b *testing.B) {
		for range b.N {
			n, p := newRealPair(b)
			sideBySide(b, "Heartbeat 3.0.6", n, p)
		}
	})
}

// sideBySide runs the scenarios against one system; a scenario whose
// trials keep failing is reported with the failure as its note.
func sideBySide(b *testing.B, system string, n *net3, p sbsPair) {
	vip := netip.MustParseAddr(firstVIP)
	p.start(b, "node1")
	p.start(b, "node2")
	if err := p.waitSteady(b, "node1"); err != nil {
		b.Fatalf("%v\n%s", err, p.logs())
	}
	// Idle: the active node's daemon processes at rest.
	win, k := idleWindow()
	var cpu, rss []float64
	for range k {
		c, r := idleSample(b, n.h1, p.comms(), win)
		cpu, rss = append(cpu, c), append(rss, r)
	}
	sbsSample(b, system, "idle CPU, active node", "% of a CPU", cpu, "")
	sbsSample(b, system, "RSS, active node", "MiB", rss, "")

	want := sbsTrials()
	reset := func(err error) {
		b.Logf("%s: anomaly: %v\n%s", system, err, p.logs())
		resetRef(b, n, p)
	}
	// Power-off of the active node, then the failback when it returns.
	var off, back []float64
	offBad, backBad := 0, 0
	for try := 0; len(off) < want && try < 2*want+2; try++ {
		m, err := measureMove(b, n, vip, "node1", "node2", refMoveTimeout, func() error { powerCut(n.h1); return nil })
		if err != nil {
			offBad++
			reset(fmt.Errorf("power-off: %w", err))
			continue
		}
		n.h1.PowerOn()
		n.startHTTPD(b, "node1")
		f, err := measureMove(b, n, vip, "node2", "node1", refMoveTimeout, func() error { p.start(b, "node1"); return nil })
		if err == nil {
			err = p.waitSteady(b, "node1")
		}
		off = append(off, ms(m.out.gap))
		if err != nil {
			backBad++
			reset(fmt.Errorf("failback: %w", err))
			continue
		}
		back = append(back, ms(f.out.gap))
		b.Logf("%s: power-off %v; failback %v", system, m, f)
	}
	sbsSample(b, system, "power-off", "ms", off, anomalies(offBad))
	sbsSample(b, system, "failback", "ms", back, anomalies(backBad))

	// Links return: the active node's link goes down (its daemon keeps
	// running, as after a cable pull or a switch restart), the other node
	// takes over; then the link returns and both sides resolve the double
	// ownership, the preferred node1 keeping the VIP in the end (our
	// auto_failback, keepalived's preemption, Heartbeat's auto_failback).
	// Measured: the client's outage from the link's return to node1
	// serving again.
	var ret []float64
	retBad := 0
	for try := 0; len(ret) < want && try < 2*want+2; try++ {
		_, err := measureMove(b, n, vip, "node1", "node2", refMoveTimeout, func() error { n.h1.LinkDown("eth0"); return nil })
		if err != nil {
			n.h1.LinkUp("eth0")
			retBad++
			reset(fmt.Errorf("link down: %w", err))
			continue
		}
		m, err := measureMove(b, n, vip, "node2", "node1", refMoveTimeout, func() error { n.h1.LinkUp("eth0"); return nil })
		if err == nil {
			err = p.waitSteady(b, "node1")
		}
		if err != nil {
			retBad++
			reset(fmt.Errorf("links return: %w", err))
			continue
		}
		ret = append(ret, ms(m.out.gap))
		b.Logf("%s: node1's link back: %v", system, m)
		if m.out.gap > time.Second {
			b.Logf("%s: an outage over 1 s after the partition healed; the logs:\n%s", system, p.logs())
		}
	}
	sbsSample(b, system, "links return (partition healed)", "ms", ret, anomalies(retBad))

	// SIGKILL of the active node's daemon (its addresses stay: the old
	// node may keep answering until the new one's announcements).
	var kill []float64
	killBad := 0
	for try := 0; len(kill) < want && try < 2*want+2; try++ {
		m, err := measureMove(b, n, vip, "node1", "node2", refMoveTimeout, func() error { p.kill(b, "node1"); return nil })
		if err != nil {
			killBad++
			reset(fmt.Errorf("SIGKILL: %w", err))
			continue
		}
		kill = append(kill, ms(m.out.gap))
		b.Logf("%s: SIGKILL of the daemon on node1: %v", system, m)
		p.start(b, "node1")
		if err := p.waitSteady(b, "node1"); err != nil {
			killBad++
			reset(fmt.Errorf("after SIGKILL: %w", err))
		}
	}
	sbsSample(b, system, "daemon SIGKILL", "ms", kill, anomalies(killBad))

	// Graceful switchover, the system's own way.
	var grace []float64
	graceBad := 0
	holder := "node1"
	for try := 0; len(grace) < want && try < 2*want+2; try++ {
		other := map[string]string{"node1": "node2", "node2": "node1"}[holder]
		ranOn := holder
		m, err := measureMove(b, n, vip, holder, other, refMoveTimeout, func() error { return p.graceful(b, ranOn) })
		if err == nil {
			p.afterGraceful(b, holder)
			if p.gracefulBack() {
				err = p.waitSteady(b, other)
			} else {
				err = p.waitSteady(b, holder)
			}
		}
		if err != nil {
			graceBad++
			reset(fmt.Errorf("graceful: %w", err))
			holder = "node1"
			continue
		}
		if p.gracefulBack() {
			holder = other
		}
		grace = append(grace, ms(m.out.gap))
		b.Logf("%s: graceful switchover on %s: %v", system, ranOn, m)
	}
	sbsSample(b, system, "graceful switchover", "ms", grace, anomalies(graceBad))
}

// anomalies is the note of a scenario with failed trials (each logged
// with both nodes' logs, the pair reset and the trial repeated).
func anomalies(n int) string {
	if n == 0 {
		return ""
	}
	if n == 1 {
		return "[1 anomaly]"
	}
	return fmt.Sprintf("[%d anomalies]", n)
}

// idleSample measures, over win, the CPU share (of one CPU) and the
// resident memory (MiB, at the end) of the processes named comms in h's
// network namespace.
func idleSample(b *testing.B, h *testbed.Host, comms []string, win time.Duration) (cpu, rssMiB float64) {
	b.Helper()
	var ns uint64
	if err := h.Do(func() error {
		var st unix.Stat_t
		if err := unix.Stat("/proc/thread-self/ns/net", &st); err != nil {
			return err
		}
		ns = st.Ino
		return nil
	}); err != nil {
		b.Fatal(err)
	}
	t0, c0, _ := procTicks(ns, comms)
	time.Sleep(win)
	t1, c1, rss := procTicks(ns, comms)
	const hz = 100 // USER_HZ
	return float64(c1-c0) / hz / t1.Sub(t0).Seconds() * 100, float64(rss) / 1024
}

// procTicks sums utime+stime+cutime+cstime (ticks) and VmRSS (KiB) of the processes
// named comms whose network namespace is ns.
func procTicks(ns uint64, comms []string) (at time.Time, ticks, rssKiB uint64) {
	at = time.Now()
	ents, _ := os.ReadDir("/proc")
	for _, e := range ents {
		pid := e.Name()
		if _, err := strconv.Atoi(pid); err != nil {
			continue
		}
		var st unix.Stat_t
		if unix.Stat("/proc/"+pid+"/ns/net", &st) != nil || st.Ino != ns {
			continue
		}
		comm, _ := os.ReadFile("/proc/" + pid + "/comm")
		if !slices.Contains(comms, strings.TrimSpace(string(comm))) {
			continue
		}
		stat, _ := os.ReadFile("/proc/" + pid + "/stat")
		_, rest, ok := strings.Cut(string(stat), ") ")
		if !ok {
			continue
		}
		f := strings.Fields(rest) // f[0] is field 3 (state)
		// utime, stime, and cutime, cstime: children waited for (a track
		// script's or a resource script's runs are the system's work too).
		for i := 11; i <= 14 && i < len(f); i++ {
			t, _ := strconv.ParseUint(f[i], 10, 64)
			ticks += t
		}
		status, _ := os.ReadFile("/proc/" + pid + "/status")
		for l := range strings.SplitSeq(string(status), "\n") {
			if v, ok := strings.CutPrefix(l, "VmRSS:"); ok {
				kb, _ := strconv.ParseUint(strings.TrimSuffix(strings.TrimSpace(v), " kB"), 10, 64)
				rssKiB += kb
			}
		}
	}
	return at, ticks, rssKiB
}

// ourPair drives our daemons like a reference system: the VIP only, the
// demo service running on both nodes (as keepalived's setup).
type ourPair struct{ c *ourCluster }

func (p *ourPair) start(b *testing.B, node string) { p.c.node(node).Launch() }

func (p *ourPair) waitSteady(b *testing.B, holder string) error {
	if err := p.c.tryWaitHolder(b, holder, steadyTimeout); err != nil {
		return err
	}
	if err := p.c.waitClientSees(b, p.c.vips[0], holder, steadyTimeout); err != nil {
		return err
	}
	time.Sleep(refRest)
	return nil
}

func (p *ourPair) graceful(b *testing.B, holder string) error {
	out, err := runTool(p.c.bin, "hb_standby", "--run-dir", p.c.node(holder).RunDir, "all")
	if err != nil {
		return fmt.Errorf("hb_standby on %s: %v: %s", holder, err, out)
	}
	return nil
}

func (p *ourPair) afterGraceful(*testing.B, string) {}
func (p *ourPair) gracefulBack() bool               { return true }
func (p *ourPair) logs() string                     { return p.c.logs(30) }
func (p *ourPair) kill(b *testing.B, node string)   { p.c.node(node).Kill() }
func (p *ourPair) comms() []string                  { return []string{"heartbeat"} }
func (p *kaPair) kill(b *testing.B, node string)    { p.procs[node].Kill() }
func (p *kaPair) comms() []string                   { return []string{"keepalived"} }
func (p *realPair) kill(b *testing.B, node string)  { p.nodes[node].Kill() }
func (p *realPair) comms() []string                 { return []string{"heartbeat", "ha_logd"} }

// hasuiteVersion is BENCH_VERSION, else git describe of the working tree
// (go test runs in the package's directory).
func hasuiteVersion() string {
	if v := os.Getenv("BENCH_VERSION"); v != "" {
		return v
	}
	return cmdOut("git", "describe", "--always", "--dirty")
}

// httpdScript is a Heartbeat resource.d script for the demo HTTP server:
// start returns once it accepts connections, stop kills it, status says
// running or stopped.
func httpdScript(bin, node, pidfile string) string {
	return fmt.Sprintf(`#!/bin/bash
# benchres: the demo HTTP server, managed by the cluster
PIDF=%q
# ours only: the pid file outlives a power-off, its number may be reused
running() {
	pid=$(cat "$PIDF" 2>/dev/null) || return 1
	[ "$(readlink /proc/"$pid"/ns/net 2>/dev/null)" = "$(readlink /proc/self/ns/net)" ] &&
		tr '\0' ' ' </proc/"$pid"/cmdline 2>/dev/null | grep -q -- "-node %s -listen"
}
case "$1" in
start)
	running && exit 0
	setsid %q -node %s -listen :80 </dev/null >/dev/null 2>&1 &
	echo $! >"$PIDF"
	for _ in $(seq 1000); do
		(exec 3<>/dev/tcp/127.0.0.1/80) 2>/dev/null && exit 0
		sleep 0.001
	done
	exit 1 ;;
stop)
	running && kill -9 "$(cat "$PIDF")"
	rm -f "$PIDF"
	exit 0 ;;
status)
	if running; then echo running; else echo stopped; fi
	exit 0 ;;
esac
exit 0
`, pidfile, node, bin, node)
}
