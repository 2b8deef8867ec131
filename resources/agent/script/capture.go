package script

import (
	"sync"

	"github.com/hasuite/hasuite/internal/childproc"
	"github.com/hasuite/hasuite/resources/agent"
)

// Output bounds: memory per operation stays a few hundred kilobytes at most
// however much a program writes.
const (
	maxTailLines = 50   // lines kept for error messages
	maxLineLen   = 4096 // longer lines are cut (the status rule still sees all bytes of stdout)
)

// capture logs an operation's output line by line and keeps its last lines
// for error messages. The runner never calls line concurrently, but it may
// call it after the operation has returned (a daemon that kept the pipe),
// while lines is called: mu guards the tail.
type capture struct {
	mu   sync.Mutex
	log  agent.Logger
	name string
	op   string
	tail []string
}

func newCapture(log agent.Logger, name, op string) *capture {
	return &capture{log: log, name: name, op: op}
}

// line is the runner's OnLine.
func (c *capture) line(l childproc.Line) {
	s := l.Text
	if l.Stream == childproc.Stderr {
		s = "stderr: " + s
	}
	if l.Truncated {
		s += " [line truncated]"
	}
	c.mu.Lock()
	if len(c.tail) == maxTailLines {
		copy(c.tail, c.tail[1:])
		c.tail = c.tail[:maxTailLines-1]
	}
	c.tail = append(c.tail, s)
	c.mu.Unlock()
	c.log(c.name, c.op+": "+s)
}

// lines returns a copy of the kept lines.
func (c *capture) lines() []string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]string(nil), c.tail...)
}

// statusGlob applies Heartbeat's status rule (ResourceManager
// we_own_resource) to a stream of bytes without keeping it:
//
//	case `script status` in
//	  *[Nn][Oo][Tt]\ *[Rr]unning*) not running;;
//	  *[Rr]unning*|*OK*)           running;;
//	  *)                           not running;;
//
// A shell "*" matches newlines too, so the words may be on different lines.
type statusGlob struct {
	win        [7]byte // the last bytes seen, len("running")
	n          int
	sawNot     bool // "[Nn][Oo][Tt] " seen
	notRunning bool // "[Rr]unning" seen after it
	sawRunning bool
	sawOK      bool
}

// Write feeds p; it is the runner's StdoutTee.
func (g *statusGlob) Write(p []byte) (int, error) {
	g.feed(p)
	return len(p), nil
}

func (g *statusGlob) feed(p []byte) {
	for _, b := range p {
		if g.n < len(g.win) {
			g.win[g.n] = b
			g.n++
		} else {
			copy(g.win[:], g.win[1:])
			g.win[len(g.win)-1] = b
		}
		w := g.win[:g.n]
		if n := len(w); n >= 4 && w[n-1] == ' ' && oneOf(w[n-4], 'N', 'n') && oneOf(w[n-3], 'O', 'o') && oneOf(w[n-2], 'T', 't') {
			g.sawNot = true
		}
		// "running" holds no blank, so a "not " seen before its last
		// byte ended before its first one.
		if n := len(w); n >= 7 && oneOf(w[n-7], 'R', 'r') && string(w[n-6:]) == "unning" {
			g.sawRunning = true
			if g.sawNot {
				g.notRunning = true
			}
		}
		if n := len(w); n >= 2 && w[n-2] == 'O' && w[n-1] == 'K' {
			g.sawOK = true
		}
	}
}

func (g *statusGlob) running() bool {
	if g == nil || g.notRunning {
		return false
	}
	return g.sawRunning || g.sawOK
}

func oneOf(b, x, y byte) bool { return b == x || b == y }
