package core

import (
	"math/rand"
	"strconv"
	"strings"
	"time"

	"github.com/hasuite/hasuite/heartbeat/msg"
)

const (
	// historySize is how many sent sequenced messages are kept for
	// retransmission (Heartbeat's MAXMSGHIST).
	historySize = 500
	// maxRexmitPerRequest bounds the messages resent for one request.
	maxRexmitPerRequest = 50
	// maxMissing bounds the gaps tracked per peer.
	maxMissing = 500
	// gapReset: a jump larger than this resets the sequence state
	// ("lost a lot of packets"), as Heartbeat does.
	gapReset = 250
	// recentDup: a duplicate this close to the newest seq still proves the
	// link it came on works (the same message over another medium); older
	// duplicates may be replays and refresh nothing.
	recentDup = 64
	// shutdoneSends is how often the shutdone message goes out; receivers
	// drop the copies as duplicates, so this only guards against loss.
	shutdoneSends = 3
	// maxAdvertisedDeadtime caps a peer's "dt" so a hostile or broken
	// value cannot keep a dead peer alive forever.
	maxAdvertisedDeadtime = time.Hour
)

// Core is the membership state machine of one node. It is not safe for
// concurrent use: one goroutine (the daemon loop) owns it.
type Core struct {
	cfg Config
	rng *rand.Rand

	state   NodeState
	started bool
	start   time.Duration
	wall    int64

	commUp      bool // every node heard from or declared dead
	flowControl bool
	reqPending  bool
	reqDest     string
	reqNext     time.Duration

	seq        uint64 // last sequence number used
	hist       [historySize]*sentMsg
	nextStatus time.Duration

	peers  []*peer
	byName map[string]*peer

	// A stall of the local node (see Stalled): timeouts that ran out
	// after stallFrom are judged at graceUntil at the earliest.
	stallFrom, graceUntil time.Duration

	stopping     bool
	shutdone     *msg.Message
	shutdoneSent int
	shutdoneNext time.Duration

	// loadAvg is the "ld" field's text, set by the daemon (SetLoadAvg).
	loadAvg string
	// extra are the fields added to our status messages (SetStatusField),
	// in the order first set; watched the peers' fields reported on change.
	extra   []statusField
	watched []string

	out      []*msg.Message
	events   []Event
	counters Counters
}

type sentMsg struct {
	seq        uint64
	m          *msg.Message
	lastRexmit time.Duration
	rexmitted  bool
}

// New returns a core for cfg. Call Start before anything else.
func New(cfg Config) (*Core, error) {
	cfg.applyDefaults()
	if err := cfg.validate(); err != nil {
		return nil, err
	}
	c := &Core{
		cfg:         cfg,
		rng:         rand.New(rand.NewSource(cfg.Seed)),
		flowControl: cfg.FlowControl,
		byName:      map[string]*peer{},
	}
	for _, n := range cfg.Nodes {
		if n == cfg.LocalNode {
			continue
		}
		p := newPeer(n, c.rng.Intn(10))
		if mk, ok := cfg.PeerMarks[n]; ok && mk.Gen > 0 {
			p.gen, p.genKnown, p.lastSeq, p.resumed = mk.Gen, true, mk.Seq, true
		}
		c.peers = append(c.peers, p)
		c.byName[n] = p
	}
	return c, nil
}

// Start begins sending heartbeats: "init" then "up" at once, as Heartbeat
// does, then one status per keepalive.
func (c *Core) Start(now Time) {
	if c.started {
		return
	}
	c.started = true
	c.setTime(now)
	c.start = now.Mono
	for _, p := range c.peers {
		p.lastStatus = now.Mono
	}
	c.sendStatus()
	c.setLocalState(Up)
	c.nextStatus = now.Mono + c.cfg.Keepalive
	c.checkCommUp(now.Mono)
}

type statusField struct{ name, value string }

// SetStatusField adds field name with value to every status message sent
// from now on, after Heartbeat's own fields (Heartbeat ignores fields it
// does not know); an empty value removes it. A change is sent at once in
// an extra status message, so that the peers need not wait a keepalive.
func (c *Core) SetStatusField(name, value string) {
	for i, f := range c.extra {
		if f.name != name {
			continue
		}
		if f.value == value {
			return
		}
		if value == "" {
			c.extra = append(c.extra[:i], c.extra[i+1:]...)
		} else {
			c.extra[i].value = value
		}
		c.statusNow()
		return
	}
	if value == "" {
		return
	}
	c.extra = append(c.extra, statusField{name, value})
	c.statusNow()
}

// statusNow sends a status at once if heartbeating has begun.
func (c *Core) statusNow() {
	if c.started && !c.stopping {
		c.sendStatus()
	}
}

// WatchStatusField asks for EvStatusField events when field name changes
// in a peer's status messages.
func (c *Core) WatchStatusField(name string) {
	for _, w := range c.watched {
		if w == name {
			return
		}
	}
	c.watched = append(c.watched, name)
}

// SetLoadAvg sets the text of the informational "ld" field of the messages
// sent from now on (the first line of /proc/loadavg in the daemon); empty
// sends "n/a". The daemon reads the file, so the core does no IO.
func (c *Core) SetLoadAvg(s string) { c.loadAvg = s }

func (c *Core) setTime(now Time) {
	if now.Wall > 0 {
		c.wall = now.Wall
	}
}

// Marks returns the newest (generation, seq) seen from every peer, for the
// daemon to persist (at stop, when a peer dies, and periodically).
func (c *Core) Marks() map[string]Mark {
	out := map[string]Mark{}
	for _, p := range c.peers {
		if p.genKnown {
			out[p.name] = Mark{Gen: p.gen, Seq: p.lastSeq}
		}
	}
	return out
}

// State is the local node's state.
func (c *Core) State() NodeState { return c.state }

// Done reports that a graceful stop has finished announcing itself.
func (c *Core) Done() bool {
	if !c.stopping {
		return false
	}
	if c.shutdoneSent >= shutdoneSends {
		return true
	}
	for _, p := range c.peers {
		if p.state != Dead {
			return false
		}
	}
	return true
}

// Ready returns and clears what the core wants sent and reported. Every
// message is to go out on every link.
func (c *Core) Ready() ([]*msg.Message, []Event) {
	out, ev := c.out, c.events
	c.out, c.events = nil, nil
	return out, ev
}

// HasReady reports whether Ready would return anything.
func (c *Core) HasReady() bool { return len(c.out) > 0 || len(c.events) > 0 }

// Alive reports whether node name has been heard from and is not dead
// (its own first status says "init", yet it is alive).
func (c *Core) Alive(name string) bool {
	p, ok := c.byName[strings.ToLower(name)]
	return ok && p.heard && p.state != Dead
}

// NodeState returns the state of node name, and whether it is known.
func (c *Core) NodeState(name string) (NodeState, bool) {
	name = strings.ToLower(name)
	if name == c.cfg.LocalNode {
		return c.state, true
	}
	p, ok := c.byName[name]
	if !ok {
		return 0, false
	}
	return p.state, true
}

func (c *Core) emit(e Event) { c.events = append(c.events, e) }

func (c *Core) setLocalState(s NodeState) {
	if c.state == s {
		return
	}
	from := c.state
	c.state = s
	c.emit(Event{Kind: EvNodeState, Node: c.cfg.LocalNode, From: from, To: s})
	if c.started && !c.stopping {
		c.sendStatus()
	}
}

// Send queues an application message (resource protocol, commands) with the
// control fields added; it is sequenced and retransmittable like any other.
func (c *Core) Send(now Time, m *msg.Message) {
	c.setTime(now)
	c.send(m)
}

// send adds the control fields in Heartbeat's order and queues m.
func (c *Core) send(m *msg.Message) {
	typ := m.Type()
	seqd := !strings.HasPrefix(typ, "NS_")
	if dest := m.Str(msg.FDest); dest != "" {
		if p, ok := c.byName[dest]; ok && len(p.uuid) == 16 {
			m.SetBinary(msg.FDestUUID, p.uuid)
		}
	}
	if !m.Has(msg.FSrc) {
		m.Set(msg.FSrc, c.cfg.LocalNode)
	}
	m.SetBinary(msg.FSrcUUID, c.cfg.UUID)
	if seqd {
		c.seq++
		m.Set(msg.FSeq, strconv.FormatUint(c.seq, 16))
	}
	m.Set(msg.FGen, strconv.FormatUint(c.cfg.Generation, 16))
	wall := c.wall
	if wall <= 0 {
		wall = 1 // Heartbeat drops ts=0
	}
	m.Set(msg.FTS, strconv.FormatInt(wall, 16))
	if seqd {
		ld := c.loadAvg
		if ld == "" {
			ld = "n/a"
		}
		m.Set(msg.FLoad, ld)
	}
	m.Set(msg.FTTL, strconv.Itoa(c.cfg.Hopfudge+len(c.cfg.Nodes)+c.cfg.PingNodes))
	if seqd {
		c.hist[c.seq%historySize] = &sentMsg{seq: c.seq, m: m}
	}
	c.counters.TxMessages++
	c.out = append(c.out, m)
}

func (c *Core) sendStatus() {
	m := msg.New("status")
	m.Set("st", c.state.String())
	m.Set("dt", strconv.FormatInt(c.cfg.Deadtime.Milliseconds(), 16))
	if c.flowControl {
		m.Set("protocol", "1")
	}
	for _, f := range c.extra {
		m.Set(f.name, f.value)
	}
	c.send(m)
}

// Next returns the monotonic time at which Tick must next be called.
func (c *Core) Next() time.Duration {
	next := c.nextStatus
	if c.stopping {
		next = c.shutdoneNext
		if c.shutdoneSent >= shutdoneSends {
			next = c.start + 1<<62 // nothing left to send; only peer timers
		}
	}
	min := func(t time.Duration) {
		if t < next {
			next = t
		}
	}
	if c.reqPending {
		min(c.reqNext)
	}
	for _, p := range c.peers {
		if p.state != Dead {
			to := c.deadTimeout(p)
			min(c.judgeAt(p.lastStatus + to))
			if !p.warned && p.heard {
				min(p.lastStatus + c.warnTimeout(p))
			}
			for _, l := range p.links {
				if l.state == LinkUp {
					min(c.judgeAt(l.lastHeard + to))
				}
			}
		}
		for _, g := range p.missing {
			min(g.due)
		}
	}
	return next
}

// deadTimeout is how long a silent peer stays alive: initdead until
// communication is up, then the deadtime the peer advertised (Heartbeat
// honours the sender's dt) or ours.
func (c *Core) deadTimeout(p *peer) time.Duration {
	if !c.commUp {
		return c.cfg.Initdead
	}
	if p.deadtime > 0 {
		return p.deadtime
	}
	return c.cfg.Deadtime
}

func (c *Core) warnTimeout(p *peer) time.Duration {
	if p.deadtime > 0 && p.deadtime != c.cfg.Deadtime {
		return p.deadtime / 2
	}
	return c.cfg.Warntime
}

// Tick runs every timer that is due at now. The caller has handed
// Receive every message that arrived before now: a peer's silence is
// judged at now.
func (c *Core) Tick(now Time) { c.TickUpTo(now, now.Mono) }

// TickUpTo is Tick for a caller that could not yet hand over everything
// that arrived before now (a link with more datagrams queued than it reads
// in one go): every timer runs at now, our heartbeats go out, but a
// peer's silence is judged at horizon, the arrival time up to which every
// message has been received. A horizon later than now counts as now.
func (c *Core) TickUpTo(now Time, horizon time.Duration) {
	if !c.started {
		return
	}
	c.setTime(now)
	t := now.Mono
	if horizon > t {
		horizon = t
	}
	if c.stopping {
		if c.shutdoneSent < shutdoneSends && t >= c.shutdoneNext {
			c.resend(c.shutdone)
			c.shutdoneSent++
			c.shutdoneNext = t + c.shutdoneInterval()
		}
	} else if t >= c.nextStatus {
		c.sendStatus()
		c.nextStatus += c.cfg.Keepalive
		if c.nextStatus <= t {
			// We were not scheduled for a while (stopped process, overloaded
			// machine): do not send a burst to catch up.
			c.nextStatus = t + c.cfg.Keepalive
		}
	}
	for _, p := range c.peers {
		c.checkPeer(p, horizon)
		c.rexmitDue(p, t)
	}
	if c.reqPending && t >= c.reqNext {
		if p := c.byName[c.reqDest]; p == nil || p.state == Dead || !c.flowControl {
			c.reqPending = false
			c.goActive()
		} else {
			c.sendReqnodes(t)
		}
	}
	c.checkCommUp(horizon)
}

func (c *Core) shutdoneInterval() time.Duration {
	if c.cfg.Keepalive < 100*time.Millisecond {
		return c.cfg.Keepalive
	}
	return 100 * time.Millisecond
}

// Stalled tells the core that the local node was not scheduled from
// "from" (the deadline its loop slept for) until "until" (when it woke),
// and that what arrived meanwhile has been received. Receive times show
// what a peer sent while only this process was held up, but not a pause
// of the whole machine (a virtual machine stopped by its host, or both
// nodes of a test on one paused machine): then the peer could not send
// either, and its silence is our stall. So a peer (or link) whose timeout
// ran out during the stall is judged one keepalive after "until" at the
// earliest, time for it to be heard again. Detection is never earlier
// than the timeout; a death that happened during the stall is seen at
// most a keepalive later, once per stall.
func (c *Core) Stalled(from, until time.Duration) {
	if until <= from {
		return
	}
	c.stallFrom, c.graceUntil = from, until+c.cfg.Keepalive
}

// judgeAt is when a timeout running out at deadline is judged: at once,
// or, if it ran out during a stall of ours, at the end of its grace.
func (c *Core) judgeAt(deadline time.Duration) time.Duration {
	if deadline > c.stallFrom && deadline < c.graceUntil {
		return c.graceUntil
	}
	return deadline
}

func (c *Core) checkPeer(p *peer, t time.Duration) {
	if p.state == Dead {
		return
	}
	to := c.deadTimeout(p)
	silence := t - p.lastStatus
	for _, l := range p.linkList() {
		if l.state == LinkUp && t >= c.judgeAt(l.lastHeard+to) {
			c.setLink(p, l, LinkDead)
		}
	}
	if t >= c.judgeAt(p.lastStatus+to) {
		c.declareDead(p, silence, CauseTimeout)
		return
	}
	if !p.warned && p.heard && silence >= c.warnTimeout(p) {
		p.warned = true
		c.emit(Event{Kind: EvLateHeartbeat, Node: p.name, Interval: silence,
			Detail: "no status for " + silence.Round(time.Millisecond).String() + ", still waiting"})
	}
}

func (c *Core) declareDead(p *peer, silence time.Duration, why DeathCause) {
	from := p.state
	p.state = Dead
	p.warned = false
	p.missing = nil
	for _, l := range p.linkList() {
		if l.state == LinkUp {
			c.setLink(p, l, LinkDead)
		}
	}
	c.emit(Event{Kind: EvNodeState, Node: p.name, From: from, To: Dead, Interval: silence, Cause: why, Detail: why.String()})
}

func (c *Core) setLink(p *peer, l *link, s LinkState) {
	from := l.state
	l.state = s
	alive := 0
	for _, o := range p.links {
		if o.state == LinkUp {
			alive++
		}
	}
	detail := strconv.Itoa(alive) + " of " + strconv.Itoa(c.linkCount(p)) + " paths up"
	c.emit(Event{Kind: EvLinkState, Node: p.name, Link: l.name, LinkFrom: from, LinkTo: s, Detail: detail})
}

func (c *Core) linkCount(p *peer) int {
	n := len(c.cfg.Links)
	for name := range p.links {
		if !contains(c.cfg.Links, name) {
			n++
		}
	}
	return n
}

func contains(list []string, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}

// checkCommUp: communication is up once every node has been heard from or
// declared dead; then we join (reqnodes) or go active at once.
func (c *Core) checkCommUp(t time.Duration) {
	if c.commUp || c.stopping {
		return
	}
	for _, p := range c.peers {
		if !p.heard && p.state != Dead {
			return
		}
	}
	c.commUp = true
	// Timeouts drop from initdead to deadtime now: a peer already silent
	// for longer is dead at once.
	for _, p := range c.peers {
		c.checkPeer(p, t)
	}
	if c.flowControl {
		for _, p := range c.peers {
			if p.state != Dead && p.protocol {
				c.reqPending = true
				c.reqDest = p.name
				c.sendReqnodes(t)
				return
			}
		}
	}
	c.goActive()
}

func (c *Core) sendReqnodes(t time.Duration) {
	m := msg.New("reqnodes")
	m.Set(msg.FDest, c.reqDest)
	c.send(m)
	iv := 2 * c.cfg.Keepalive
	if iv > time.Second {
		iv = time.Second
	}
	c.reqNext = t + iv
}

func (c *Core) goActive() {
	if c.state == Active {
		return
	}
	c.setLocalState(Active)
	c.emit(Event{Kind: EvCommUp, Node: c.cfg.LocalNode})
}

// Stop begins a graceful stop: shutdone goes out at once (and twice more
// shortly after, against loss) and status messages stop. The daemon exits
// when Done reports true.
func (c *Core) Stop(now Time) {
	if c.stopping {
		return
	}
	if !c.started {
		c.stopping = true
		c.shutdoneSent = shutdoneSends // nothing was announced, nothing to retract
		return
	}
	c.setTime(now)
	c.stopping = true
	c.reqPending = false
	m := msg.New("shutdone")
	m.Set("st", "dead")
	c.send(m)
	c.shutdone = m
	c.shutdoneSent = 1
	c.shutdoneNext = now.Mono + c.shutdoneInterval()
}

// resend queues a copy of an already stamped message (same seq).
func (c *Core) resend(m *msg.Message) {
	c.counters.TxMessages++
	c.out = append(c.out, m.Clone())
}
