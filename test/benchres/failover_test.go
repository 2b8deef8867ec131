package benchres

import (
	"fmt"
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/hasuite/hasuite/internal/testbed"
	"github.com/hasuite/hasuite/test/internal/e2ekit"
)

// observeTimeout bounds how long a trial waits for the takeover to be
// complete (dead line, addresses, announcements, answers).
const observeTimeout = 5 * time.Second

// watchers are the observers of one trial: the new holder's addresses
// (netlink) and the client's packet capture.
type watchers struct {
	addr *addrWatch
	cap  *capture
}

func startWatchers(b *testing.B, c *ourCluster, newHolder string) watchers {
	b.Helper()
	aw, err := watchAddrs(c.hostsByName[newHolder])
	if err != nil {
		b.Fatal(err)
	}
	cp, err := startCapture(c.client, "eth0")
	if err != nil {
		b.Fatal(err)
	}
	return watchers{aw, cp}
}

func (w watchers) close(b *testing.B) {
	b.Helper()
	if err := w.addr.close(); err != nil {
		b.Logf("address watcher: %v", err)
	}
	if err := w.cap.close(); err != nil {
		b.Fatalf("packet capture: %v", err)
	}
}

// waitAll polls cond every millisecond until it holds, bounded by timeout.
func waitAll(timeout time.Duration, cond func() bool) bool {
	deadline := time.Now().Add(timeout)
	for !cond() {
		if time.Now().After(deadline) {
			return false
		}
		time.Sleep(time.Millisecond)
	}
	return true
}

// checkBaseline waits until every target answered from node (before the
// fault is injected).
func checkBaseline(pr *prober, node string, targets int) error {
	ok := waitAll(2*time.Second, func() bool {
		got := map[int]bool{}
		for _, p := range pr.snapshot() {
			if p.node == node {
				got[p.target] = true
			}
		}
		return len(got) == targets
	})
	if !ok {
		return fmt.Errorf("before the fault, not every target answered from %s (%s)", node, describeProbes(pr.snapshot()))
	}
	return nil
}

// describeProbes summarises probes for failure messages.
func describeProbes(probes []probe) string {
	by := map[string]int{}
	var errs []string
	for _, p := range probes {
		if p.ok() {
			by[p.node]++
		} else {
			by["failed"]++
			if len(errs) < 3 {
				errs = append(errs, p.err.Error())
			}
		}
	}
	return fmt.Sprintf("%v, e.g. %v", by, errs)
}

// stopProber stops pr; an instrument failure fails the benchmark.
func stopProber(b *testing.B, pr *prober) ([]probe, int) {
	b.Helper()
	probes, late, err := pr.stop()
	if err != nil {
		b.Fatal(err)
	}
	return probes, late
}

// powerCut pulls the plug of a host: its link goes down first, so that no
// process can send a last word while the others are being killed (the
// vrrp child of keepalived, for one, gets SIGTERM when its parent dies and
// would announce priority 0), then testbed's PowerOff kills every process.
func powerCut(h *testbed.Host) {
	h.LinkDown("eth0")
	h.PowerOff()
}

// powerOffObs is what one power-off of node1 looked like.
type powerOffObs struct {
	tOff      time.Time   // the power cut began
	deadStamp time.Time   // node2's "node node1 is dead" (log timestamp, ms, truncated)
	deadSeen  time.Time   // when this process read that line
	took      string      // the daemon's group start duration
	decided   time.Time   // node2's "start group" line (log timestamp): the manager's decision
	added     []time.Time // per VIP: on node2's eth0 (netlink, read by this process)
	garp      []time.Time // per VIP: first gratuitous ARP from node2 at the client (kernel time)
	synack    []time.Time // per probed VIP: first SYN-ACK from node2 at the client (kernel time)
	lastOld   []time.Time // per probed VIP: last SYN-ACK from node1 before that (kernel time)
	probes    []probe
	late      int
}

// powerOffNode1 cuts node1's power while it holds the group and observes
// node2 taking over; probed are the VIP indexes the client probes. An
// error means the cluster did not take over as it should; node1 is off in
// any case.
func powerOffNode1(b *testing.B, c *ourCluster, probed []int) (powerOffObs, error) {
	b.Helper()
	var o powerOffObs
	mark := c.n2.log.mark()
	w := startWatchers(b, c, "node2")
	defer w.close(b)
	var targets []netip.Addr
	for _, i := range probed {
		targets = append(targets, c.vips[i])
	}
	pr := startProber(c.client, targets, probeEvery, probeTimeout)
	if err := checkBaseline(pr, "node1", len(targets)); err != nil {
		stopProber(b, pr)
		powerCut(c.h1)
		return o, err
	}
	time.Sleep(baseline)

	o.tOff = time.Now()
	powerCut(c.h1)

	fail := func(err error) (powerOffObs, error) {
		probes, _ := stopProber(b, pr)
		return o, fmt.Errorf("%w (%s)\n%s", err, describeProbes(probes), c.logs(30))
	}
	dead, _, err := c.n2.log.waitFor(mark, observeTimeout, "node node1 is dead")
	if err != nil {
		return fail(err)
	}
	o.deadSeen = dead.seen
	if o.deadStamp, err = e2ekit.ParseLogTime(dead.text); err != nil {
		b.Fatal(err)
	}
	decision, _, err := c.n2.log.waitFor(mark, observeTimeout, "\tstart group ")
	if err != nil {
		return fail(err)
	}
	o.decided, _ = e2ekit.ParseLogTime(decision.text)
	started, _, err := c.n2.log.waitFor(mark, observeTimeout, "group ", " started")
	if err != nil {
		return fail(err)
	}
	o.took = logField(started.text, "took")
	complete := waitAll(observeTimeout, func() bool {
		for _, v := range c.vips {
			if _, ok := w.addr.addedAt(v); !ok {
				return false
			}
			if _, ok := w.cap.garpAt(v, c.mac2); !ok {
				return false
			}
		}
		snap := pr.snapshot()
		for ti, v := range targets {
			if _, ok := firstAnswer(snap, "node2", ti, o.tOff); !ok {
				return false
			}
			if _, ok := w.cap.firstSynack(v, c.mac2, o.tOff); !ok {
				return false
			}
		}
		return true
	})
	if !complete {
		return fail(fmt.Errorf("takeover incomplete after %v", observeTimeout))
	}
	time.Sleep(settleAfter)
	o.probes, o.late = stopProber(b, pr)
	for _, v := range c.vips {
		t1, _ := w.addr.addedAt(v)
		t2, _ := w.cap.garpAt(v, c.mac2)
		o.added = append(o.added, t1)
		o.garp = append(o.garp, t2)
	}
	for _, v := range targets {
		t, _ := w.cap.firstSynack(v, c.mac2, o.tOff)
		old, _ := w.cap.lastSynackBefore(v, c.mac1, t)
		o.synack = append(o.synack, t)
		o.lastOld = append(o.lastOld, old)
	}
	return o, nil
}

// failbackObs is what one return of node1 (auto_failback on) looked like.
type failbackObs struct {
	out       outageResult
	synackGap time.Duration // last SYN-ACK from node2 to the first from node1 (kernel time)
	removed   time.Time     // VIP removed on node2 (netlink, read by this process)
	added     time.Time     // VIP added on node1 (same)
	late      int
}

// restartNode1 powers node1 on, restarts its httpd and daemon, and waits
// for the failback; with measure it observes the move of the first VIP.
func restartNode1(b *testing.B, c *ourCluster, measure bool) (failbackObs, error) {
	b.Helper()
	var fo failbackObs
	c.h1.PowerOn()
	c.startHTTPD(b, "node1")
	if !measure {
		c.n1.Launch()
		return fo, c.tryWaitHolder(b, "node1", steadyTimeout)
	}
	vip := c.vips[0]
	aw1, err := watchAddrs(c.h1)
	if err != nil {
		b.Fatal(err)
	}
	defer aw1.close()
	w := startWatchers(b, c, "node2")
	defer w.close(b)
	pr := startProber(c.client, []netip.Addr{vip}, probeEvery, probeTimeout)
	if err := checkBaseline(pr, "node2", 1); err != nil {
		stopProber(b, pr)
		return fo, err
	}
	time.Sleep(baseline)
	tStart := time.Now()
	c.n1.Launch()
	ok := waitAll(steadyTimeout, func() bool {
		_, ok := firstAnswer(pr.snapshot(), "node1", 0, tStart)
		_, ok2 := w.cap.firstSynack(vip, c.mac1, tStart)
		return ok && ok2
	})
	time.Sleep(settleAfter)
	probes, late := stopProber(b, pr)
	if !ok {
		return fo, fmt.Errorf("no failback to node1 within %v (%s)\n%s", steadyTimeout, describeProbes(probes), c.logs(30))
	}
	fo.late = late
	fo.removed, _ = w.addr.goneAt(vip)
	fo.added, _ = aw1.addedAt(vip)
	first, _ := w.cap.firstSynack(vip, c.mac1, tStart)
	last, _ := w.cap.lastSynackBefore(vip, c.mac2, first)
	fo.synackGap = first.Sub(last)
	if fo.out, err = outage(probes, "node2", "node1", 0, tStart); err != nil {
		return fo, fmt.Errorf("failback: %w (%s)", err, describeProbes(probes))
	}
	return fo, c.tryWaitHolder(b, "node1", steadyTimeout)
}

// recoverNode1 brings node1 back after a power-off trial that went wrong:
// a reset of the pair if the failback fails too.
func recoverNode1(b *testing.B, c *ourCluster, tr *trialRunner) {
	b.Helper()
	if _, err := restartNode1(b, c, false); err != nil {
		tr.anomaly(fmt.Errorf("after the trial: %w", err), func() { c.reset(b) })
	}
}

func latest(ts []time.Time) time.Time {
	var m time.Time
	for _, t := range ts {
		if t.After(m) {
			m = t
		}
	}
	return m
}

func earliest(ts []time.Time) time.Time {
	m := ts[0]
	for _, t := range ts[1:] {
		if t.Before(m) {
			m = t
		}
	}
	return m
}

func parseTook(s string) time.Duration {
	d, err := time.ParseDuration(s)
	if err != nil {
		return -1
	}
	return d
}

// BenchmarkTakeoverLatency: from node2 declaring node1 dead (node1 powered
// off) to the VIP(s) being on node2, announced, and answering the client.
func BenchmarkTakeoverLatency(b *testing.B) {
	for _, n := range []int{1, 100} {
		b.Run(fmt.Sprintf("vip%d", n), func(b *testing.B) {
			for range b.N {
				benchTakeover(b, n)
			}
		})
	}
}

func benchTakeover(b *testing.B, nVIPs int) {
	c := newOurCluster(b, nVIPs)
	probed := []int{0}
	if nVIPs > 1 {
		probed = []int{0, nVIPs - 1}
	}
	last := len(probed) - 1
	var s samples
	tr := newTrials(b, trials())
	for tr.next() {
		o, err := powerOffNode1(b, c, probed)
		if err != nil {
			tr.anomaly(err, func() { c.reset(b) })
			continue
		}
		pause := proberPause(o.probes, o.deadStamp, o.synack[last])
		if disturbed(pause, o.synack[last].Sub(o.deadStamp)) {
			tr.discard("the prober paused %v between the dead line and the last VIP's first SYN-ACK", pause)
			recoverNode1(b, c, tr)
			continue
		}
		tr.ok()
		since := func(t time.Time) time.Duration { return t.Sub(o.deadStamp) }
		http, _ := firstAnswer(o.probes, "node2", last, o.tOff)
		s.add("detect", o.deadStamp.Sub(o.tOff))
		if nVIPs == 1 {
			s.add("dead-to-garp", since(o.garp[0]))
			s.add("dead-to-synack", since(o.synack[0]))
			s.add("dead-to-http", since(http.done))
		} else {
			s.add("dead-to-first-garp", since(earliest(o.garp)))
			s.add("dead-to-last-garp", since(latest(o.garp)))
			s.add("dead-to-synack-first-vip", since(o.synack[0]))
			s.add("dead-to-synack-last-vip", since(o.synack[last]))
			s.add("dead-to-http-last-vip", since(http.done))
		}
		s.add("dead-to-start-line", since(o.decided))
		s.add("group-start-took", parseTook(o.took))
		s.add("dead-line-read-lag", o.deadSeen.Sub(o.deadStamp))
		b.Logf("attempt %d: detect %v, dead line read %v after its stamp, \"start group\" line %v after it, group start took %s, GARP of the last VIP %v after the stamp, prober pause %v, %d probes (%d ticks late)",
			tr.n(), o.deadStamp.Sub(o.tOff).Round(time.Microsecond), o.deadSeen.Sub(o.deadStamp).Round(time.Microsecond),
			since(o.decided), o.took, since(latest(o.garp)).Round(time.Microsecond), pause.Round(time.Microsecond), len(o.probes), o.late)
		recoverNode1(b, c, tr)
	}
	if nVIPs == 1 {
		s.report(b, "dead-to-garp", "dead-to-synack", "dead-to-http")
	} else {
		s.report(b, "dead-to-last-garp", "dead-to-synack-last-vip", "dead-to-http-last-vip")
	}
	tr.report()
}

// BenchmarkPowerOffOutage: the client's outage when the active node loses
// power (keepalive 10ms, deadtime 50ms).
func BenchmarkPowerOffOutage(b *testing.B) {
	for range b.N {
		c := newOurCluster(b, 1)
		var s samples
		tr := newTrials(b, trials())
		for tr.next() {
			o, err := powerOffNode1(b, c, []int{0})
			if err == nil {
				var r outageResult
				if r, err = outage(o.probes, "node1", "node2", 0, o.tOff); err == nil {
					if disturbed(r.sendGap, r.gap) {
						tr.discard("%v", r)
					} else {
						tr.ok()
						s.add("outage", r.gap)
						s.add("outage-synack", o.synack[0].Sub(o.lastOld[0]))
						s.add("cut-to-dead", o.deadStamp.Sub(o.tOff))
						s.add("dead-to-synack", o.synack[0].Sub(o.deadStamp))
						s.add("prober-pause", r.sendGap)
						b.Logf("attempt %d: %v; SYN-ACK gap %v; last node1 answer %v after the power cut began; %d ticks late",
							tr.n(), r, o.synack[0].Sub(o.lastOld[0]).Round(time.Microsecond), r.lastOld.Sub(o.tOff).Round(time.Microsecond), o.late)
					}
				}
			}
			if err != nil {
				tr.anomaly(err, func() { c.reset(b) })
				continue
			}
			recoverNode1(b, c, tr)
		}
		s.report(b, "outage", "outage-synack")
		tr.report()
	}
}

// BenchmarkSwitchoverOutage: the client's outage for hb_standby on the
// active node, and for the automatic failback to node1 when it returns.
func BenchmarkSwitchoverOutage(b *testing.B) {
	b.Run("standby", func(b *testing.B) {
		for range b.N {
			benchStandby(b, 1)
		}
	})
	// Not a target of the brief: a group of 100 VIPs, probing the VIP that
	// is stopped first (groups stop in reverse order), i.e. the longest
	// outage of the group.
	b.Run("standby-vip100", func(b *testing.B) {
		for range b.N {
			benchStandby(b, 100)
		}
	})
	b.Run("failback", func(b *testing.B) {
		for range b.N {
			benchFailback(b)
		}
	})
}

// standbyObs is one hb_standby move.
type standbyObs struct {
	out       outageResult
	synackGap time.Duration
	overlap   time.Duration // > 0: the old node answered after the new one's first GARP
	cmdTook   time.Duration
	cmdOut    string
	late      int
}

// standbyMove runs hb_standby on holder and observes the move of vip to
// other.
func standbyMove(b *testing.B, c *ourCluster, holder, other string, vip netip.Addr) (standbyObs, error) {
	b.Helper()
	var so standbyObs
	cp, err := startCapture(c.client, "eth0")
	if err != nil {
		b.Fatal(err)
	}
	defer func() {
		if err := cp.close(); err != nil {
			b.Fatalf("packet capture: %v", err)
		}
	}()
	pr := startProber(c.client, []netip.Addr{vip}, probeEvery, probeTimeout)
	if err := checkBaseline(pr, holder, 1); err != nil {
		stopProber(b, pr)
		return so, err
	}
	time.Sleep(baseline)
	t0 := time.Now()
	out, err := runTool(c.bin, "hb_standby", "--run-dir", c.node(holder).RunDir, "all")
	so.cmdTook, so.cmdOut = time.Since(t0), strings.TrimSpace(out)
	if err != nil {
		probes, _ := stopProber(b, pr)
		return so, fmt.Errorf("hb_standby on %s: %v: %s (%s)\n%s", holder, err, out, describeProbes(probes), c.logs(30))
	}
	newMAC, oldMAC := c.macOfNode(other), c.macOfNode(holder)
	ok := waitAll(moveTimeout, func() bool {
		_, ok := firstAnswer(pr.snapshot(), other, 0, t0)
		_, ok2 := cp.firstSynack(vip, newMAC, t0)
		return ok && ok2
	})
	time.Sleep(settleAfter)
	probes, late := stopProber(b, pr)
	if !ok {
		return so, fmt.Errorf("no answer from %s after hb_standby on %s (%s)\n%s", other, holder, describeProbes(probes), c.logs(30))
	}
	so.late = late
	first, _ := cp.firstSynack(vip, newMAC, t0)
	last, _ := cp.lastSynackBefore(vip, oldMAC, first)
	so.synackGap = first.Sub(last)
	// Both nodes serving at once would show as a SYN-ACK of the old node
	// after the new one's first gratuitous ARP (kernel times).
	garp, _ := cp.garpAt(vip, newMAC)
	lastAny, _ := cp.lastSynackBefore(vip, oldMAC, t0.Add(time.Hour))
	so.overlap = lastAny.Sub(garp)
	if so.out, err = outage(probes, holder, other, 0, t0); err != nil {
		return so, fmt.Errorf("%w (%s)", err, describeProbes(probes))
	}
	return so, nil
}

func benchStandby(b *testing.B, nVIPs int) {
	c := newOurCluster(b, nVIPs)
	vip := c.vips[nVIPs-1]
	var s samples
	holder := "node1"
	overlaps := 0
	tr := newTrials(b, trials())
	for tr.next() {
		other := map[string]string{"node1": "node2", "node2": "node1"}[holder]
		so, err := standbyMove(b, c, holder, other, vip)
		if err == nil {
			err = c.tryWaitHolder(b, other, steadyTimeout)
		}
		if err != nil {
			tr.anomaly(err, func() { c.reset(b) })
			holder = "node1"
			continue
		}
		holder = other
		if disturbed(so.out.sendGap, so.out.gap) {
			tr.discard("%v", so.out)
			continue
		}
		tr.ok()
		if so.overlap > 0 {
			overlaps++
		}
		s.add("outage", so.out.gap)
		s.add("outage-synack", so.synackGap)
		s.add("hb_standby-cmd", so.cmdTook)
		s.add("prober-pause", so.out.sendGap)
		b.Logf("attempt %d: -> %s: %v; SYN-ACK gap %v; new holder's first GARP %v after the old one's last SYN-ACK; hb_standby returned after %v (%q); %d ticks late",
			tr.n(), other, so.out, so.synackGap.Round(time.Microsecond), (-so.overlap).Round(time.Microsecond),
			so.cmdTook.Round(time.Microsecond), so.cmdOut, so.late)
	}
	s.report(b, "outage", "outage-synack")
	tr.report()
	b.ReportMetric(float64(overlaps), "overlaps")
}

func benchFailback(b *testing.B) {
	c := newOurCluster(b, 1)
	var s samples
	tr := newTrials(b, trials())
	for tr.next() {
		if _, err := powerOffNode1(b, c, []int{0}); err != nil {
			tr.anomaly(err, func() { c.reset(b) })
			continue
		}
		fo, err := restartNode1(b, c, true)
		if err != nil {
			tr.anomaly(err, func() { c.reset(b) })
			continue
		}
		if disturbed(fo.out.sendGap, fo.out.gap) {
			tr.discard("%v", fo.out)
			continue
		}
		tr.ok()
		s.add("outage", fo.out.gap)
		s.add("outage-synack", fo.synackGap)
		s.add("prober-pause", fo.out.sendGap)
		b.Logf("attempt %d: failback: %v; SYN-ACK gap %v; VIP off node2 -> on node1 %v (netlink, read by this process); %d ticks late",
			tr.n(), fo.out, fo.synackGap.Round(time.Microsecond), fo.added.Sub(fo.removed).Round(time.Microsecond), fo.late)
	}
	s.report(b, "outage", "outage-synack")
	tr.report()
}
