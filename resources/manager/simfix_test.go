package manager

import (
	"errors"
	"slices"
	"strconv"
	"testing"
	"time"

	"github.com/hasuite/hasuite/heartbeat/msg"
	"github.com/hasuite/hasuite/resources/haresources"
)

// Regression tests for the faults the whole-cluster simulator
// (heartbeat/node/sim_test.go) found; each names the seed that found it.

var oneEach = []haresources.Group{
	{Key: "198.18.0.100", Node: "node1"},
	{Key: "198.18.0.200", Node: "node2"},
}

type one struct {
	t   *testing.T
	m   *Manager
	now time.Duration
	seq uint64
	out []*msg.Message
	act []Action
}

func newOne(t *testing.T, cfg Config) *one {
	cfg.LocalNode = "node1"
	if cfg.Groups == nil {
		cfg.Groups = oneEach
	}
	if cfg.AutoFailback == "" {
		cfg.AutoFailback = "off"
	}
	return &one{t: t, m: New(cfg, "node2")}
}

func (o *one) collect() {
	out, act, _ := o.m.Ready()
	o.out = append(o.out, out...)
	o.act = append(o.act, act...)
}

// clear forgets what was collected.
func (o *one) clear() { o.collect(); o.out, o.act = nil, nil }

// recv delivers a message from the peer with a fresh seq.
func (o *one) recv(t string, kv ...string) {
	o.seq++
	x := msg.New(t)
	x.Set(msg.FSeq, strconv.FormatUint(o.seq, 16))
	x.Set(msg.FGen, "1")
	for i := 0; i+1 < len(kv); i += 2 {
		x.Set(kv[i], kv[i+1])
	}
	o.now += time.Millisecond
	o.m.Receive(o.now, x)
	o.collect()
}

func (o *one) started(kind ActionKind) []string {
	var keys []string
	for _, a := range o.act {
		if a.Kind == kind {
			keys = append(keys, a.Group)
		}
	}
	return keys
}

func (o *one) sent(t string, kv ...string) *msg.Message {
	for _, x := range o.out {
		if x.Type() != t {
			continue
		}
		ok := true
		for i := 0; i+1 < len(kv); i += 2 {
			if x.Str(kv[i]) != kv[i+1] {
				ok = false
			}
		}
		if ok {
			return x
		}
	}
	return nil
}

// alone brings the manager up alone (it takes everything), then the peer
// joins and reports holding nothing, stable.
func (o *one) alone() {
	o.m.CommUp(o.now, false)
	o.collect()
	for _, a := range o.act {
		if a.Kind == Start {
			o.m.GroupStarted(o.now, a.Group, nil)
		}
	}
	o.m.PeerAlive(o.now)
	o.recv("resource", "rsc_hold", "none", "rtype", "full", "isstable", "1")
	o.clear()
}

// Seed 88: a stop that failed during a standby must not be handed over
// ("done" for the whole set made the taker start a group still running).
func TestStandbyDoneLeavesOutAGroupThatFailedToStop(t *testing.T) {
	o := newOne(t, Config{})
	o.alone()
	if err := o.m.Standby(o.now, All); err != nil {
		t.Fatal(err)
	}
	o.recv("ask_resources", "rsc_hold", "all", "info", "other")
	stops := o.started(Stop)
	if len(stops) != 2 {
		t.Fatalf("stops %v", stops)
	}
	o.m.GroupStopped(o.now, "198.18.0.200", nil)
	o.m.GroupStopped(o.now, "198.18.0.100", errors.New("boom"))
	o.collect()
	if o.sent("ask_resources", "info", "done", "rsc_hold", "foreign") == nil {
		t.Fatalf("want done for [foreign] only (local failed to stop), sent %v", o.out)
	}
	if s := o.started(Start); len(s) != 0 {
		t.Fatalf("started %v: the failed group's kind has no other group", s)
	}
}

// Seed 1651: the other groups of a kind kept back run here again.
func TestStandbyKeepsTheKindOfAGroupThatFailedToStop(t *testing.T) {
	o := newOne(t, Config{Groups: []haresources.Group{{Key: "a", Node: "node1"}, {Key: "b", Node: "node1"}}})
	o.alone()
	if err := o.m.Standby(o.now, All); err != nil {
		t.Fatal(err)
	}
	o.recv("ask_resources", "rsc_hold", "all", "info", "other")
	o.m.GroupStopped(o.now, "b", nil)
	o.m.GroupStopped(o.now, "a", errors.New("boom"))
	o.collect()
	if o.sent("ask_resources", "info", "done", "rsc_hold", "foreign") == nil {
		t.Fatalf("want done without local, sent %v", o.out)
	}
	if s := o.started(Start); len(s) != 1 || s[0] != "b" {
		t.Fatalf("started %v, want b back", s)
	}
}

// Seed 171: the peer is told about groups still being stopped here.
func TestReportCountsGroupsBeingStopped(t *testing.T) {
	o := newOne(t, Config{})
	o.alone()
	o.m.Stop(o.now) // both stops hang
	o.clear()
	o.recv("starting")
	if o.sent("resource", "rsc_hold", "all") == nil {
		t.Fatalf("report while stopping must hold all, sent %v", o.out)
	}
}

// Seed 47: a legacy ip-request for a group being stopped is answered when
// the stop has succeeded, not at once.
func TestIPRequestForAGroupBeingStoppedWaitsForTheStop(t *testing.T) {
	o := newOne(t, Config{AutoFailback: "legacy"})
	o.alone()
	o.m.Stop(o.now)
	o.clear()
	o.recv("ip-request", "ipaddr", "198.18.0.200")
	if o.sent("ip-request-resp") != nil {
		t.Fatal("answered while the group is being stopped")
	}
	o.m.GroupStopped(o.now, "198.18.0.200", nil)
	o.collect()
	if o.sent("ip-request-resp", "ipaddr", "198.18.0.200") == nil {
		t.Fatal("no answer after the stop")
	}
}

// Seed 2655: a late answer to an earlier standby request is not taken for
// the answer to the current one, and a late "done" of another handshake is
// not taken for ours.
func TestLateHandshakeMessagesOfAnotherSetAreIgnored(t *testing.T) {
	o := newOne(t, Config{})
	o.alone()
	if err := o.m.Standby(o.now, Local); err != nil {
		t.Fatal(err)
	}
	o.recv("ask_resources", "rsc_hold", "foreign", "info", "other")
	if s := o.started(Stop); len(s) != 0 {
		t.Fatalf("stopped %v on an answer for another set", s)
	}

	p := newOne(t, Config{})
	p.alone()
	p.recv("ask_resources", "rsc_hold", "local", "info", "me") // the peer's local: our foreign
	p.recv("ask_resources", "rsc_hold", "all", "info", "done")
	if s := p.started(Start); len(s) != 0 {
		t.Fatalf("started %v on a done for another set", s)
	}
}

// Seed 1729: a report recovered late (older seq) does not replace a newer one.
func TestOldReportIsIgnored(t *testing.T) {
	o := newOne(t, Config{})
	o.alone()
	o.recv("resource", "rsc_hold", "none", "rtype", "full", "isstable", "1") // seq n
	o.seq -= 3
	o.recv("resource", "rsc_hold", "all", "rtype", "full", "isstable", "1")
	if o.m.peerHold != None {
		t.Fatalf("peer hold %v after an old report", o.m.peerHold)
	}
}

// Seed 737: a fence that completes during a graceful stop takes nothing.
func TestFenceDoneDuringStopTakesNothing(t *testing.T) {
	o := newOne(t, Config{FenceEnabled: true})
	o.m.CommUp(o.now, false) // fence scheduled
	o.now += time.Second
	o.m.Tick(o.now)
	o.clear()
	o.m.Stop(o.now)
	o.m.FenceDone(o.now, nil)
	o.collect()
	if s := o.started(Start); len(s) != 0 {
		t.Fatalf("started %v while stopping", s)
	}
}

// Seeds 111 and 76: a peer that returns while its fence runs: the request
// delay does not take our groups past it, and a failed fence neither falls
// back to a takeover nor fences the live peer again; we negotiate instead.
func TestPeerReturningDuringARunningFence(t *testing.T) {
	o := newOne(t, Config{FenceEnabled: true, FenceFallback: true, RequestDelay: time.Second})
	o.m.CommUp(o.now, false)
	o.now += time.Second
	o.m.Tick(o.now) // the fence runs
	o.m.PeerAlive(o.now)
	o.clear()
	o.now += time.Minute
	o.m.Tick(o.now)
	o.collect()
	if s := o.started(Start); len(s) != 0 {
		t.Fatalf("request delay took %v while the fence runs", s)
	}
	o.m.FenceDone(o.now, errors.New("device unreachable"))
	o.collect()
	if s := o.started(Start); len(s) != 0 {
		t.Fatalf("fallback took %v from a live peer", s)
	}
	if o.m.fencePending {
		t.Fatal("fence still pending")
	}
	if o.sent("starting") == nil {
		t.Fatal("no negotiation after the cancelled fence")
	}
}

// Seed 273: a fence cancelled because the peer came back is followed by a
// negotiation: nothing was taken while it was pending.
func TestCancelledFenceNegotiates(t *testing.T) {
	o := newOne(t, Config{FenceEnabled: true})
	o.alone() // without fencing at comm-up: holds all
	o.m.cfg.FenceEnabled = true
	o.m.PeerDead(o.now, false)
	o.clear()
	o.m.PeerAlive(o.now) // before the fence (delayed: no priority) ran
	o.collect()
	if o.sent("starting") == nil {
		t.Fatalf("no negotiation after the cancelled fence: %v", o.out)
	}
}

// Seed 122: an overlap that cannot be resolved (a group failed to stop on
// the loser) is reported once, not back and forth forever.
func TestUnresolvableOverlapIsReportedOnce(t *testing.T) {
	o := newOne(t, Config{})
	o.alone()
	for k := 0; k < 5; k++ {
		o.recv("resource", "rsc_hold", "foreign", "rtype", "full", "isstable", "1") // the peer holds our group
	}
	n := 0
	for _, x := range o.out {
		if x.Type() == "resource" {
			n++
		}
	}
	if n != 1 {
		t.Fatalf("%d reports for one overlap", n)
	}
	if a := o.started(Announce); len(a) != 1 || a[0] != "198.18.0.100" {
		t.Fatalf("announces %v, want the kept group once", a)
	}
}

// Seeds 133 and 8622: a peer that restarted before it was seen dead lost
// what it ran. The groups preferred here that it ran are taken back at
// once; its own are left to its start-up negotiation (it may decide on an
// older report of ours, so taking them here too would start them on both
// nodes). Never a fence: its new generation proves the old run ended.
func TestPeerRestartedTakesBackOursOnly(t *testing.T) {
	for _, tc := range []struct {
		name     string
		peerHeld string // what the peer reported before its restart
		want     []string
	}{
		{"it ran its own group", "local", nil},
		{"it ran both", "all", []string{"198.18.0.100"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			o := newOne(t, Config{FenceEnabled: true})
			o.m.CommUp(o.now, true)
			o.recv("resource", "rsc_hold", tc.peerHeld, "rtype", "full", "isstable", "1")
			o.collect()
			for _, a := range o.act {
				if a.Kind == Start {
					o.m.GroupStarted(o.now, a.Group, nil)
				}
			}
			o.clear()
			o.m.PeerRestarted(o.now)
			o.collect()
			if s := o.started(Start); !slices.Equal(s, tc.want) {
				t.Fatalf("started %v, want %v", s, tc.want)
			}
			for _, a := range o.act {
				if a.Kind == Fence {
					t.Fatal("fenced a peer that restarted")
				}
			}
		})
	}
}

// Seed 928: a taker whose answer came after the initiator gave up does not
// wait minutes for a "done" that never comes.
func TestAcceptedStandbyAbandonedOnStableReport(t *testing.T) {
	o := newOne(t, Config{})
	o.alone()
	o.recv("ask_resources", "rsc_hold", "local", "info", "me")
	if o.m.hs == nil {
		t.Fatal("not accepted")
	}
	o.recv("resource", "rsc_hold", "local", "rtype", "full", "isstable", "1") // it kept them: gave up
	if o.m.hs != nil {
		t.Fatal("still in the handshake")
	}
}

// The lost "done" of a standby initiator: the taker takes the set on the
// initiator's stable report that it holds none of it.
func TestAcceptedStandbyTakenOnReportWhenDoneIsLost(t *testing.T) {
	o := newOne(t, Config{})
	o.alone()
	o.m.GroupStopped(o.now, "198.18.0.200", nil) // the peer's group is the peer's
	o.clear()
	o.recv("ask_resources", "rsc_hold", "local", "info", "me") // the peer's local: our foreign
	o.recv("resource", "rsc_hold", "none", "rtype", "full", "isstable", "1")
	if s := o.started(Start); len(s) != 1 || s[0] != "198.18.0.200" {
		t.Fatalf("started %v, want the peer's group", s)
	}
}

// Seed 2306: groups being stopped for a standby when the peer dies are run
// again once stopped (the peer's death took everything else; they ran
// nowhere).
func TestGroupsReleasedForADeadPeerAreTakenBack(t *testing.T) {
	o := newOne(t, Config{})
	o.alone()
	if err := o.m.Standby(o.now, All); err != nil {
		t.Fatal(err)
	}
	o.recv("ask_resources", "rsc_hold", "all", "info", "other")
	o.m.PeerDead(o.now, true)
	o.clear()
	o.m.GroupStopped(o.now, "198.18.0.100", nil)
	o.m.GroupStopped(o.now, "198.18.0.200", nil)
	o.collect()
	if s := o.started(Start); len(s) != 2 {
		t.Fatalf("started %v, want both back", s)
	}
}

// Seed 3782: the request delay does not start our groups while the live
// peer's holdings are unknown (not one report): it asks again.
func TestRequestDelayWithoutAReportAsksAgain(t *testing.T) {
	o := newOne(t, Config{RequestDelay: time.Second})
	o.m.CommUp(o.now, true)
	o.clear()
	o.now += 2 * time.Second
	o.m.Tick(o.now)
	o.collect()
	if s := o.started(Start); len(s) != 0 || o.sent("starting") == nil {
		t.Fatalf("started %v, sent %v", s, o.out)
	}
}

// Seeds 2661 and 4068: an overlap reported again by the peer within
// StandbyTimeout of our answer is answered again when it has passed (the
// first overlap came from a stale hold, or the peer was not listening).
func TestOverlapReportedAgainAfterAWhile(t *testing.T) {
	o := newOne(t, Config{StandbyTimeout: time.Second})
	o.alone()
	o.recv("resource", "rsc_hold", "foreign", "rtype", "full", "isstable", "1")
	o.clear()
	o.recv("resource", "rsc_hold", "foreign", "rtype", "full", "isstable", "1")
	if o.sent("resource") != nil {
		t.Fatal("answered twice at once")
	}
	if o.m.Next() > o.now+time.Second {
		t.Fatalf("no recheck scheduled: next %v", o.m.Next())
	}
	o.now = o.m.Next()
	o.m.Tick(o.now)
	o.collect()
	if o.sent("resource") == nil || len(o.started(Announce)) != 1 {
		t.Fatalf("not answered again: %v %v", o.out, o.act)
	}
}

// Seed 1764: a standby request recovered after the initiator reported
// itself stable (it gave the request up) is not accepted: the taker would
// wait minutes for a "done" that never comes.
func TestOldStandbyRequestIgnored(t *testing.T) {
	o := newOne(t, Config{})
	o.alone()
	o.seq += 5
	o.recv("resource", "rsc_hold", "none", "rtype", "full", "isstable", "1")
	o.seq -= 3
	o.recv("ask_resources", "rsc_hold", "local", "info", "me")
	if o.m.hs != nil || o.sent("ask_resources") != nil {
		t.Fatalf("accepted an old request: %v", o.out)
	}
}

// Seed 1762: when the loser of an overlap has released, the keeper
// announces again: the loser may have announced after the keeper did.
func TestKeeperAnnouncesWhenTheOverlapEnds(t *testing.T) {
	o := newOne(t, Config{})
	o.alone()
	o.recv("resource", "rsc_hold", "foreign", "rtype", "full", "isstable", "1")
	o.clear()
	o.recv("resource", "rsc_hold", "none", "rtype", "full", "isstable", "1")
	if a := o.started(Announce); len(a) != 1 || a[0] != "198.18.0.100" {
		t.Fatalf("announces %v, want the kept group", a)
	}
}
