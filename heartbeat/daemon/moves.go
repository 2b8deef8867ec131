package daemon

import (
	"time"

	"github.com/hasuite/hasuite/heartbeat/api"
	"github.com/hasuite/hasuite/heartbeat/control"
	"github.com/hasuite/hasuite/resources/manager"
)

// A waiter is an operator command (hb_standby, hb_takeover) waiting for the
// groups to finish moving, so the command can say what happened.
type waiter struct {
	reply    chan control.Response
	cmd      string
	set      manager.Hold // in our terms: what must leave (standby) or arrive (takeover)
	deadline time.Time
	started  time.Time
	seenBusy bool
}

// moveTimeout bounds how long hb_standby/hb_takeover wait; noAnswerTimeout
// is how long a takeover request may go unanswered (the peer's standby
// handshake never began: it refused, being in transition).
const (
	moveTimeout     = 2 * time.Minute
	noAnswerTimeout = 15 * time.Second
)

// move starts a standby or takeover and defers the answer.
func (d *Daemon) move(r ctrlReq) (control.Response, bool) {
	word := "all"
	if len(r.req.Args) > 0 {
		word = r.req.Args[0]
	}
	set := manager.StandbySet
	if r.req.Cmd == api.CmdTakeover {
		set = manager.TakeoverSet
	}
	h, ok := set(word)
	if !ok {
		return fail("bad argument %q: want all, foreign, local or failback", word), false
	}
	now := time.Since(d.start)
	var err error
	if r.req.Cmd == api.CmdStandby {
		err = d.res.mgr.Standby(now, h)
	} else {
		err = d.res.mgr.Takeover(now, h)
	}
	if err != nil {
		return fail("%v", err), false
	}
	d.flush()
	d.waiters = append(d.waiters, &waiter{reply: r.reply, cmd: r.req.Cmd, set: h,
		deadline: time.Now().Add(moveTimeout), started: time.Now()})
	return control.Response{}, true
}

// answerWaiters replies to the commands whose move has finished.
func (d *Daemon) answerWaiters() {
	if len(d.waiters) == 0 {
		return
	}
	keep := d.waiters[:0]
	for _, w := range d.waiters {
		mgr := d.res.mgr
		if mgr.Busy() {
			w.seenBusy = true
		}
		hold := mgr.Holding()
		// Settled: both sides have finished (the peer's stable report
		// arrives just after the handshake's end), so the next command,
		// here or on the peer, finds neither in transition.
		settled := !mgr.Busy() && mgr.PeerStable()
		// Done when no group of the set runs here (standby), or every
		// group of it does (takeover): whether the set has groups at all
		// depends on who is preferred for what, and an empty set is held.
		// A takeover is done only after the peer's standby handshake ran
		// (seenBusy), also when nothing had to move.
		done := settled && ((w.cmd == api.CmdStandby && mgr.HoldsNoneOf(w.set)) ||
			(w.cmd == api.CmdTakeover && w.seenBusy && mgr.HoldsEvery(w.set)))
		switch {
		case done:
			w.reply <- ok(api.Move{Holding: hold.String(), Took: time.Since(w.started).Round(time.Millisecond).String()})
		case !mgr.PeerUp():
			w.reply <- fail("the peer went away before the move finished; this node now holds %s", hold)
		case time.Now().After(w.deadline) || (w.seenBusy && settled) ||
			(!w.seenBusy && time.Since(w.started) > noAnswerTimeout):
			w.reply <- fail("the move did not complete (the peer refused or timed out); this node holds %s", hold)
		default:
			keep = append(keep, w)
			continue
		}
	}
	d.waiters = keep
}

func (d *Daemon) nextWaiterDeadline() time.Time {
	var next time.Time
	for _, w := range d.waiters {
		next = earliest(next, w.deadline)
	}
	return next
}
