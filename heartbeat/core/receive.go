package core

import (
	"bytes"
	"strconv"
	"strings"
	"time"

	"github.com/hasuite/hasuite/heartbeat/msg"
)

// Receive processes one authenticated message that arrived on link. The
// message must not be modified by the caller afterwards.
//
// now.Mono is when the message arrived, not when it is processed: after a
// spell in which the daemon was not scheduled, it hands the core every
// queued message with the time the kernel received it, before the next
// Tick judges any deadline. Such arrival times may be earlier than the
// last Tick, and a message processed later may have arrived earlier than
// one processed before it (another link); the core keeps the newest
// arrival for liveness and never moves it back.
func (c *Core) Receive(now Time, linkName string, m *msg.Message) {
	if !c.started {
		return
	}
	c.setTime(now)
	t := now.Mono
	typ := m.Type()
	src := strings.ToLower(m.Str(msg.FSrc))
	if typ == "" || src == "" || !validTS(m.Str(msg.FTS)) {
		c.counters.RxBadFields++
		c.drop(src, linkName, "missing t, src or non-zero ts")
		return
	}
	if src == c.cfg.LocalNode {
		c.counters.RxOwn++ // our own broadcast or multicast looped back
		return
	}
	p := c.byName[src]
	if p == nil {
		c.counters.RxUnknownNode++
		c.drop(src, linkName, "message from a node that is not in the configuration")
		return
	}
	if strings.HasPrefix(typ, "NS_") {
		c.receiveNS(p, t, m)
		return
	}
	seq, err := strconv.ParseUint(m.Str(msg.FSeq), 16, 64)
	if err != nil || seq == 0 {
		c.counters.RxBadFields++
		c.drop(src, linkName, "sequenced message without a valid seq")
		return
	}
	gen, _ := strconv.ParseUint(m.Str(msg.FGen), 16, 64) // absent = 0, as Heartbeat

	newGen := false // this message started the peer's current generation
	switch {
	case p.genKnown && gen < p.gen:
		c.replay(p, linkName, "generation "+strconv.FormatUint(gen, 16)+" is older than "+strconv.FormatUint(p.gen, 16))
		return
	case !p.genKnown || gen > p.gen:
		restarted := p.genKnown
		p.resetSeq(gen)
		p.shutdone = false
		newGen = true
		if restarted {
			c.emit(Event{Kind: EvPeerRestarted, Node: p.name, Detail: "new generation " + strconv.FormatUint(gen, 16)})
		}
	case p.shutdone:
		// A stopped node may still send a little (Heartbeat sends status for
		// a second or two after shutdone); only a new generation revives it.
		c.drop(p.name, linkName, "message after shutdone")
		return
	}

	verdict := c.track(p, t, seq)
	if verdict == seqDrop {
		return
	}
	if verdict == seqRecentDup {
		// The same message over a second medium: proof that this link
		// works, nothing more. The links of a dead peer, or of one not
		// heard from since we started, stay as they are: the copy may be a
		// replay of old traffic.
		if p.heard && p.state != Dead {
			c.heardOn(p, linkName, t)
		}
		return
	}
	fresh := verdict == seqFresh
	c.heardOn(p, linkName, t)
	p.counters.Accepted++
	c.counters.RxAccepted++
	if uuid, ok := m.Bytes(msg.FSrcUUID); ok && len(uuid) == 16 {
		p.uuid = append(p.uuid[:0], uuid...)
	}
	if !p.heard {
		p.heard = true
	}
	if p.state == Dead && fresh && !newGen {
		c.emit(Event{Kind: EvPartitionReturn, Node: p.name,
			Detail: "node returned with the same generation after being declared dead"})
	}
	c.maybeAck(p, seq, fresh)

	if !c.forUs(m) {
		return
	}
	switch typ {
	case "status":
		// A status that fills a gap still counts if it is newer than the
		// last status processed: it was sent after it, whatever came between.
		if fresh || seq > p.statusSeq {
			p.statusSeq = seq
			c.receiveStatus(p, t, m)
		}
	case "reqnodes":
		c.answerReqnodes(p)
	case "repnodes":
		c.receiveRepnodes(p, m)
	case "shutdone":
		c.receiveShutdone(p, t)
	default:
		c.emit(Event{Kind: EvDeliver, Node: p.name, Msg: m})
	}
	c.checkCommUp(t)
}

func validTS(s string) bool {
	v, err := strconv.ParseUint(s, 16, 64)
	return err == nil && v != 0
}

func (c *Core) drop(node, linkName, why string) {
	c.emit(Event{Kind: EvDropped, Node: node, Link: linkName, Detail: why})
}

func (c *Core) replay(p *peer, linkName, why string) {
	p.counters.Replay++
	c.counters.RxReplay++
	c.drop(p.name, linkName, "replayed message: "+why)
}

// forUs: messages addressed elsewhere are sequence-tracked by everybody but
// acted upon only by the addressee; destuuid wins over dest when present.
func (c *Core) forUs(m *msg.Message) bool {
	if u, ok := m.Bytes(msg.FDestUUID); ok {
		return bytes.Equal(u, c.cfg.UUID)
	}
	if d, ok := m.Get(msg.FDest); ok {
		return strings.ToLower(d) == c.cfg.LocalNode
	}
	return true
}

type seqVerdict int

const (
	seqFresh     seqVerdict = iota // newer than anything seen
	seqLate                        // fills a gap (a retransmission)
	seqRecentDup                   // a copy of a recent message (other medium)
	seqDrop                        // old: duplicate of long ago or replay
)

// track applies Heartbeat's sequence rules to seq from p.
func (c *Core) track(p *peer, t time.Duration, seq uint64) seqVerdict {
	switch {
	case p.lastSeq == 0 || seq == p.lastSeq+1 || (p.resumed && seq > p.lastSeq):
		p.lastSeq = seq
		p.resumed = false
		return seqFresh
	case seq > p.lastSeq+1:
		missing := seq - p.lastSeq - 1
		if missing > gapReset {
			// Too much lost to recover: start over from here.
			p.counters.Lost += uint64(len(p.missing)) + missing
			c.counters.LostMessages += uint64(len(p.missing)) + missing
			p.missing = nil
		} else if p.state != Dead {
			p.counters.Gaps++
			for s := p.lastSeq + 1; s < seq; s++ {
				if len(p.missing) >= maxMissing {
					break
				}
				if p.missing == nil {
					p.missing = map[uint64]*gap{}
				}
				p.missing[s] = &gap{due: t + c.rexmitJitter()}
			}
		}
		p.lastSeq = seq
		return seqFresh
	}
	if g := p.missing[seq]; g != nil {
		delete(p.missing, seq)
		if len(p.missing) == 0 && c.flowControl && p.protocol {
			c.sendAck(p, p.lastSeq)
		}
		return seqLate
	}
	p.counters.Duplicate++
	c.counters.RxDuplicate++
	if p.lastSeq-seq < recentDup {
		return seqRecentDup
	}
	c.replay(p, "", "sequence "+strconv.FormatUint(seq, 16)+" already seen")
	return seqDrop
}

// heardOn marks the link the message arrived on as working.
func (c *Core) heardOn(p *peer, linkName string, t time.Duration) {
	if linkName == "" {
		return
	}
	l := p.link(linkName)
	if t > l.lastHeard || !l.heard {
		l.lastHeard = t
	}
	l.heard = true
	l.packets++
	if l.state != LinkUp {
		c.setLink(p, l, LinkUp)
	}
}

// rexmitJitter is Heartbeat's random delay before the first request for a
// missing message, in [50ms, max_rexmit_delay].
func (c *Core) rexmitJitter() time.Duration {
	lo := 50 * time.Millisecond
	hi := c.cfg.MaxRexmitDelay
	if hi <= lo {
		return hi
	}
	return lo + time.Duration(c.rng.Int63n(int64(hi-lo)+1))
}

func (c *Core) receiveStatus(p *peer, t time.Duration, m *msg.Message) {
	st, ok := parseState(m.Str("st"))
	if !ok {
		c.drop(p.name, "", "status with unknown st "+strconv.Quote(m.Str("st")))
		return
	}
	if dt, err := strconv.ParseUint(m.Str("dt"), 16, 64); err == nil && dt > 0 {
		d := time.Duration(dt) * time.Millisecond
		if d > maxAdvertisedDeadtime {
			d = maxAdvertisedDeadtime
		}
		p.deadtime = d
	}
	if m.Has("protocol") {
		p.protocol = true
	} else if c.flowControl {
		// Heartbeat does the same: one peer without flow control turns it
		// off for the whole run (no ACKs, no reqnodes join).
		c.flowControl = false
		c.emit(Event{Kind: EvFlowControlOff, Node: p.name, Detail: "peer does not advertise protocol=1"})
	}
	interval := t - p.lastStatus
	if p.heard && p.state != Dead && interval >= c.warnTimeout(p) && p.lastStatus > 0 {
		c.emit(Event{Kind: EvLateHeartbeat, Node: p.name, Interval: interval,
			Detail: "a status arrived after " + interval.Round(time.Millisecond).String() + " of silence"})
	}
	if t > p.lastStatus || p.state == Dead {
		// A status that arrived before the newest one seen (read later,
		// from a slower link) proves nothing newer. Dead: the silence
		// that killed the peer starts again from this arrival.
		p.lastStatus = t
	}
	p.warned = false
	for _, name := range c.watched {
		v := m.Str(name)
		if old, seen := p.fields[name]; seen && old == v || !seen && v == "" {
			continue
		}
		if p.fields == nil {
			p.fields = map[string]string{}
		}
		p.fields[name] = v
		c.emit(Event{Kind: EvStatusField, Node: p.name, Field: name, Value: v})
	}
	if p.state != st {
		from := p.state
		p.state = st
		c.emit(Event{Kind: EvNodeState, Node: p.name, From: from, To: st})
	}
}

func (c *Core) answerReqnodes(p *peer) {
	// Heartbeat puts dest first in repnodes; the list must hold every
	// normal node, or the receiver deletes the ones missing.
	m := &msg.Message{}
	m.Set(msg.FDest, p.name)
	m.Set(msg.FType, "repnodes")
	m.Set("nodelist", strings.Join(c.cfg.Nodes, " ")+" ")
	m.Set("delnodelist", " ")
	c.send(m)
}

func (c *Core) receiveRepnodes(p *peer, m *msg.Message) {
	got := strings.Fields(strings.ToLower(m.Str("nodelist")))
	if strings.Join(got, " ") != strings.Join(c.cfg.Nodes, " ") {
		c.emit(Event{Kind: EvMembership, Node: p.name,
			Detail: "peer lists nodes [" + strings.Join(got, " ") + "], we have [" + strings.Join(c.cfg.Nodes, " ") + "]"})
	}
	if c.reqPending && p.name == c.reqDest {
		c.reqPending = false
		c.goActive()
	}
}

func (c *Core) receiveShutdone(p *peer, t time.Duration) {
	p.shutdone = true
	c.emit(Event{Kind: EvPeerShutdown, Node: p.name})
	if p.state != Dead {
		c.declareDead(p, t-p.lastStatus, CauseShutdown)
	}
}

func (c *Core) maybeAck(p *peer, seq uint64, fresh bool) {
	if !c.flowControl || !p.protocol || !fresh || len(p.missing) > 0 {
		return
	}
	if int(seq%10) == p.ackTrigger {
		c.sendAck(p, seq)
	}
}

func (c *Core) sendAck(p *peer, seq uint64) {
	m := msg.New("NS_ackmsg")
	m.Set(msg.FDest, p.name)
	m.Set("ackseq", strconv.FormatUint(seq, 16))
	c.send(m)
}

// receiveNS handles the unsequenced control messages. They refresh no
// liveness and no link: they carry no sequence number, so a replayed copy
// would be indistinguishable from a new one.
func (c *Core) receiveNS(p *peer, t time.Duration, m *msg.Message) {
	if gen, err := strconv.ParseUint(m.Str(msg.FGen), 16, 64); err == nil && p.genKnown && gen < p.gen {
		c.replay(p, "", "unsequenced message of an old generation")
		return
	}
	if !c.forUs(m) {
		return
	}
	switch m.Type() {
	case "NS_ackmsg":
		if v, err := strconv.ParseUint(m.Str("ackseq"), 16, 64); err == nil && v <= c.seq && v > p.ackedByPeer {
			p.ackedByPeer = v
		}
	case "NS_rexmit":
		c.answerRexmit(p, t, m)
	case "NS_nak_rexmit":
		if v, err := strconv.ParseUint(m.Str("firstseq"), 16, 64); err == nil {
			if _, ok := p.missing[v]; ok {
				delete(p.missing, v)
				p.counters.Lost++
				c.counters.LostMessages++
				c.emit(Event{Kind: EvRexmitGiveUp, Node: p.name,
					Detail: "peer cannot retransmit " + strconv.FormatUint(v, 16) + ": " + m.Str("info")})
			}
		}
	}
}

// answerRexmit resends what the peer missed from our history, or NAKs.
func (c *Core) answerRexmit(p *peer, t time.Duration, m *msg.Message) {
	first, err1 := strconv.ParseUint(m.Str("firstseq"), 10, 64)
	last, err2 := strconv.ParseUint(m.Str("lastseq"), 10, 64)
	if err1 != nil || err2 != nil || first == 0 || last < first || first > c.seq {
		return
	}
	if last > c.seq {
		last = c.seq
	}
	if last-first >= maxRexmitPerRequest {
		last = first + maxRexmitPerRequest - 1
	}
	for s := first; s <= last; s++ {
		h := c.hist[s%historySize]
		if h == nil || h.seq != s {
			why := "seqno not found"
			if c.seq >= historySize && s <= c.seq-historySize {
				why = "seqno too low"
			}
			nak := msg.New("NS_nak_rexmit")
			nak.Set("firstseq", strconv.FormatUint(s, 16))
			nak.Set(msg.FDest, p.name)
			nak.Set("info", why)
			c.send(nak)
			c.counters.NakSent++
			continue
		}
		// Heartbeat resends one message at most every max_rexmit_delay-10ms.
		if h.rexmitted && t-h.lastRexmit < c.cfg.MaxRexmitDelay-10*time.Millisecond {
			continue
		}
		h.rexmitted, h.lastRexmit = true, t
		c.counters.RexmitSent++
		c.resend(h.m)
	}
}

// rexmitDue asks again for every missing message whose time has come and
// gives up on those asked for too often.
func (c *Core) rexmitDue(p *peer, t time.Duration) {
	if p.state == Dead {
		return
	}
	for _, s := range sortedKeys(p.missing) {
		g := p.missing[s]
		if t < g.due {
			continue
		}
		if g.tries >= c.cfg.RexmitTries {
			delete(p.missing, s)
			p.counters.Lost++
			c.counters.LostMessages++
			c.emit(Event{Kind: EvRexmitGiveUp, Node: p.name,
				Detail: "gave up on message " + strconv.FormatUint(s, 16) + " after " + strconv.Itoa(g.tries) + " requests"})
			continue
		}
		g.tries++
		g.due = t + c.cfg.MaxRexmitDelay
		r := msg.New("NS_rexmit")
		r.Set(msg.FDest, p.name)
		r.Set("firstseq", strconv.FormatUint(s, 10))
		r.Set("lastseq", strconv.FormatUint(s, 10))
		c.send(r)
		c.counters.RexmitRequested++
	}
}
