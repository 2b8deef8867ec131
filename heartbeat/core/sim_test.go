package core

import (
	"container/heap"
	"fmt"
	"math/rand"
	"strconv"
	"testing"
	"time"

	"github.com/hasuite/hasuite/heartbeat/auth"
	"github.com/hasuite/hasuite/heartbeat/msg"
)

// The simulator runs several cores over virtual links with a virtual clock.
// Links lose, delay, duplicate and reorder packets and can be cut; nodes
// crash, stop gracefully and restart with a new generation; an attacker
// replays captured packets; in the stall scenarios a node is not scheduled
// for a while (no Tick, packets queue in its sockets) and on resume gets
// every queued packet with its arrival time before its next Tick, as the
// daemon does. After every step the invariants are checked.

type simLink struct {
	loss, dup     float64
	minDelay, jit time.Duration
	cut           bool
}

type delivery struct {
	at     time.Duration
	order  int
	to     int
	link   int
	m      *msg.Message
	replay bool
}

type queue []*delivery

func (q queue) Len() int { return len(q) }
func (q queue) Less(i, j int) bool {
	if q[i].at != q[j].at {
		return q[i].at < q[j].at
	}
	return q[i].order < q[j].order
}
func (q queue) Swap(i, j int) { q[i], q[j] = q[j], q[i] }
func (q *queue) Push(x any)   { *q = append(*q, x.(*delivery)) }
func (q *queue) Pop() any {
	old := *q
	d := old[len(old)-1]
	*q = old[:len(old)-1]
	return d
}

type simNode struct {
	name    string
	core    *Core
	running bool
	gen     uint64
	// lastFresh[j]: when this node last received a status from node j that
	// was newer (gen, seq) than any before: the only thing that may keep j alive.
	lastFresh []time.Duration
	maxSeen   []genSeq
	// delivered holds messages this node received, for the replay attacker.
	delivered []*msg.Message
	// seen: what this incarnation received; saved: the marks on "disk",
	// written as the daemon does (peer death, stop, every markEvery);
	// bootMarks: what this incarnation started from.
	seen      map[string]bool
	saved     map[string]Mark
	bootMarks map[string]Mark
	lastSave  time.Duration
	// stalledUntil: the node is not scheduled before then; what arrives
	// meanwhile waits in held, in arrival order.
	stalledUntil time.Duration
	held         []*delivery
	// sleptFor: the deadline the stalled node's loop slept for; graceUntil:
	// the end of the grace Stalled gave after its late wake-up.
	sleptFor, graceUntil time.Duration
}

func (nd *simNode) stalled(now time.Duration) bool { return nd.running && now < nd.stalledUntil }

var debugSim = false

// markEvery is how often the daemon persists peer marks.
const markEvery = 5 * time.Second

type genSeq struct{ gen, seq uint64 }

type sim struct {
	t        *testing.T
	seed     int64
	rng      *rand.Rand
	now      time.Duration
	nodes    []*simNode
	links    []*simLink
	q        queue
	order    int
	cfg      Config
	names    []string
	trace    []string
	replays  int
	stalls   int
	codec    func(*msg.Message) *msg.Message
	violated bool
}

func newSim(t *testing.T, seed int64, n int, nlinks int, cfg Config) *sim {
	s := &sim{t: t, seed: seed, rng: rand.New(rand.NewSource(seed)), cfg: cfg}
	for i := 0; i < n; i++ {
		s.names = append(s.names, "node"+strconv.Itoa(i+1))
	}
	for i := 0; i < nlinks; i++ {
		s.links = append(s.links, &simLink{})
	}
	for i := range s.names {
		s.nodes = append(s.nodes, &simNode{name: s.names[i], gen: uint64(100 + i*1000)})
	}
	return s
}

func (s *sim) logf(format string, args ...any) {
	s.trace = append(s.trace, fmt.Sprintf("%9v ", s.now)+fmt.Sprintf(format, args...))
	if len(s.trace) > 400 {
		s.trace = s.trace[len(s.trace)-300:]
	}
}

func (s *sim) fail(format string, args ...any) {
	if s.violated {
		return
	}
	s.violated = true
	s.t.Errorf("seed %d at %v: %s\n--- last events ---\n%s", s.seed, s.now, fmt.Sprintf(format, args...), joinLines(s.trace))
}

func joinLines(l []string) string {
	out := ""
	for _, x := range l {
		out += x + "\n"
	}
	return out
}

func (s *sim) linkNames() []string {
	var out []string
	for i := range s.links {
		out = append(out, "eth"+strconv.Itoa(i))
	}
	return out
}

func (s *sim) boot(i int) {
	nd := s.nodes[i]
	nd.gen++
	cfg := s.cfg
	cfg.LocalNode = nd.name
	cfg.Nodes = s.names
	cfg.Links = s.linkNames()
	cfg.UUID = []byte(fmt.Sprintf("uuid-of-%-8s", nd.name))[:16]
	cfg.Generation = nd.gen
	cfg.Seed = s.rng.Int63()
	cfg.PeerMarks = nd.saved
	nd.bootMarks = nd.saved
	nd.seen = map[string]bool{}
	nd.lastSave = s.now
	c, err := New(cfg)
	if err != nil {
		s.t.Fatalf("New: %v", err)
	}
	nd.core = c
	nd.running = true
	nd.stalledUntil, nd.held, nd.graceUntil = 0, nil, 0
	nd.lastFresh = make([]time.Duration, len(s.nodes))
	nd.maxSeen = make([]genSeq, len(s.nodes))
	for j := range nd.lastFresh {
		nd.lastFresh[j] = s.now
	}
	s.logf("%s boots gen %d", nd.name, nd.gen)
	c.Start(s.tm())
	s.drain(i)
}

func (s *sim) tm() Time { return Time{Mono: s.now, Wall: 1_700_000_000 + int64(s.now/time.Second)} }

func (s *sim) crash(i int) {
	s.logf("%s crashes", s.nodes[i].name)
	s.nodes[i].running = false
}

func (s *sim) index(name string) int {
	for i, n := range s.names {
		if n == name {
			return i
		}
	}
	return -1
}

// drain sends node i's output on every link and checks its events.
func (s *sim) drain(i int) {
	nd := s.nodes[i]
	out, events := nd.core.Ready()
	for _, e := range events {
		s.checkEvent(i, e)
	}
	for _, m := range out {
		for li, l := range s.links {
			if l.cut || s.rng.Float64() < l.loss {
				continue
			}
			copies := 1
			if s.rng.Float64() < l.dup {
				copies = 2
			}
			for c := 0; c < copies; c++ {
				for j := range s.nodes {
					if j == i {
						continue
					}
					delay := l.minDelay
					if l.jit > 0 {
						delay += time.Duration(s.rng.Int63n(int64(l.jit)))
					}
					s.order++
					heap.Push(&s.q, &delivery{at: s.now + delay, order: s.order, to: j, link: li, m: m.Clone()})
				}
			}
		}
	}
}

func (s *sim) checkEvent(i int, e Event) {
	nd := s.nodes[i]
	if e.Kind == EvNodeState || e.Kind == EvPartitionReturn || e.Kind == EvPeerShutdown {
		s.logf("%s: %v %s %s->%s %s", nd.name, e.Kind, e.Node, e.From, e.To, e.Detail)
	}
	if e.Kind != EvNodeState || e.Node == nd.name {
		return
	}
	if e.To == Dead {
		nd.saved = nd.core.Marks()
	}
	j := s.index(e.Node)
	if e.To == Dead && e.Cause == CauseTimeout {
		// Invariant 1: no peer is declared dead while its heartbeats are
		// delivered within deadtime.
		if silence := s.now - nd.lastFresh[j]; silence < s.cfg.Deadtime {
			s.fail("%s declared %s dead after only %v since its last delivered heartbeat", nd.name, e.Node, silence)
		}
	}
}

func (s *sim) deliver(d *delivery) {
	nd := s.nodes[d.to]
	if !nd.running {
		return
	}
	if nd.stalled(s.now) {
		nd.held = append(nd.held, d)
		return
	}
	m := d.m
	if s.codec != nil {
		m = s.codec(m)
	}
	src := s.index(m.Str(msg.FSrc))
	before, _ := nd.core.NodeState(s.names[src])
	// A node that has not yet learnt the sender's generation (it just
	// started) cannot tell an old packet from a new one; Heartbeat cannot
	// either. Such a first contact counts as a delivery for the timing
	// invariants; it must still never revive a node declared dead.
	pp := nd.core.byName[s.names[src]]
	statusBefore := pp.lastStatus
	if !d.replay && m.Type() == "status" {
		gen, _ := strconv.ParseUint(m.Str(msg.FGen), 16, 64)
		seq, _ := strconv.ParseUint(m.Str(msg.FSeq), 16, 64)
		ms := nd.maxSeen[src]
		if gen > ms.gen || (gen == ms.gen && seq > ms.seq) {
			nd.maxSeen[src] = genSeq{gen, seq}
			nd.lastFresh[src] = d.at
		}
	}
	if !d.replay && len(nd.delivered) < 5000 {
		nd.delivered = append(nd.delivered, m.Clone())
	}
	key := m.Str(msg.FSrc) + "/" + m.Str(msg.FGen) + "/" + m.Str(msg.FSeq)
	gen, _ := strconv.ParseUint(m.Str(msg.FGen), 16, 64)
	seq, _ := strconv.ParseUint(m.Str(msg.FSeq), 16, 64)
	bm := nd.bootMarks[m.Str(msg.FSrc)]
	// A replay is "old" if this incarnation saw it, or it is not newer than
	// the mark this incarnation booted from. Those must never revive a node.
	old := nd.seen[key] || gen < bm.Gen || (gen == bm.Gen && seq <= bm.Seq)
	if !d.replay {
		nd.seen[key] = true
	}
	if debugSim && m.Type() == "status" {
		defer func() {
			s.logf("%s <- %s st=%s gen=%s seq=%s replay=%v link=%d last=%v lastSeq=%x", nd.name, m.Str("src"), m.Str("st"), m.Str("hg"), m.Str("seq"), d.replay, d.link, pp.lastStatus, pp.lastSeq)
		}()
	}
	// Receive gets the arrival time (s.now, except for what waited
	// during a stall).
	at := s.tm()
	at.Mono = d.at
	nd.core.Receive(at, "eth"+strconv.Itoa(d.link), m)
	if d.replay && pp.lastStatus != statusBefore {
		if old {
			s.fail("old replayed status refreshed %s at %s", s.names[src], nd.name)
		}
		nd.lastFresh[src] = d.at
	}
	after, _ := nd.core.NodeState(s.names[src])
	if d.replay && old && before == Dead && after != Dead {
		s.fail("replayed %s revived %s at %s", m.Type(), s.names[src], nd.name)
	}
	s.drain(d.to)
}

// replay re-delivers a message node i already received, at a random link.
func (s *sim) replay(i int) {
	nd := s.nodes[i]
	if len(nd.delivered) == 0 || !nd.running {
		return
	}
	m := nd.delivered[s.rng.Intn(len(nd.delivered))]
	s.replays++
	s.order++
	heap.Push(&s.q, &delivery{at: s.now, order: s.order, to: i, link: s.rng.Intn(len(s.links)), m: m.Clone(), replay: true})
}

// stall stops scheduling node i for d.
func (s *sim) stall(i int, d time.Duration) {
	nd := s.nodes[i]
	if !nd.running || nd.stalled(s.now) {
		return
	}
	s.logf("%s stalls for %v", nd.name, d)
	s.stalls++
	nd.stalledUntil = s.now + d
	nd.sleptFor = nd.core.Next()
}

// resume hands a node whose stall ended everything that arrived during
// it, link by link (the daemon drains one socket after the other), each
// with its arrival time, then, as the daemon does when its loop woke more
// than a keepalive after the deadline it slept for, reports the stall;
// its Tick follows in run.
func (s *sim) resume(nd *simNode) {
	held := nd.held
	nd.held = nil
	s.logf("%s resumes with %d queued packets", nd.name, len(held))
	for li := range s.links {
		for _, d := range held {
			if d.link == li {
				s.deliver(d)
			}
		}
	}
	if nd.running && s.now-nd.sleptFor > s.cfg.Keepalive {
		nd.core.Stalled(nd.sleptFor, s.now)
		nd.graceUntil = s.now + s.cfg.Keepalive
	}
}

// run advances the simulation to until, ticking every core exactly at its
// own deadline (a stalled core at the end of its stall).
func (s *sim) run(until time.Duration) {
	for !s.violated {
		next := until
		for _, nd := range s.nodes {
			if nd.stalled(s.now) {
				if nd.stalledUntil < next {
					next = nd.stalledUntil
				}
				continue
			}
			if nd.running {
				if n := nd.core.Next(); n < next {
					next = n
				}
			}
		}
		if len(s.q) > 0 && s.q[0].at < next {
			next = s.q[0].at
		}
		if next > until {
			break
		}
		if next > s.now {
			s.now = next
		}
		for _, nd := range s.nodes {
			if nd.running && nd.stalledUntil != 0 && !nd.stalled(s.now) {
				nd.stalledUntil = 0
				s.resume(nd)
			}
		}
		for i, nd := range s.nodes {
			if nd.running && !nd.stalled(s.now) && nd.core.Next() <= s.now {
				nd.core.Tick(s.tm())
				s.drain(i)
				// Invariant: after a Tick nothing is due any more, or the
				// daemon's loop would spin.
				if n := nd.core.Next(); n <= s.now {
					s.fail("%s: Next() = %v is not after the Tick at %v", nd.name, n, s.now)
				}
			}
		}
		for len(s.q) > 0 && s.q[0].at <= s.now {
			s.deliver(heap.Pop(&s.q).(*delivery))
		}
		s.checkTimely()
		for _, nd := range s.nodes {
			if nd.running && s.now-nd.lastSave >= markEvery {
				nd.saved, nd.lastSave = nd.core.Marks(), s.now
			}
		}
		if s.now >= until {
			break
		}
	}
	s.now = until
}

// checkTimely is invariant 2: a peer whose heartbeats stopped arriving is
// declared dead no later than its timeout plus one tick (or, for a node
// that woke late from a stall, at the end of the grace Stalled gives).
func (s *sim) checkTimely() {
	const tick = time.Millisecond
	for _, nd := range s.nodes {
		if !nd.running || nd.stalled(s.now) || s.now < nd.graceUntil {
			continue
		}
		snap := nd.core.Snapshot(s.tm())
		for _, ns := range snap.Nodes {
			if ns.Local || ns.State == "dead" {
				continue
			}
			j := s.index(ns.Name)
			if silence := s.now - nd.lastFresh[j]; silence > ns.Deadtime+tick {
				s.fail("%s still sees %s %s after %v of silence (timeout %v, next tick %v, commUp %v)", nd.name, ns.Name, ns.State, silence, ns.Deadtime, nd.core.Next(), snap.CommUp)
			}
		}
	}
}

// converged checks that every running node sees every other running node
// active: the liveness property after a fault-free period.
func (s *sim) converged() {
	for _, nd := range s.nodes {
		if !nd.running {
			continue
		}
		if st := nd.core.State(); st != Active {
			s.fail("%s is %v after a calm period", nd.name, st)
		}
		for j, o := range s.nodes {
			if o == nd {
				continue
			}
			st, _ := nd.core.NodeState(s.names[j])
			if o.running && !o.core.stopping && st != Active {
				s.fail("%s sees running %s as %v after a calm period", nd.name, o.name, st)
			}
			if !o.running && st != Dead {
				s.fail("%s sees crashed %s as %v after a calm period", nd.name, o.name, st)
			}
		}
	}
}

func (s *sim) calm() {
	for _, l := range s.links {
		*l = simLink{minDelay: time.Millisecond, jit: time.Millisecond}
	}
}

func simConfig(rng *rand.Rand) Config {
	ka := time.Duration(10+rng.Intn(190)) * time.Millisecond
	dead := ka * time.Duration(3+rng.Intn(8))
	return Config{
		Keepalive: ka, Deadtime: dead, Initdead: dead * time.Duration(1+rng.Intn(3)),
		MaxRexmitDelay: time.Duration(60+rng.Intn(200)) * time.Millisecond,
		FlowControl:    rng.Intn(5) != 0, Hopfudge: 1,
	}
}

// scenario is one seeded run: random faults for a while, then calm.
func scenario(t *testing.T, seed int64, codec func(*msg.Message) *msg.Message) *sim {
	return scenarioWith(t, seed, codec, false)
}

// scenarioWith is scenario, with stalls of a node among the faults when
// stalls is set (without, the random draws are those of scenario).
func scenarioWith(t *testing.T, seed int64, codec func(*msg.Message) *msg.Message, stalls bool) *sim {
	rng := rand.New(rand.NewSource(seed))
	n := 2
	if rng.Intn(4) == 0 {
		n = 3
	}
	s := newSim(t, seed, n, 1+rng.Intn(3), simConfig(rng))
	s.codec = codec
	for i := range s.nodes {
		s.run(s.now + time.Duration(rng.Intn(500))*time.Millisecond)
		s.boot(i)
	}
	ka := s.cfg.Keepalive
	kinds := 12
	if stalls {
		kinds = 16
	}
	for step := 0; step < 40 && !s.violated; step++ {
		switch r := s.rng.Intn(kinds); {
		case r >= 12: // a node is not scheduled for up to three deadtimes
			i := s.rng.Intn(len(s.nodes))
			s.stall(i, time.Duration(1+s.rng.Int63n(int64(3*s.cfg.Deadtime))))
		case r < 3: // change one link's quality
			l := s.links[s.rng.Intn(len(s.links))]
			l.loss = []float64{0, 0.05, 0.3, 0.6, 1}[s.rng.Intn(5)]
			l.dup = []float64{0, 0.1, 0.5}[s.rng.Intn(3)]
			l.minDelay = time.Duration(s.rng.Int63n(int64(ka)))
			l.jit = time.Duration(s.rng.Int63n(int64(ka) + 1))
		case r < 5: // cut or heal a link
			l := s.links[s.rng.Intn(len(s.links))]
			l.cut = !l.cut
		case r < 6: // crash or reboot
			i := s.rng.Intn(len(s.nodes))
			if s.nodes[i].running {
				s.crash(i)
			} else {
				s.boot(i)
			}
		case r < 7: // graceful stop, later reboot
			i := s.rng.Intn(len(s.nodes))
			if nd := s.nodes[i]; nd.running && !nd.core.stopping {
				s.logf("%s stops gracefully", nd.name)
				nd.core.Stop(s.tm())
				nd.saved = nd.core.Marks()
				s.drain(i)
			}
		default: // replay attack
			for k := 0; k < 5; k++ {
				s.replay(s.rng.Intn(len(s.nodes)))
			}
		}
		s.run(s.now + time.Duration(1+s.rng.Intn(20))*ka)
		// Stopped nodes that finished announcing are gone.
		for i, nd := range s.nodes {
			if nd.running && nd.core.Done() {
				s.crash(i)
			}
		}
	}
	// Calm: every node up, perfect links, then everybody must be active.
	s.calm()
	for _, nd := range s.nodes {
		if nd.stalled(s.now) {
			s.run(nd.stalledUntil)
		}
	}
	for i, nd := range s.nodes {
		if !nd.running {
			s.boot(i)
		}
	}
	s.run(s.now + 2*s.cfg.Initdead + 20*s.cfg.Keepalive + 2*time.Second)
	s.converged()
	return s
}

func TestSimulator(t *testing.T) {
	seeds := 2000
	if testing.Short() {
		seeds = 300
	}
	replays := 0
	for seed := int64(1); seed <= int64(seeds); seed++ {
		s := scenario(t, seed, nil)
		replays += s.replays
		if t.Failed() {
			return
		}
	}
	if replays == 0 {
		t.Fatal("the attacker never replayed anything: the scenario generator is broken")
	}
}

// TestSimulatorStalls runs scenarios in which nodes also stall: a stalled
// node's peers keep sending, and on resume it must neither declare dead a
// peer whose heartbeats arrived during the stall (invariant 1: the arrival
// times count, not the resume) nor keep alive one that fell silent during
// it (invariant 2, checked from the resume on).
func TestSimulatorStalls(t *testing.T) {
	seeds := 500
	if testing.Short() {
		seeds = 100
	}
	stalls := 0
	for seed := int64(20_001); seed <= int64(20_000+seeds) && !t.Failed(); seed++ {
		stalls += scenarioWith(t, seed, nil, true).stalls
	}
	if stalls == 0 {
		t.Fatal("no node ever stalled: the scenario generator is broken")
	}
}

// TestSimulatorPeerDeathTiming checks detection stays within deadtime plus a
// tick when a peer is crashed with perfect links (no loss).
func TestSimulatorCrashDetectedAtDeadtime(t *testing.T) {
	for seed := int64(1); seed <= 200; seed++ {
		rng := rand.New(rand.NewSource(seed))
		cfg := simConfig(rng)
		s := newSim(t, seed, 2, 2, cfg)
		s.calm()
		s.boot(0)
		s.boot(1)
		s.run(cfg.Initdead + 10*cfg.Keepalive)
		s.converged()
		crashAt := s.now
		s.crash(1)
		var diedAt time.Duration
		for s.now < crashAt+2*cfg.Deadtime && diedAt == 0 {
			s.run(s.now + time.Millisecond)
			if st, _ := s.nodes[0].core.NodeState("node2"); st == Dead {
				diedAt = s.now
			}
		}
		if diedAt == 0 {
			t.Fatalf("seed %d: crashed peer never declared dead", seed)
		}
		// Links deliver within 2ms; the last heartbeat may still be in flight
		// at the crash.
		if d := diedAt - s.nodes[0].lastFresh[1]; d > cfg.Deadtime+time.Millisecond {
			t.Fatalf("seed %d: declared dead %v after the last heartbeat arrived, deadtime %v", seed, d, cfg.Deadtime)
		}
		if d := diedAt - crashAt; d > cfg.Deadtime+3*time.Millisecond {
			t.Fatalf("seed %d: declared dead %v after the crash, deadtime %v", seed, d, cfg.Deadtime)
		}
	}
}

// TestSimulatorOverTheWire runs scenarios with every packet encoded,
// signed, decoded and verified by the real codec.
func TestSimulatorOverTheWire(t *testing.T) {
	kr, err := auth.NewKeyring(1, auth.Key{Index: 1, Method: auth.SHA256, Secret: []byte("sim")})
	if err != nil {
		t.Fatal(err)
	}
	codec := func(m *msg.Message) *msg.Message {
		out, err := msg.Decode(msg.EncodeNetstring(m, kr, true), kr)
		if err != nil {
			t.Fatalf("codec: %v for %v", err, m)
		}
		return out
	}
	seeds := 200
	if testing.Short() {
		seeds = 20
	}
	for seed := int64(10_001); seed <= int64(10_000+seeds) && !t.Failed(); seed++ {
		scenario(t, seed, codec)
	}
}
