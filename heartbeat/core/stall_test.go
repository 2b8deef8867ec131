package core

import (
	"testing"
	"time"

	"github.com/hasuite/hasuite/heartbeat/msg"
)

// A stall of the local node: it is not scheduled (no Tick, nothing read)
// while the peer's heartbeats arrive and queue in its sockets. On resume
// the daemon hands the core every queued message with its arrival time,
// then ticks.

// recvAt hands m to the core as having arrived at "at".
func (h *harness) recvAt(at time.Duration, link string, m *msg.Message) {
	h.t.Helper()
	tm := h.tm()
	tm.Mono = at
	h.c.Receive(tm, link, m)
	h.drain()
}

func (h *harness) deaths() []Event {
	var out []Event
	for _, e := range h.events {
		if e.Kind == EvNodeState && e.Node == "node2" && e.To == Dead {
			out = append(out, e)
		}
	}
	return out
}

// activePeer brings node2 to active with heartbeats every keepalive until
// the harness's clock reaches until.
func (h *harness) activePeer(until time.Duration) {
	for h.now < until {
		h.recv("eth0", h.status("active"))
		h.advance(100 * time.Millisecond)
	}
	if h.state() != Active {
		h.t.Fatalf("peer is %v before the stall", h.state())
	}
}

func TestStallQueuedHeartbeatsWithArrivalTimesKeepThePeerAlive(t *testing.T) {
	h := newHarness(t, nil)
	h.activePeer(time.Second)
	stallAt := h.now
	// Stalled for 3 deadtimes; node2 sends every keepalive all along, on
	// both links.
	var queued []time.Duration
	var msgs []*msg.Message
	for at := stallAt + 100*time.Millisecond; at <= stallAt+1500*time.Millisecond; at += 100 * time.Millisecond {
		queued = append(queued, at)
		msgs = append(msgs, h.status("active"))
	}
	h.now = stallAt + 1500*time.Millisecond + 3*time.Millisecond // the loop wakes
	// The daemon drains eth0, then eth1 (the copies arrived 1 ms later).
	for i, m := range msgs {
		h.recvAt(queued[i], "eth0", m)
	}
	for i, m := range msgs {
		h.recvAt(queued[i]+time.Millisecond, "eth1", m.Clone())
	}
	h.c.Tick(h.tm())
	h.drain()
	if d := h.deaths(); len(d) > 0 || h.state() != Active {
		t.Fatalf("peer declared dead after a stall of ours although its heartbeats arrived in time: %+v, state %v", d, h.state())
	}
	for _, e := range h.events {
		if e.Kind == EvLinkState && e.LinkTo == LinkDead {
			t.Fatalf("link declared dead after the stall: %+v", e)
		}
	}
	// The last arrival counts: silent from there, the peer dies at
	// deadtime after it, not after the resume.
	last := queued[len(queued)-1] + time.Millisecond
	h.advance(last + 500*time.Millisecond - h.now)
	d := h.deaths()
	if len(d) != 1 || d[0].Interval != 500*time.Millisecond {
		t.Fatalf("deaths after the last queued heartbeat: %+v, want one after exactly 500ms of silence", d)
	}
}

func TestStallPeerSilentDuringTheStallIsDeadOnceTheQueueIsRead(t *testing.T) {
	h := newHarness(t, nil)
	h.activePeer(time.Second)
	stallAt := h.now
	// node2 sends twice more, then crashes; we resume after 3 deadtimes.
	a1, a2 := stallAt+100*time.Millisecond, stallAt+200*time.Millisecond
	m1, m2 := h.status("active"), h.status("active")
	h.now = stallAt + 1500*time.Millisecond
	h.recvAt(a1, "eth0", m1)
	h.recvAt(a2, "eth0", m2)
	if len(h.deaths()) > 0 {
		t.Fatal("declared dead while reading the queue")
	}
	h.c.Tick(h.tm())
	h.drain()
	d := h.deaths()
	if len(d) != 1 || d[0].Interval != h.now-a2 {
		t.Fatalf("deaths on resume: %+v, want one with the silence since the last arrival (%v)", d, h.now-a2)
	}
	if h.hasEvent(EvPartitionReturn) {
		t.Fatal("queued heartbeats taken for a return after partition")
	}
}

// A status that arrived earlier than the newest one seen (a slower link
// read after a faster one) does not move the peer's last status back.
func TestEarlierArrivalReadLaterDoesNotAgeThePeer(t *testing.T) {
	h := newHarness(t, nil)
	h.activePeer(time.Second)
	base := h.now
	late := h.status("active") // seq n: arrived on eth1 at base+10ms
	newer := h.status("active")
	h.now = base + 50*time.Millisecond
	h.recvAt(base+40*time.Millisecond, "eth0", newer) // seq n+1 first: n is a gap
	h.recvAt(base+10*time.Millisecond, "eth1", late)  // fills the gap, older arrival
	if got := h.c.byName["node2"].lastStatus; got != base+40*time.Millisecond {
		t.Fatalf("last status at %v, want the newest arrival %v", got, base+40*time.Millisecond)
	}
	if l := h.c.byName["node2"].links["eth1"]; l == nil || l.lastHeard != base+10*time.Millisecond {
		t.Fatalf("eth1 last heard %+v, want its own arrival", l)
	}
	h.recvAt(base+5*time.Millisecond, "eth1", newer.Clone()) // a copy, earlier than eth1's last
	if l := h.c.byName["node2"].links["eth1"]; l.lastHeard != base+10*time.Millisecond {
		t.Fatalf("eth1 last heard moved back to %v", l.lastHeard)
	}
}

// TickUpTo sends on time but judges silence only up to the horizon: what
// arrived after it has not been read yet.
func TestTickUpToJudgesSilenceAtTheHorizon(t *testing.T) {
	h := newHarness(t, nil)
	h.activePeer(time.Second)
	last := h.c.byName["node2"].lastStatus
	sent := len(h.sent("status"))
	h.now = last + 800*time.Millisecond // past deadtime (500ms) since the last status
	horizon := last + 300*time.Millisecond
	h.c.TickUpTo(h.tm(), horizon)
	h.drain()
	if len(h.deaths()) > 0 {
		t.Fatal("declared dead beyond the horizon")
	}
	if len(h.sent("status")) == sent {
		t.Fatal("no heartbeat sent by TickUpTo")
	}
	if n := h.c.Next(); n > h.now {
		t.Fatalf("Next() = %v after a tick with an overdue peer deadline (now %v): the daemon would not come back to judge it", n, h.now)
	}
	// The rest of the queue holds a status that arrived at +600ms.
	h.recvAt(last+600*time.Millisecond, "eth0", h.status("active"))
	h.c.Tick(h.tm())
	h.drain()
	if len(h.deaths()) > 0 || h.state() != Active {
		t.Fatalf("peer dead after the rest of the queue was read: %+v", h.deaths())
	}
	// And with nothing more in the queue, the horizon reaching the
	// deadline is a death.
	h.now = last + 1200*time.Millisecond
	h.c.TickUpTo(h.tm(), last+1100*time.Millisecond)
	h.drain()
	if d := h.deaths(); len(d) != 1 || d[0].Interval != 500*time.Millisecond {
		t.Fatalf("deaths at the horizon: %+v, want one after 500ms of silence", d)
	}
}

// A pause of the whole machine: nothing queued, since the peer was paused
// too. A peer whose timeout ran out during our stall gets one keepalive
// after the wake-up to be heard.
func TestStalledGivesThePeerAKeepaliveAfterTheWakeUp(t *testing.T) {
	for _, heard := range []bool{true, false} {
		h := newHarness(t, nil)
		h.activePeer(time.Second)
		last := h.c.byName["node2"].lastStatus
		from := h.c.Next() // the deadline the loop slept for: our next heartbeat
		if from >= last+500*time.Millisecond {
			t.Fatalf("test set-up: next deadline %v is not before the peer's %v", from, last+500*time.Millisecond)
		}
		woke := last + 1500*time.Millisecond
		h.now = woke
		h.c.Stalled(from, woke)
		h.c.Tick(h.tm())
		h.drain()
		if len(h.deaths()) > 0 {
			t.Fatalf("peer declared dead on the wake-up after a pause of the whole machine: %+v", h.deaths())
		}
		for _, e := range h.events {
			if e.Kind == EvLinkState && e.LinkTo == LinkDead {
				t.Fatalf("link declared dead on the wake-up: %+v", e)
			}
		}
		if len(h.sent("status")) == 0 {
			t.Fatal("no heartbeat sent on the wake-up")
		}
		if n := h.c.Next(); n != woke+100*time.Millisecond {
			t.Fatalf("Next() = %v, want the end of the grace %v", n, woke+100*time.Millisecond)
		}
		if heard {
			h.now = woke + 3*time.Millisecond
			h.recv("eth0", h.status("active"))
			h.advance(400 * time.Millisecond)
			if len(h.deaths()) > 0 || h.state() != Active {
				t.Fatalf("peer heard within the grace: %+v, %v", h.deaths(), h.state())
			}
			continue
		}
		h.advance(100 * time.Millisecond)
		d := h.deaths()
		if len(d) != 1 || d[0].Interval != 1600*time.Millisecond {
			t.Fatalf("silent peer after the grace: %+v, want dead after 1.6s of silence", d)
		}
	}
}

// A timeout that ran out before the stall began (it was the deadline the
// loop slept for) gets no grace.
func TestStalledGivesNoGraceToATimeoutDueBeforeTheStall(t *testing.T) {
	h := newHarness(t, nil)
	h.activePeer(time.Second)
	deadline := h.c.byName["node2"].lastStatus + 500*time.Millisecond
	h.advance(deadline - 10*time.Millisecond - h.now)
	if len(h.deaths()) > 0 {
		t.Fatal("dead before its deadline")
	}
	// Heartbeats of ours go out meanwhile; the loop then sleeps for the
	// peer's deadline and wakes 300 ms late.
	woke := deadline + 300*time.Millisecond
	h.now = woke
	h.c.Stalled(deadline, woke)
	h.c.Tick(h.tm())
	h.drain()
	if d := h.deaths(); len(d) != 1 {
		t.Fatalf("deaths: %+v, want the peer dead at once", d)
	}
}
