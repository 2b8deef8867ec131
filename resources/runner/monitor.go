package runner

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/hasuite/hasuite/resources/agent"
)

// Resource monitoring (haresources.toml monitor_interval, ha.cf's
// default): while a group runs here, each monitored resource is checked
// at its interval, one check at a time per resource, in the group's queue
// (never during one of the group's actions), never on the daemon's loop.
// The first check runs right after the start. A check that fails stops
// the group's monitoring and is reported on Failures; the node layer
// decides (restart in place, or move), and a successful Start or Restart
// begins a new round.
//
// A script whose status says stopped right after a successful start
// (with no run of it in between that said running) has no usable status
// action (a resource.d script without one prints its usage): its
// monitoring is switched off with an Unusable report, not counted as a
// failure, so that a script without status is never restarted in a loop.

// MonitorSpec is how one resource is monitored: Interval between the end
// of one check and the start of the next (0: not monitored), Timeout for
// one check (0: the runner's OpTimeout). A check that times out failed.
type MonitorSpec struct {
	Interval time.Duration
	Timeout  time.Duration
}

// Failure is a monitored resource that failed its check: not running,
// an error, or a timeout (Reason). Unusable: its status cannot be used
// (see above); it is no longer monitored and nothing failed.
type Failure struct {
	Group    string
	Resource int // index in the group, from 0
	Name     string
	Reason   string
	Unusable bool
}

// Failures delivers monitoring failures; the daemon hands them to the
// node layer (node.ResourceFailed).
func (r *Runner) Failures() <-chan Failure { return r.failures }

// Monitorer is implemented by agents with a monitor of their own, richer
// than Status (a VIP: address present and interface up).
type Monitorer interface {
	Monitor(ctx context.Context) (ok bool, reason string, err error)
}

// groupMon is one round of a group's monitoring: it ends at the group's
// stop or first failure; timers of an ended round do nothing.
type groupMon struct {
	gen    uint64
	timers map[int]*time.Timer
}

func (r *Runner) spec(key string, idx int) MonitorSpec {
	if r.opts.Monitors == nil {
		return MonitorSpec{}
	}
	s := r.opts.Monitors(key, idx, r.groups[key][idx])
	if s.Timeout <= 0 {
		s.Timeout = r.opts.OpTimeout
	}
	return s
}

// monitorOn begins a new round of monitoring of group key: each monitored
// resource is checked at once, then at its interval.
func (r *Runner) monitorOn(key string) {
	if r.opts.Monitors == nil {
		return
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	r.stopRoundLocked(key)
	r.monGen++
	gm := &groupMon{gen: r.monGen, timers: map[int]*time.Timer{}}
	for idx := range r.groups[key] {
		if r.spec(key, idx).Interval > 0 {
			r.armLocked(key, gm, idx, 0)
		}
	}
	if len(gm.timers) > 0 {
		r.mon[key] = gm
	}
}

// monitorOff ends the group's monitoring round.
func (r *Runner) monitorOff(key string) {
	r.mu.Lock()
	r.stopRoundLocked(key)
	r.mu.Unlock()
}

func (r *Runner) stopRoundLocked(key string) {
	if gm := r.mon[key]; gm != nil {
		for _, t := range gm.timers {
			t.Stop()
		}
		delete(r.mon, key)
	}
}

// armLocked schedules the next check of resource idx after d.
func (r *Runner) armLocked(key string, gm *groupMon, idx int, d time.Duration) {
	gen := gm.gen
	gm.timers[idx] = time.AfterFunc(d, func() { r.enqueue(key, item{mon: true, idx: idx, gen: gen}) })
}

// unverify forgets that resources from..end said running (they are being
// started again).
func (r *Runner) unverify(key string, from int) {
	r.mu.Lock()
	defer r.mu.Unlock()
	for idx := range r.verified[key] {
		if idx >= from {
			delete(r.verified[key], idx)
		}
	}
}

// current reports whether round gen of group key is still going.
func (r *Runner) currentLocked(key string, gen uint64) *groupMon {
	if gm := r.mon[key]; gm != nil && gm.gen == gen {
		return gm
	}
	return nil
}

// monitorCheck runs one check of resource idx (in the group's worker).
func (r *Runner) monitorCheck(key string, idx int, gen uint64) {
	r.mu.Lock()
	live := r.currentLocked(key, gen) != nil
	verified := r.verified[key][idx]
	r.mu.Unlock()
	if !live {
		return
	}
	a := r.groups[key][idx]
	s := r.spec(key, idx)
	ok, reason, stoppedOnly := r.checkOnce(a, s.Timeout)
	if r.ctx.Err() != nil {
		return // closing
	}

	r.mu.Lock()
	gm := r.currentLocked(key, gen)
	if gm == nil {
		r.mu.Unlock()
		return
	}
	if ok {
		if r.verified[key] == nil {
			r.verified[key] = map[int]bool{}
		}
		r.verified[key][idx] = true
		r.armLocked(key, gm, idx, s.Interval)
		r.mu.Unlock()
		return
	}
	_, ownMonitor := a.(Monitorer)
	f := Failure{Group: key, Resource: idx, Name: a.String(), Reason: reason}
	if stoppedOnly && !verified && !ownMonitor {
		// Stopped right after a successful start: the status is useless.
		delete(gm.timers, idx)
		f.Unusable = true
		f.Reason = "its status says stopped right after a successful start: it has no usable status action; not monitored"
	} else {
		r.stopRoundLocked(key)
	}
	r.mu.Unlock()
	r.opts.Log(a.String(), "monitor: "+f.Reason)
	select {
	case r.failures <- f:
	case <-r.ctx.Done():
	}
}

// checkOnce runs one check within timeout. stoppedOnly: the answer was a
// clean "not running" (no error, no timeout).
func (r *Runner) checkOnce(a agent.Agent, timeout time.Duration) (ok bool, reason string, stoppedOnly bool) {
	ctx, cancel := context.WithTimeout(r.ctx, timeout)
	defer cancel()
	t0 := time.Now()
	var err error
	if m, isM := a.(Monitorer); isM {
		ok, reason, err = m.Monitor(ctx)
	} else {
		ok, err = a.Status(ctx)
		reason = "not running"
	}
	switch {
	case err != nil && (errors.Is(err, context.DeadlineExceeded) || errors.Is(err, agent.ErrTimeout) || ctx.Err() != nil):
		return false, fmt.Sprintf("monitor timed out after %s", time.Since(t0).Round(time.Millisecond)), false
	case err != nil:
		return false, "monitor failed: " + err.Error(), false
	case !ok:
		return false, reason, true
	}
	return true, "", false
}
