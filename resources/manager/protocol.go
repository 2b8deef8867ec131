package manager

import (
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/hasuite/hasuite/heartbeat/msg"
)

// CommUp: cluster communication is up. peerAlive says whether the peer
// answered in time; a node alone takes every group.
func (m *Manager) CommUp(now time.Duration, peerAlive bool) {
	m.now = now
	if m.commUp {
		return
	}
	m.commUp = true
	m.peerAlive = peerAlive
	if !peerAlive {
		if m.cfg.FenceEnabled {
			// Never heard from: it may hold anything (a cold start after a
			// crash of both, a partition at boot).
			m.scheduleFence(now, "peer "+m.peer+" did not appear within initdead")
			return
		}
		m.take(All, "the peer is not up")
		m.stable = true // decided: everything is ours
		m.reportPending = true
		m.progress()
		return
	}
	m.negotiate(now)
}

// negotiate begins a starting node's negotiation with its live peer.
func (m *Manager) negotiate(now time.Duration) {
	if m.nice() {
		m.startingSince = now
		m.send("starting")
		return
	}
	// Legacy: ask the peer for each of our groups; it releases them if it
	// holds them and answers, and we take them then.
	for _, g := range m.groups {
		if g.local && g.state == Stopped {
			m.send("ip-request", "ipaddr", g.Key)
		}
	}
	m.stable = true
}

// cancelFence drops a pending fence of the peer: it is alive again. While
// the fence was pending nothing was taken, so the groups it was to take may
// run nowhere (the peer restarted, or never ran them): this node negotiates
// again, as a starting node does, and takes its own groups the peer does
// not hold.
func (m *Manager) cancelFence(now time.Duration) {
	m.fencePending, m.fenceTries = false, 0
	m.negotiate(now)
}

// PeerAlive: the peer is up again (restarted, or back after a partition).
func (m *Manager) PeerAlive(now time.Duration) {
	m.now = now
	if m.peerAlive {
		return
	}
	m.peerAlive = true
	m.peerStable = false
	m.peerStarting = false
	m.peerHold = None
	m.peerReported = false
	m.dualSeen = None
	if m.fencePending && !m.fenceRunning {
		m.cancelFence(now)
		m.warn("", "fence of %s cancelled: it is alive again", m.peer)
	}
	if m.commUp && m.stable && !m.stopping {
		// Tell it what we hold: after a partition both may hold the same
		// groups, and this report is how each side finds out.
		m.report(m.settled() && m.hs == nil, "")
		// And re-announce the groups we run: if it ran them during a
		// partition, clients may have followed its announcements. Those
		// both run are then resolved, and the keeper announces again once
		// it sees the overlap: clients end up on the keeper.
		for _, g := range m.groups {
			if g.state == Running {
				m.actions = append(m.actions, Action{Kind: Announce, Group: g.Key})
			}
		}
	}
}

// fencePriority: the node that holds the first group (or, when nobody
// holds it, is preferred for it) fences without delay.
func (m *Manager) fencePriority() bool {
	if len(m.groups) == 0 {
		return m.cfg.LocalNode < m.peer
	}
	g := m.groups[0]
	switch {
	case g.state == Running || g.state == Starting:
		return true
	case m.peerHold&setOf(g).mirror() != 0:
		return false
	}
	return g.local
}

func (m *Manager) scheduleFence(now time.Duration, why string) {
	delay := time.Duration(0)
	if !m.fencePriority() {
		delay = m.cfg.FenceDelay
	}
	m.fencePending, m.fenceAt, m.fenceTries, m.fenceWhy = true, now+delay, 0, why
	m.stable = false
	m.info("", "%s: fencing it before taking over (in %s)", why, delay)
}

// FenceDone reports the outcome of a Fence action.
func (m *Manager) FenceDone(now time.Duration, err error) {
	m.now = now
	m.fenceRunning = false
	if !m.fencePending {
		return
	}
	if m.stopping {
		// A graceful stop began while the fence ran: a stopping node
		// takes nothing (its shutdone may already be out).
		m.fencePending = false
		return
	}
	if err == nil {
		m.fencePending, m.fenceTries = false, 0
		m.take(All, "peer "+m.peer+" fenced")
		m.stable = true
		m.reportPending = true
		m.progress()
		return
	}
	if m.peerAlive {
		// The peer came back while its fence ran (PeerAlive could not
		// cancel a running fence): it is alive and may run its groups, so
		// neither a fallback takeover nor another fence of a live peer.
		m.cancelFence(now)
		m.reportPending = m.stable
		m.warn("", "fencing %s failed (%v), but it is alive again: fence cancelled, nothing taken over", m.peer, err)
		m.progress()
		return
	}
	m.fenceTries++
	backoff := m.cfg.FenceRetry << (m.fenceTries - 1)
	if backoff > time.Minute || backoff <= 0 {
		backoff = time.Minute
	}
	m.events = append(m.events, Event{Kind: EvFenceFailed, Level: Error, Detail: fmt.Sprintf(
		"fencing %s failed (try %d): %v; its groups are NOT taken over; retrying in %s", m.peer, m.fenceTries, err, backoff)})
	if m.cfg.FenceFallback {
		m.fencePending = false
		m.warn("", "stonith_fallback takeover: taking %s's groups without a successful fence", m.peer)
		m.take(All, "fencing failed, fallback")
		m.stable = true
		m.reportPending = true
		m.progress()
		return
	}
	m.fenceAt = now + backoff
}

// PeerDead: the peer was declared dead (graceful: it announced shutdone,
// so it released everything). We take over every group.
func (m *Manager) PeerDead(now time.Duration, graceful bool) {
	m.now = now
	m.peerAlive, m.peerStable, m.peerStarting = false, false, false
	m.dual = false // one node left: nothing is held twice (no healing to report)
	m.returned = false
	if m.hs != nil {
		m.warn("", "standby handshake with %s abandoned: the peer is dead", m.peer)
		m.hs = nil
	}
	if !m.commUp || m.stopping {
		return
	}
	why := "peer " + m.peer + " is dead"
	if graceful {
		why = "peer " + m.peer + " stopped gracefully"
	}
	for _, g := range m.groups {
		g.failed, g.sticky = false, false // nobody else can run them: try again
		// Being stopped for the peer (a standby): take it back once
		// stopped (take skips it now).
		g.retake = g.state == Stopping
	}
	// Unlike Heartbeat, a peer lost by timeout is fenced even if it said it
	// held nothing: in a partition it is alive and, not knowing what we
	// hold, fences us unless we fence it first (the delay gives the node
	// with priority that head start).
	if !graceful && m.cfg.FenceEnabled {
		m.scheduleFence(now, why)
		m.peerHold = None
		return
	}
	m.peerHold = None
	m.take(All, why)
	m.stable = true
	m.reportPending = true
	m.progress()
}

// PeerRestarted: the peer came back with a new generation before it was
// declared dead (a reboot or restart shorter than deadtime). Its previous
// run is gone and so are the groups it ran (a starting node runs nothing:
// leftovers are cleaned up before it heartbeats). The groups preferred
// here that it ran are taken back at once (no fence: the new generation
// proves the old run ended); its own groups are left to its start-up
// negotiation, which it may already have begun on an older report of ours:
// taking them here too would start them on both nodes. PeerAlive follows
// when its first status arrives, and sends it our report.
func (m *Manager) PeerRestarted(now time.Duration) {
	m.now = now
	if !m.peerAlive {
		return
	}
	m.peerAlive, m.peerStable, m.peerStarting = false, false, false
	m.peerHold, m.peerReported = None, false
	if m.hs != nil {
		m.warn("", "standby handshake with %s abandoned: the peer restarted", m.peer)
		m.hs = nil
	}
	if !m.commUp || m.stopping {
		return
	}
	m.warn("", "peer %s restarted without being seen dead: taking back the groups preferred here; its own start again there", m.peer)
	for _, g := range m.groups {
		// Being stopped for it (a standby, an auto_failback): run them
		// again here once stopped. It may decide on a report of ours that
		// still shows them held, and then not take them; auto_failback
		// gives its own back with a handshake once it is stable.
		g.retake = g.state == Stopping
	}
	m.take(Local, "peer "+m.peer+" restarted")
	m.stable = true
	m.reportPending = true
	m.progress()
}

// Receive handles a resource-protocol message from the peer (already
// filtered for us by the core). It returns false for types it does not know.
func (m *Manager) Receive(now time.Duration, x *msg.Message) bool {
	m.now = now
	switch x.Type() {
	case "starting":
		m.peerStarting = true
		m.peerStable = false
		m.failbackArmed = true
		m.report(m.stable && m.settled() && m.hs == nil, "")
	case "resource":
		m.receiveResource(x)
	case "ask_resources":
		m.receiveAsk(x)
	case "hb_takeover":
		// The peer wants groups: we go standby for the matching set.
		h, ok := TakeoverSet(x.Str("rsc_hold"))
		if !ok {
			h = All
		}
		if err := m.standby(now, h.mirrorTakeover(), MovePeerRequest); err != nil {
			m.warn("", "takeover request from %s not honoured: %v", m.peer, err)
		}
	case "ip-request":
		m.receiveIPRequest(x)
	case "ip-request-resp":
		if g := m.byKey[x.Str("ipaddr")]; g != nil && x.Str("ok") == "OK" && !m.stopping && g.state == Stopped {
			m.setState(g, Starting)
			m.actions = append(m.actions, Action{Kind: Start, Group: g.Key})
			m.info(g.Key, "taking it: the peer answered our ip-request")
		}
	default:
		return false
	}
	m.progress()
	return true
}

// mirrorTakeover maps the set named by hb_takeover on the peer to the set
// we give up: its local groups are our foreign ones; all is all.
func (h Hold) mirrorTakeover() Hold {
	if h == All || h == None {
		return All
	}
	return h.mirror()
}

func setOf(g *group) Hold {
	if g.local {
		return Local
	}
	return Foreign
}

func (m *Manager) receiveResource(x *msg.Message) {
	// A report recovered by retransmission may arrive after a newer one:
	// it describes the past, and acting on it (a hold already released)
	// would be wrong.
	gen, _ := strconv.ParseUint(x.Str(msg.FGen), 16, 64)
	seq, _ := strconv.ParseUint(x.Str(msg.FSeq), 16, 64)
	if gen == m.reportGen && seq < m.reportSeq {
		m.info("", "ignoring an old report from %s (seq %x, newest %x)", m.peer, seq, m.reportSeq)
		return
	}
	m.reportGen, m.reportSeq = gen, seq
	m.peerReported = true
	h, _ := ParseHold(x.Str("rsc_hold"))
	switch {
	case x.Str("rtype") == "full" || h == None:
		m.peerHold = h
	default:
		m.peerHold |= h
	}
	if s, ok := x.Get("isstable"); ok {
		m.peerStable = s == "1"
	}
	if x.Str("info") == "shutdown" {
		m.peerStable = false
	}
	// We gave groups away and wait for the taker's "done": a full, stable
	// report from it says the same (its "done" may have been lost to a
	// false death on its side, which ended its half of the handshake).
	if m.hs != nil && m.hs.initiator && m.hs.phase == phGiven && m.peerStable && x.Str("rtype") == "full" {
		m.hs = nil
		m.report(true, "")
		m.info("", "standby complete (the peer reported it is stable)")
	}
	// We accepted a standby request and wait for the initiator's "done":
	// a full, stable report it sent after its request says it has no
	// handshake any more: its "done" was lost (it holds none of the set:
	// we take it, as on "done"), or it gave up (our answer came after its
	// timeout: we abandon). Waiting on would keep us in transition for
	// minutes, with the groups it released running nowhere.
	if m.hs != nil && !m.hs.initiator && m.hs.phase == phAccepted && m.peerStable && x.Str("rtype") == "full" &&
		gen == m.hs.askGen && seq > m.hs.askSeq {
		if m.peerHold&m.hs.set == None {
			m.hs.phase = phTaking
			m.take(m.hs.set.mirrorSet(), "the peer went standby (its done was lost)")
		} else {
			m.hs = nil
			m.reportPending = true
			m.warn("", "standby request from %s abandoned: it reports it is stable", m.peer)
		}
	}
	if m.commUp && !m.stable && m.peerAlive && !m.fencePending {
		m.decideStart(false)
	}
	m.resolveDualOwnership()
	if m.dualSeen != None && m.dualAt != m.now {
		// The peer still reports the overlap, and we answered it less
		// than StandbyTimeout ago: answer again then (the peer may have
		// missed it, or learnt only now that we are alive).
		m.dualRecheck = true
	}
	m.maybeAutoFailback()
}

// resolveDualOwnership: after a partition both nodes may hold the same
// groups. Each group stays with its preferred node, the other stops it, and
// the keeper re-announces its VIPs at once so no client stays on the loser.
// Both sides apply the same rule to the same facts, so they agree. It runs
// on the peer's reports and whenever our own groups settle (an overlap
// seen while our starts ran is acted on once they end); each overlap is
// reported and announced once per StandbyTimeout: while it stays (a group
// that failed to stop on the loser) a report per report would go back and
// forth forever.
func (m *Manager) resolveDualOwnership() {
	m.dualResolved()
	if !m.stable || !m.peerStable || m.hs != nil || m.stopping || !m.settled() {
		return
	}
	both := m.Holding() & m.peerHold.mirror()
	if both == None {
		if m.dualSeen != None {
			// The overlap ended: the loser released. It may have
			// announced since we did (on seeing us again): announce last.
			for _, g := range m.groups {
				if g.local && g.in(m.dualSeen) && g.state == Running {
					m.actions = append(m.actions, Action{Kind: Announce, Group: g.Key})
				}
			}
		}
		m.dualSeen = None
		return
	}
	m.dual = true
	// Again after a while: the overlap seen may have come from a stale
	// hold (a legacy ip-request releases without a report) while the real
	// one, later, looks the same.
	fresh := both != m.dualSeen || m.now-m.dualAt >= m.cfg.StandbyTimeout
	if fresh {
		m.dualAt = m.now
	}
	m.dualSeen = both
	if fresh {
		m.events = append(m.events, Event{Kind: EvDualOwnership, Level: Error, Detail: fmt.Sprintf(
			"both nodes hold %s groups (after a partition?): each group stays with its preferred node", both)})
	}
	released := false
	for _, g := range m.groups {
		if !g.in(both) || g.state != Running {
			continue
		}
		if g.local {
			if fresh {
				m.actions = append(m.actions, Action{Kind: Announce, Group: g.Key})
			}
		} else if m.release(g) {
			released = true
		}
	}
	// Tell the peer what we hold: once per new overlap (it may not know
	// it yet: it never saw us go), and when the stops end.
	if released || fresh {
		m.reportPending = true
	}
}

// PartitionReturned: the peer, declared dead, came back with the same
// generation: during the partition both nodes may have run the same
// groups. Once both sides have settled and no group is held by both
// (whether or not this side saw a dual ownership: the other side may have
// released first), EvDualOwnershipResolved reports the split brain over.
func (m *Manager) PartitionReturned(now time.Duration) {
	m.now = now
	// Once per partition: the core says it of every message the peer
	// sends until its next status makes it alive again.
	if m.commUp && !m.stopping && !m.returned {
		m.returned, m.dual = true, true
	}
}

// dualResolved reports the end of a dual ownership: both sides settled and
// no group held by both any more.
func (m *Manager) dualResolved() {
	if !m.dual || !m.stable || m.hs != nil || m.stopping || !m.settled() || !m.peerStable ||
		m.Holding()&m.peerHold.mirror() != None {
		return
	}
	m.dual = false
	m.events = append(m.events, Event{Kind: EvDualOwnershipResolved, Level: Warn,
		Detail: "every group is held by one node again: the split brain is resolved"})
	// Tell the peer where we stand: its view of us may predate the
	// partition's end (its PeerAlive forgets our earlier report), and it
	// waits for a stable report to know the split brain is over too.
	m.report(true, "")
}

// decideStart: a starting node takes its own groups unless the peer holds
// them. It waits while the peer is neither stable nor starting itself (it
// may be busy taking our groups), at most RequestDelay.
func (m *Manager) decideStart(timedOut bool) {
	if timedOut && !m.peerReported {
		// Not one report from the live peer: what it holds is unknown
		// (our "starting" or its answer was lost), and it may run our
		// groups. Ask again rather than start a second copy.
		m.startingSince = m.now
		m.send("starting")
		m.warn("", "no report from %s within the request delay: asking again", m.peer)
		return
	}
	peerHoldsOurs := m.peerHold&Foreign != 0
	switch {
	case !peerHoldsOurs && (m.peerStable || m.peerStarting || timedOut):
		m.take(Local, "starting; the peer does not hold them")
		m.reportPending = true
	case peerHoldsOurs && (m.peerStable || timedOut):
		m.info("", "the peer holds our groups; auto_failback %s", m.cfg.AutoFailback)
		m.reportPending = true
	default:
		return
	}
	m.stable = true
}

// maybeAutoFailback gives the peer its groups back once it is stable
// (auto_failback on).
func (m *Manager) maybeAutoFailback() {
	if m.cfg.AutoFailback != "on" || !m.failbackArmed || !m.stable || m.stopping || m.hs != nil || !m.peerAlive || !m.peerStable {
		return
	}
	if !m.settled() {
		return
	}
	m.failbackArmed = false
	if m.Holding()&Foreign == 0 {
		return
	}
	if err := m.standby(m.now, Foreign, MoveAutoFailback); err == nil {
		m.info("", "auto_failback: giving %s its groups back", m.peer)
	}
}

// Standby starts the handshake that moves set h (our terms) to the peer:
// the operator's hb_standby.
func (m *Manager) Standby(now time.Duration, h Hold) error {
	return m.standby(now, h, MoveOperator)
}

func (m *Manager) standby(now time.Duration, h Hold, why MoveCause) error {
	m.now = now
	switch {
	case !m.nice():
		return errors.New("standby is only possible with auto_failback on or off, not legacy")
	case m.stopping:
		return errors.New("this node is stopping")
	case !m.peerAlive:
		return fmt.Errorf("the peer %s is not up", m.peer)
	case m.hs != nil:
		return errors.New("a standby or takeover is already in progress")
	case !m.stable || !m.settled():
		return errors.New("local resources are in transition")
	case !m.peerStable:
		return fmt.Errorf("the peer %s is in transition", m.peer)
	case h == None:
		return errors.New("nothing to move")
	}
	m.hs = &handshake{initiator: true, set: h, phase: phAskSent, deadline: now + m.cfg.StandbyTimeout}
	m.send("ask_resources", "rsc_hold", h.String(), "info", "me")
	m.events = append(m.events, Event{Kind: EvStandby, Move: why, Level: Info,
		Detail: fmt.Sprintf("going standby [%s] (%s)", h, why)})
	return nil
}

// Takeover asks the peer to give us set h (our terms): hb_takeover.
func (m *Manager) Takeover(now time.Duration, h Hold) error {
	m.now = now
	switch {
	case !m.nice():
		return errors.New("takeover is only possible with auto_failback on or off, not legacy")
	case !m.peerAlive:
		return fmt.Errorf("the peer %s is not up", m.peer)
	}
	m.send("hb_takeover", "rsc_hold", h.String())
	m.events = append(m.events, Event{Kind: EvTakeover, Move: MoveOperator, Level: Info,
		Detail: fmt.Sprintf("asked %s to hand over [%s]", m.peer, h)})
	return nil
}

func (m *Manager) receiveAsk(x *msg.Message) {
	h, ok := ParseHold(x.Str("rsc_hold"))
	if !ok {
		m.warn("", "ask_resources with a bad rsc_hold %q ignored", x.Str("rsc_hold"))
		return
	}
	switch x.Str("info") {
	case "me": // the peer goes standby; we take
		gen, _ := strconv.ParseUint(x.Str(msg.FGen), 16, 64)
		seq, _ := strconv.ParseUint(x.Str(msg.FSeq), 16, 64)
		if gen == m.reportGen && seq < m.reportSeq && m.peerStable {
			// Recovered late: the peer reported itself stable after it
			// asked, so it has given this request up.
			m.warn("", "old standby request from %s ignored", m.peer)
			return
		}
		if m.hs != nil || !m.stable || !m.settled() || m.stopping {
			m.warn("", "standby request from %s ignored: local resources in flux", m.peer)
			return
		}
		m.peerStable = false
		// The initiator stops its groups before it answers "done"; stops
		// may take minutes (retries), so wait long, but not forever.
		m.hs = &handshake{set: h, phase: phAccepted, deadline: m.now + 10*time.Minute}
		m.hs.askGen, _ = strconv.ParseUint(x.Str(msg.FGen), 16, 64)
		m.hs.askSeq, _ = strconv.ParseUint(x.Str(msg.FSeq), 16, 64)
		m.send("ask_resources", "rsc_hold", h.String(), "info", "other")
	case "other":
		if m.hs == nil || !m.hs.initiator || m.hs.phase != phAskSent {
			return
		}
		if h != m.hs.set {
			// The answer to an earlier request (retransmitted late).
			m.warn("", "ignoring an answer for [%s] from %s: our request is for [%s]", h, m.peer, m.hs.set)
			return
		}
		m.hs.phase = phReleasing
		m.hs.deadline = m.now + time.Hour
		m.send("resource", "rsc_hold", (m.Holding() &^ h).String(), "rtype", "full", "isstable", "0", "info", "standby")
		m.give(h, "standby")
	case "done":
		if m.hs == nil {
			return
		}
		switch {
		case !m.hs.initiator && m.hs.phase == phAccepted && h&^m.hs.set != 0:
			// Not the handshake we accepted (a late copy of another; the
			// initiator may hand over less than asked, never more).
			m.warn("", "ignoring a done for [%s] from %s: we accepted [%s]", h, m.peer, m.hs.set)
		case !m.hs.initiator && m.hs.phase == phAccepted:
			m.hs.phase = phTaking
			m.take(h.mirrorSet(), "the peer went standby")
		case m.hs.initiator && m.hs.phase == phGiven:
			m.hs = nil
			m.report(true, "")
			m.info("", "standby complete")
		}
	}
}

// mirrorSet: the set the initiator named, in the taker's terms.
func (h Hold) mirrorSet() Hold {
	if h == All {
		return All
	}
	return h.mirror()
}

func (m *Manager) receiveIPRequest(x *msg.Message) {
	key := x.Str("ipaddr")
	g := m.byKey[key]
	if g == nil {
		m.warn("", "ip-request for unknown group %q", key)
		m.send("ip-request-resp", msg.FDest, m.peer, "ipaddr", key, "weown", "no", "ok", "OK")
		return
	}
	if m.release(g) {
		g.replyIPRequest = true
		m.info(key, "releasing: the peer asked for it (ip-request)")
		return
	}
	if g.state == Stopping {
		// Already being stopped: answer when the stop has succeeded, not
		// while the group may still run here.
		g.replyIPRequest = true
		return
	}
	m.send("ip-request-resp", msg.FDest, m.peer, "ipaddr", key, "weown", "no", "ok", "OK")
}

// Stop begins the graceful release of everything before shutdone. Called
// again (a second stop command) it retries groups whose stop failed.
func (m *Manager) Stop(now time.Duration) {
	m.now = now
	if m.stopping && !m.StopFailed() {
		return
	}
	m.stopping = true
	m.hs = nil
	m.fencePending = m.fenceRunning // a stopping node fences nobody
	if m.commUp && m.peerAlive {
		m.report(false, "shutdown")
	}

	m.give(All, "shutting down")
	m.progress()
}

// Done reports that a stop has released everything: shutdone may go out.
func (m *Manager) Done() bool {
	if !m.stopping || !m.settled() {
		return false
	}
	for _, g := range m.groups {
		if g.state != Stopped {
			return false
		}
	}
	return true
}

// GroupStarted reports the outcome of a Start action. On failure the runner
// has already stopped what it had started.
func (m *Manager) GroupStarted(now time.Duration, key string, err error) {
	m.now = now
	g := m.byKey[key]
	if g == nil || g.state != Starting {
		return
	}
	if err != nil {
		m.setState(g, Stopped)
		g.failed, g.failedAt = true, now
		m.recordFailure(g, "start failed: "+err.Error())
		m.events = append(m.events, Event{Kind: EvStartFailed, Group: key, Level: Error, Detail: "start failed: " + err.Error()})
		// Hand it to the peer as soon as it can take it (Heartbeat waits 30 s).
		m.pendingStandby |= setOf(g)
	} else {
		g.failed = false
		m.setState(g, Running)
	}
	m.progress()
}

// GroupStopped reports the outcome of a Stop action (after the runner's
// retries). A failed stop leaves the group possibly running: fatal.
func (m *Manager) GroupStopped(now time.Duration, key string, err error) {
	m.now = now
	g := m.byKey[key]
	if g == nil {
		return
	}
	if err != nil {
		g.retake = false
		m.setState(g, StopFailed)
		m.events = append(m.events, Event{Kind: EvStopFailed, Group: key, Level: Error,
			Detail: "stop failed; the group may still run here and must not start elsewhere: " + err.Error()})
		m.progress() // a standby ends now, without this group; reports go out
		return
	}
	m.setState(g, Stopped)
	if g.leaving {
		m.failedHere(g)
	}
	if g.retake {
		g.retake = false
		// Stopped for a peer that died meanwhile: run it again unless the
		// peer, back by now, reported holding its kind.
		if m.commUp && m.stable && !m.fencePending && m.hs == nil && (!m.peerAlive || (m.peerReported && m.peerHold&setOf(g).mirror() == None)) {
			m.take(setOf(g), "it was released for "+m.peer+", which died meanwhile")
		}
	}
	if g.replyIPRequest {
		g.replyIPRequest = false
		m.send("ip-request-resp", msg.FDest, m.peer, "ipaddr", key, "weown", "yes", "ok", "OK")
	}
	m.progress()
}

// StopFailed reports whether any group could not be stopped.
func (m *Manager) StopFailed() bool {
	for _, g := range m.groups {
		if g.state == StopFailed {
			return true
		}
	}
	return false
}

// Tick runs the timers: the start request delay and standby timeouts.
func (m *Manager) Tick(now time.Duration) {
	m.now = now
	if m.dualRecheck && now >= m.dualAt+m.cfg.StandbyTimeout {
		m.dualRecheck = false // progress below resolves and reports again
	}
	if m.startWaiting() && now-m.startingSince >= m.cfg.RequestDelay {
		m.decideStart(true)
	}
	if m.fencePending && !m.fenceRunning && now >= m.fenceAt {
		m.fenceRunning = true
		m.actions = append(m.actions, Action{Kind: Fence, Node: m.peer})
		m.info("", "fencing %s (%s)", m.peer, m.fenceWhy)
	}
	if m.hs != nil && now >= m.hs.deadline {
		if m.hs.initiator && m.hs.phase == phAskSent {
			m.warn("", "no reply to standby request from %s", m.peer)
		} else {
			m.warn("", "standby handshake with %s timed out", m.peer)
		}
		m.hs = nil
		// Tell the peer: if it accepted late, it is waiting for us.
		m.reportPending = true
	}
	m.progress()
}

// startWaiting: a starting node waits for its peer's report (at most
// RequestDelay). Not while a fence of the peer is pending: then the node is
// unstable because it waits for the fence, and its peer's holdings are
// unknown (a peer that returned during a running fence).
func (m *Manager) startWaiting() bool {
	return m.commUp && !m.stable && m.nice() && m.peerAlive && !m.fencePending && !m.stopping
}

// Next is when Tick must next run; a large value when nothing is pending.
func (m *Manager) Next() time.Duration {
	next := time.Duration(1 << 62)
	if m.startWaiting() {
		next = m.startingSince + m.cfg.RequestDelay
	}
	if m.dualRecheck && m.dualAt+m.cfg.StandbyTimeout < next {
		next = m.dualAt + m.cfg.StandbyTimeout
	}
	if m.hs != nil && m.hs.deadline < next {
		next = m.hs.deadline
	}
	if m.fencePending && !m.fenceRunning && m.fenceAt < next {
		next = m.fenceAt
	}
	return next
}

// progress moves multi-step procedures on once the groups they wait for
// have settled.
func (m *Manager) progress() {
	if !m.settled() {
		return
	}
	if m.hs != nil {
		switch m.hs.phase {
		case phReleasing:
			m.hs.phase = phGiven
			m.hs.deadline = m.now + m.cfg.StandbyTimeout
			// A group that failed to stop may still run here: the taker
			// must not start it, so "done" leaves out its kind (the
			// others of that kind stay stopped until this node is fenced).
			set := m.hs.set
			for _, g := range m.groups {
				if g.in(set) && g.state == StopFailed {
					set &^= setOf(g)
				}
			}
			if set != m.hs.set {
				m.events = append(m.events, Event{Level: Error, Detail: fmt.Sprintf(
					"standby: handing over [%s] instead of [%s]: a group failed to stop here", set, m.hs.set)})
			}
			m.send("ask_resources", "rsc_hold", set.String(), "info", "done")
			// The others of the kind kept back run here again, unless
			// the peer holds that kind too (then it keeps them).
			if back := m.hs.set &^ set; m.peerHold&back.mirror() == None {
				m.take(back, "a group of the set failed to stop; the others stay here")
			}
		case phTaking:
			m.send("ask_resources", "rsc_hold", m.hs.set.String(), "info", "done")
			m.hs = nil
			m.report(true, "")
		}
	}
	if m.reportPending && m.stable && m.hs == nil && !m.stopping {
		m.reportPending = false
		m.report(true, "")
	}
	m.resolveDualOwnership()
	if m.reportPending && m.stable && m.hs == nil && !m.stopping && m.settled() {
		m.reportPending = false
		m.report(true, "")
	}
	m.maybeAutoFailback()
	m.maybePendingStandby()
}

// maybePendingStandby hands groups that failed here to the peer once both
// sides are ready for the handshake.
func (m *Manager) maybePendingStandby() {
	if m.pendingStandby == None || !m.peerAlive || !m.peerStable || m.hs != nil || !m.stable || m.stopping || !m.settled() {
		return
	}
	h := m.pendingStandby
	m.pendingStandby = None
	if err := m.standby(m.now, h, MoveFailedStart); err != nil {
		m.pendingStandby = h
		return
	}
	m.info("", "handing [%s] to %s after a failed start", h, m.peer)
}
