package notify

import (
	"context"
	"errors"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"go.uber.org/zap"

	"github.com/hasuite/hasuite/heartbeat/config"
	"github.com/hasuite/hasuite/internal/childproc"
)

// Bounds of the hook queue and of one run.
const (
	// QueueSize bounds the events waiting for their hooks; beyond it
	// events are dropped, counted, and the count is logged.
	QueueSize = 256
	// KillGrace is how long a hook that ran out of time has between
	// SIGTERM and SIGKILL (its whole process group).
	KillGrace = time.Second
	// maxOutput is what is kept of each stream of a hook, for the log.
	maxOutput = 2048
)

// RunFunc runs one child; childproc.Run, or a fake in tests.
type RunFunc func(ctx context.Context, spec childproc.Spec) (childproc.Result, error)

// Hooks runs the notify hooks of a configuration on its own goroutine.
type Hooks struct {
	hooks   []config.HookSpec
	timeout time.Duration
	log     *zap.Logger
	run     RunFunc

	q       chan Event
	dropped atomic.Uint64
	runs    atomic.Uint64
	failed  atomic.Uint64

	ctx    context.Context
	cancel context.CancelFunc
	done   chan struct{}
	once   sync.Once
}

// Options configure Hooks; zero fields take defaults.
type Options struct {
	Timeout time.Duration // per run; default config.DefaultNotifyTimeout
	Log     *zap.Logger
	Run     RunFunc // default childproc.Run
	Queue   int     // default QueueSize
}

// NewHooks starts the runner of hooks. Close stops it.
func NewHooks(hooks []config.HookSpec, o Options) *Hooks {
	if o.Timeout <= 0 {
		o.Timeout = config.DefaultNotifyTimeout
	}
	if o.Log == nil {
		o.Log = zap.NewNop()
	}
	if o.Run == nil {
		o.Run = childproc.Run
	}
	if o.Queue <= 0 {
		o.Queue = QueueSize
	}
	ctx, cancel := context.WithCancel(context.Background())
	h := &Hooks{hooks: hooks, timeout: o.Timeout, log: o.Log, run: o.Run, q: make(chan Event, o.Queue),
		ctx: ctx, cancel: cancel, done: make(chan struct{})}
	go h.loop()
	return h
}

// Notify queues e for the hooks. It never blocks: with the queue full the
// event is dropped and counted (reported in the log by the runner).
func (h *Hooks) Notify(e Event) {
	if h == nil {
		return
	}
	select {
	case h.q <- e:
	default:
		h.dropped.Add(1)
	}
}

// Queued is how many events wait for the hooks.
func (h *Hooks) Queued() int { return len(h.q) }

// Dropped, Runs and Failed count events dropped on a full queue, hook
// runs, and runs that failed (exit status, signal, timeout, not started).
func (h *Hooks) Dropped() uint64 { return h.dropped.Load() }
func (h *Hooks) Runs() uint64    { return h.runs.Load() }
func (h *Hooks) Failed() uint64  { return h.failed.Load() }

// Close stops taking events, lets the queued ones run for at most wait,
// then kills the hook still running and returns once the runner is done.
func (h *Hooks) Close(wait time.Duration) {
	if h == nil {
		return
	}
	h.once.Do(func() {
		close(h.q)
		select {
		case <-h.done:
		case <-time.After(wait):
			h.log.Warn("notify hooks still running at exit: the rest is not run")
			h.cancel()
			<-h.done
		}
		h.cancel()
	})
}

func (h *Hooks) loop() {
	defer close(h.done)
	var reported uint64
	for e := range h.q {
		if d := h.dropped.Load(); d > reported {
			h.log.Warn("notify queue full: events dropped, their hooks not run",
				zap.Uint64("dropped", d-reported), zap.Uint64("dropped_total", d))
			reported = d
		}
		if h.ctx.Err() != nil {
			continue // closing: drain without running
		}
		for _, spec := range h.For(e) {
			h.runOne(spec, e)
		}
	}
}

// For returns the hooks to run for e, in order: keepalived runs the
// state's own hooks (notify_master, ...) before the generic ones, and so
// do we. Each comes with its full argv.
func (h *Hooks) For(e Event) [][]string {
	var specific, generic [][]string
	for _, s := range h.hooks {
		switch {
		case s.When == "":
			generic = append(generic, append(append([]string(nil), s.Argv...), e.GroupArgs()...))
		case e.State != "" && strings.EqualFold(s.When, e.State):
			specific = append(specific, append([]string(nil), s.Argv...))
		}
	}
	return append(specific, generic...)
}

func (h *Hooks) runOne(argv []string, e Event) {
	h.runs.Add(1)
	res, err := h.run(h.ctx, childproc.Spec{Path: argv[0], Args: argv[1:], Env: e.Env(), Timeout: h.timeout,
		KillGrace: KillGrace, MaxOutput: maxOutput})
	f := []zap.Field{zap.String("hook", argv[0]), zap.String("event", e.Name), zap.String("group", e.Group),
		zap.Duration("took", res.Duration.Round(time.Millisecond))}
	if res.OutputHeld {
		h.log.Warn("notify hook left a process holding its output (a daemon?); not waited for", f...)
	}
	switch {
	case errors.Is(err, childproc.ErrTimeout):
		h.failed.Add(1)
		h.log.Error("notify hook timed out and was killed", append(f, zap.Duration("timeout", h.timeout),
			zap.String("stderr", res.Stderr.String()))...)
	case err != nil:
		h.failed.Add(1)
		h.log.Error("notify hook failed", append(f, zap.Error(err))...)
	case res.ExitCode != 0:
		h.failed.Add(1)
		h.log.Warn("notify hook failed", append(f, zap.Int("exit", res.ExitCode), zap.Stringer("signal", res.Signal),
			zap.String("stdout", res.Stdout.String()), zap.String("stderr", res.Stderr.String()))...)
	default:
		h.log.Debug("notify hook ran", f...)
	}
}
