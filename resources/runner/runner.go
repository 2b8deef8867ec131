// Package runner carries out the manager's group actions with the agents:
// a group starts left to right and stops right to left; a failed start
// stops what it started; a failed stop is retried. Groups run in parallel,
// each in its own goroutine, and one group's actions never overlap.
package runner

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/hasuite/hasuite/resources/agent"
	"github.com/hasuite/hasuite/resources/manager"
)

// Options tune the runner.
type Options struct {
	// OpTimeout bounds one agent operation (agents may have their own,
	// shorter limits). Default 2 minutes.
	OpTimeout time.Duration
	// StopRetries is how often a failed stop is tried again, StopRetryDelay
	// apart, before the group is reported stop-failed. Defaults 5 and 1 s.
	StopRetries    int
	StopRetryDelay time.Duration
	// Log receives progress lines (resource, message).
	Log agent.Logger
	// Monitor selects the resources whose status is checked every
	// MonitorInterval while their group runs here, and which are started
	// again when found stopped (a VIP removed behind our back). Checks must
	// be cheap: nil monitors nothing. MonitorInterval defaults to 1 s.
	Monitor         func(agent.Agent) bool
	MonitorInterval time.Duration
	// CheckFirst selects the resources whose status is asked before they
	// are started, and which are not started when already running:
	// Heartbeat's rule, needed by resource.d scripts that refuse a second
	// start. Nil starts every resource unconditionally.
	CheckFirst func(agent.Agent) bool
	// Monitors says how resource idx of group is monitored while the
	// group runs here (see monitor.go); a zero Interval, or a nil
	// Monitors, is not monitored. Findings go to Failures.
	Monitors func(group string, idx int, a agent.Agent) MonitorSpec
}

// Alert reports a monitored resource found not running, and whether
// starting it again worked.
type Alert struct {
	Group    string
	Resource string
	Err      error // nil: restarted
}

// Result is the outcome of one action.
type Result struct {
	Action   manager.Action
	Err      error
	Duration time.Duration
}

// Runner executes group actions.
type Runner struct {
	opts    Options
	groups  map[string][]agent.Agent
	results chan Result

	alerts   chan Alert
	failures chan Failure

	mu      sync.Mutex
	queues  map[string][]item
	busy    map[string]bool
	watched map[string]bool
	// mon is each monitored group's current monitoring round; verified
	// the resources whose status said running since their last start.
	mon      map[string]*groupMon
	verified map[string]map[int]bool
	monGen   uint64
	ctx      context.Context
	cancel   context.CancelFunc
	wg       sync.WaitGroup
}

// New returns a runner for the given groups (key -> agents in haresources
// order).
func New(groups map[string][]agent.Agent, opts Options) *Runner {
	if opts.OpTimeout <= 0 {
		opts.OpTimeout = 2 * time.Minute
	}
	if opts.StopRetries <= 0 {
		opts.StopRetries = 5
	}
	if opts.StopRetryDelay <= 0 {
		opts.StopRetryDelay = time.Second
	}
	if opts.Log == nil {
		opts.Log = func(string, string) {}
	}
	if opts.MonitorInterval <= 0 {
		opts.MonitorInterval = time.Second
	}
	ctx, cancel := context.WithCancel(context.Background())
	r := &Runner{opts: opts, groups: groups, results: make(chan Result, 64), alerts: make(chan Alert, 16),
		failures: make(chan Failure, 64), queues: map[string][]item{}, busy: map[string]bool{}, watched: map[string]bool{},
		mon: map[string]*groupMon{}, verified: map[string]map[int]bool{}, ctx: ctx, cancel: cancel}
	if opts.Monitor != nil {
		r.wg.Add(1)
		go r.monitor()
	}
	return r
}

// item is queued work for a group: an action, a VIP check (check), or
// one resource's monitor (mon, of resource idx in round gen).
type item struct {
	act   manager.Action
	check bool
	mon   bool
	idx   int
	gen   uint64
}

// Alerts delivers monitoring findings.
func (r *Runner) Alerts() <-chan Alert { return r.alerts }

// watch starts or stops monitoring a group. The runner keeps its own
// watch list: a group is watched from its successful start until its stop
// is submitted, so a monitor never re-adds what is being released.
func (r *Runner) watch(key string, on bool) {
	r.mu.Lock()
	if on {
		r.watched[key] = true
	} else {
		delete(r.watched, key)
	}
	r.mu.Unlock()
}

func (r *Runner) monitor() {
	defer r.wg.Done()
	t := time.NewTicker(r.opts.MonitorInterval)
	defer t.Stop()
	for {
		select {
		case <-r.ctx.Done():
			return
		case <-t.C:
		}
		r.mu.Lock()
		var keys []string
		for k := range r.watched {
			keys = append(keys, k)
		}
		r.mu.Unlock()
		for _, k := range keys {
			r.enqueue(k, item{check: true})
		}
	}
}

// Results delivers one Result per submitted action.
func (r *Runner) Results() <-chan Result { return r.results }

// Submit queues an action; it never blocks. A stop ends the group's
// monitoring at once; a start or restart that succeeds begins it.
func (r *Runner) Submit(a manager.Action) {
	if a.Kind == manager.Stop {
		r.watch(a.Group, false)
		r.monitorOff(a.Group)
	}
	r.enqueue(a.Group, item{act: a})
}

func (r *Runner) enqueue(key string, it item) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.ctx.Err() != nil {
		return
	}
	r.queues[key] = append(r.queues[key], it)
	if r.busy[key] {
		return
	}
	r.busy[key] = true
	r.wg.Add(1)
	go r.work(key)
}

// Close abandons queued actions and waits for running ones to finish.
func (r *Runner) Close() {
	r.cancel()
	r.wg.Wait()
}

func (r *Runner) work(key string) {
	defer r.wg.Done()
	for {
		r.mu.Lock()
		q := r.queues[key]
		if len(q) == 0 || r.ctx.Err() != nil {
			r.busy[key] = false
			r.mu.Unlock()
			return
		}
		it := q[0]
		r.queues[key] = q[1:]
		watched := r.watched[key]
		r.mu.Unlock()
		if it.check {
			if watched {
				r.check(key)
			}
			continue
		}
		if it.mon {
			r.monitorCheck(key, it.idx, it.gen)
			continue
		}
		a := it.act
		if a.Kind == manager.Announce {
			r.announce(key)
			continue
		}

		t0 := time.Now()
		var err error
		switch a.Kind {
		case manager.Start:
			r.unverify(key, 0)
			err = r.start(key)
			if err == nil {
				r.watch(key, true)
				r.monitorOn(key)
			}
		case manager.Restart:
			err = r.restart(key, a.Resource)
			if err == nil {
				r.watch(key, true)
				r.monitorOn(key)
			}
		default:
			// Also here, not only at Submit: a start or restart that
			// was queued before this stop has begun monitoring again.
			r.watch(key, false)
			r.monitorOff(key)
			err = r.stop(key)
		}
		select {
		case r.results <- Result{Action: a, Err: err, Duration: time.Since(t0)}:
		case <-r.ctx.Done():
			return
		}
	}
}

func (r *Runner) op(f func(ctx context.Context) error) error {
	ctx, cancel := context.WithTimeout(r.ctx, r.opts.OpTimeout)
	defer cancel()
	return f(ctx)
}

// start starts the group's resources left to right. If one fails, the
// ones before it (and the failed one, which may be half started) are
// stopped right to left.
func (r *Runner) start(key string) error {
	agents, ok := r.groups[key]
	if !ok {
		return fmt.Errorf("unknown group %q", key)
	}
	return r.startFrom(agents, 0)
}

// restart restarts resources from..end of a group in place: they are
// stopped right to left, then started left to right (a failed start
// stops what the restart started). A stop that fails wraps
// manager.ErrStopFailed: the resource may still run.
func (r *Runner) restart(key string, from int) error {
	agents, ok := r.groups[key]
	if !ok {
		return fmt.Errorf("unknown group %q", key)
	}
	if from < 0 || from >= len(agents) {
		return fmt.Errorf("group %q has no resource %d", key, from)
	}
	r.unverify(key, from)
	for i := len(agents) - 1; i >= from; i-- {
		if err := r.stopOne(agents[i]); err != nil {
			return fmt.Errorf("%w: %v", manager.ErrStopFailed, err)
		}
	}
	err := r.startFrom(agents, from)
	if errors.Is(err, errCleanup) {
		return fmt.Errorf("%w: %v", manager.ErrStopFailed, err)
	}
	return err
}

// errCleanup marks a failed start whose cleanup (stopping what it had
// started) failed too.
var errCleanup = errors.New("cleaning up failed too")

// startFrom starts agents[from:] left to right; on a failure it stops the
// failed one and those it started, right to left.
func (r *Runner) startFrom(agents []agent.Agent, from int) error {
	for i := from; i < len(agents); i++ {
		a := agents[i]
		if r.opts.CheckFirst != nil && r.opts.CheckFirst(a) && r.running(a) {
			r.opts.Log(a.String(), "already running; not started again")
			continue
		}
		if err := r.op(a.Start); err != nil {
			r.opts.Log(a.String(), "start failed: "+err.Error())
			var stopErrs []error
			for j := i; j >= from; j-- {
				if serr := r.stopOne(agents[j]); serr != nil {
					stopErrs = append(stopErrs, serr)
				}
			}
			if len(stopErrs) > 0 {
				return fmt.Errorf("start of %s failed (%v) and %w: %w", a, err, errCleanup, errors.Join(stopErrs...))
			}
			return fmt.Errorf("start of %s failed: %w", a, err)
		}
		r.opts.Log(a.String(), "started")
	}
	return nil
}

// status asks a resource's status within the operation timeout.
func (r *Runner) status(a agent.Agent) (running bool, err error) {
	err = r.op(func(ctx context.Context) error {
		var e error
		running, e = a.Status(ctx)
		return e
	})
	return running, err
}

// running: an error counts as not running, so a start goes ahead (and
// reports its own error if any).
func (r *Runner) running(a agent.Agent) bool {
	running, err := r.status(a)
	return err == nil && running
}

// stop stops every resource right to left, going on after a failure so
// that as much as possible is released; any resource left running fails
// the stop.
func (r *Runner) stop(key string) error {
	agents, ok := r.groups[key]
	if !ok {
		return fmt.Errorf("unknown group %q", key)
	}
	var errs []error
	for i := len(agents) - 1; i >= 0; i-- {
		if err := r.stopOne(agents[i]); err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

// stopOne stops one resource, retrying; when every try failed it asks the
// resource's status: a resource that is not running after all is only a
// warning (as in Heartbeat).
func (r *Runner) stopOne(a agent.Agent) error {
	var err error
	for try := 1; try <= r.opts.StopRetries; try++ {
		if err = r.op(a.Stop); err == nil {
			r.opts.Log(a.String(), "stopped")
			return nil
		}
		r.opts.Log(a.String(), fmt.Sprintf("stop failed (try %d of %d): %v", try, r.opts.StopRetries, err))
		if try < r.opts.StopRetries {
			select {
			case <-time.After(r.opts.StopRetryDelay):
			case <-r.ctx.Done():
				return r.ctx.Err()
			}
		}
	}
	if running, serr := r.status(a); serr == nil && !running {
		r.opts.Log(a.String(), "stop kept failing but the resource is not running")
		return nil
	}
	return fmt.Errorf("stop of %s failed %d times: %w", a, r.opts.StopRetries, err)
}

// check looks at every monitored resource of a running group and starts
// again any that is not running.
func (r *Runner) check(key string) {
	for _, a := range r.groups[key] {
		if !r.opts.Monitor(a) {
			continue
		}
		if running, err := r.status(a); err != nil || running {
			continue
		}
		err := r.op(a.Start)
		r.opts.Log(a.String(), "found not running while its group runs here; started again")
		select {
		case r.alerts <- Alert{Group: key, Resource: a.String(), Err: err}:
		default:
		}
	}
}

// announcer is implemented by agents that can re-announce what they hold
// (virtual IPs: gratuitous ARP / unsolicited NA).
type announcer interface {
	Announce(ctx context.Context) error
}

// announce re-announces every VIP of a group; it produces no Result.
func (r *Runner) announce(key string) {
	for _, a := range r.groups[key] {
		if an, ok := a.(announcer); ok {
			if err := r.op(an.Announce); err != nil {
				r.opts.Log(a.String(), "re-announcement failed: "+err.Error())
			} else {
				r.opts.Log(a.String(), "re-announced")
			}
		}
	}
}
