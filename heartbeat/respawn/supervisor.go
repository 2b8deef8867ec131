package respawn

import (
	"context"
	"errors"
	"strings"
	"sync"
	"time"

	"github.com/hasuite/hasuite/internal/childproc"
)

// Program is one client program to keep running.
type Program struct {
	User     string   // run as this user ("" = the daemon's)
	Path     string   // absolute path
	Args     []string // arguments after argv[0]
	Env      []string // the whole environment
	FailFast bool     // fence the node if it dies abnormally
}

// Name is how logs name the program: its command line.
func (p Program) Name() string { return strings.Join(append([]string{p.Path}, p.Args...), " ") }

// EventKind says what happened to a program.
type EventKind int

const (
	// Started: a run began (Pid; Restart counts the runs before it).
	Started EventKind = iota + 1
	// Exited: a run ended (Exit) and the policy decided (Verdict).
	Exited
	// Output: the program wrote a line (Line).
	Output
)

// Event is one report from the Supervisor. Report is called on the
// program's goroutine: it must not block for long.
type Event struct {
	Kind    EventKind
	Index   int // the program's index in the list given to New
	Program Program
	Pid     int
	Runs    int // runs before this one (Started)
	Exit    Exit
	Verdict Verdict
	Line    childproc.Line
}

// DefaultStopGrace is how long a program has to exit after SIGTERM at
// shutdown before it is killed.
const DefaultStopGrace = 5 * time.Second

// Supervisor keeps a list of programs running.
type Supervisor struct {
	progs  []Program
	report func(Event)
	grace  time.Duration
	epoch  time.Time

	mu       sync.Mutex
	started  bool
	stopping bool
	children []*child
}

type child struct {
	stop chan struct{} // closed to stop it for good
	done chan struct{} // closed when its goroutine has ended
}

// New returns a supervisor for progs; nothing runs until Start. report
// receives every event (nil: none). grace is the SIGTERM-to-SIGKILL time
// at Stop (0: DefaultStopGrace).
func New(progs []Program, grace time.Duration, report func(Event)) *Supervisor {
	if report == nil {
		report = func(Event) {}
	}
	if grace <= 0 {
		grace = DefaultStopGrace
	}
	return &Supervisor{progs: progs, report: report, grace: grace, epoch: time.Now()}
}

// Start starts every program, in order. A second call does nothing.
func (s *Supervisor) Start() {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.started || s.stopping {
		return
	}
	s.started = true
	for i, p := range s.progs {
		c := &child{stop: make(chan struct{}), done: make(chan struct{})}
		s.children = append(s.children, c)
		go s.keep(i, p, c)
	}
}

// Stop stops the programs in reverse order, each with SIGTERM and up to
// the grace before SIGKILL, waiting for one before the next, as Heartbeat
// does at shutdown. It returns when all have ended; later exits are not
// restarted. Calling it again only waits.
func (s *Supervisor) Stop() {
	s.mu.Lock()
	first := !s.stopping
	s.stopping = true
	children := s.children
	s.mu.Unlock()
	for i := len(children) - 1; i >= 0; i-- {
		if first {
			close(children[i].stop)
		}
		<-children[i].done
	}
}

func (s *Supervisor) now() time.Duration { return time.Since(s.epoch) }

func (s *Supervisor) isStopping() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.stopping
}

// keep runs one program until the policy says to leave it stopped.
func (s *Supervisor) keep(i int, p Program, c *child) {
	defer close(c.done)
	pol := Policy{FailFast: p.FailFast}
	for runs := 0; ; runs++ {
		select {
		case <-c.stop:
			return
		default:
		}
		pol.Started(s.now())
		res, err := childproc.Run(context.Background(), childproc.Spec{
			Path: p.Path, Args: p.Args, Env: p.Env, User: p.User,
			Stop: c.stop, KillGrace: s.grace, MaxOutput: -1,
			OnStart: func(pid int) { s.report(Event{Kind: Started, Index: i, Program: p, Pid: pid, Runs: runs}) },
			OnLine:  func(l childproc.Line) { s.report(Event{Kind: Output, Index: i, Program: p, Line: l}) },
		})
		e := Exit{Code: res.ExitCode, Signal: res.Signal}
		if res.Pid == 0 && err != nil {
			e.StartErr = err
		}
		stopping := errors.Is(err, childproc.ErrStopped) || s.isStopping()
		v := pol.Exited(s.now(), e, stopping)
		s.report(Event{Kind: Exited, Index: i, Program: p, Pid: res.Pid, Exit: e, Verdict: v})
		if v != Restart {
			return
		}
	}
}
