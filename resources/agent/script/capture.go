package script

import (
	"bufio"
	"errors"
	"io"
	"strings"
	"sync"

	"github.com/hasuite/hasuite/resources/agent"
)

// Output bounds: memory per operation stays a few tens of kilobytes however
// much a program writes.
const (
	maxTailLines = 50   // lines kept for error messages
	maxLineLen   = 4096 // longer lines are cut (the status rule still sees all bytes)
)

// capture logs an operation's output line by line and keeps its last lines.
// Both pipe readers share it; mu also serialises calls of the Logger.
type capture struct {
	mu     sync.Mutex
	log    agent.Logger
	name   string
	op     string
	tail   []string
	status *statusGlob
}

func newCapture(log agent.Logger, name, op string, matchStatus bool) *capture {
	c := &capture{log: log, name: name, op: op}
	if matchStatus {
		c.status = &statusGlob{}
	}
	return c
}

// read consumes r to end of file, then closes it. match feeds the bytes to
// the status rule (stdout only, as Heartbeat's backquotes).
func (c *capture) read(r io.ReadCloser, prefix string, match bool) {
	defer r.Close()
	br := bufio.NewReaderSize(r, maxLineLen)
	line := make([]byte, 0, 256)
	truncated := false
	for {
		chunk, err := br.ReadSlice('\n')
		if match && len(chunk) > 0 {
			c.mu.Lock()
			c.status.feed(chunk)
			c.mu.Unlock()
		}
		if room := maxLineLen - len(line); len(chunk) > room {
			line = append(line, chunk[:room]...)
			truncated = true
		} else {
			line = append(line, chunk...)
		}
		complete := len(chunk) > 0 && chunk[len(chunk)-1] == '\n'
		more := err == nil || errors.Is(err, bufio.ErrBufferFull)
		if complete || (!more && (len(line) > 0 || truncated)) {
			c.emit(prefix, line, truncated)
			line, truncated = line[:0], false
		}
		if !more {
			return
		}
	}
}

func (c *capture) emit(prefix string, line []byte, truncated bool) {
	s := strings.TrimRight(string(line), "\r\n")
	s = strings.ToValidUTF8(s, "\uFFFD")
	if truncated {
		s += " [line truncated]"
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if len(c.tail) == maxTailLines {
		copy(c.tail, c.tail[1:])
		c.tail = c.tail[:maxTailLines-1]
	}
	c.tail = append(c.tail, prefix+s)
	c.log(c.name, c.op+": "+prefix+s)
}

// lines returns a copy of the kept lines.
func (c *capture) lines() []string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]string(nil), c.tail...)
}

func (c *capture) statusRunning() bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.status.running()
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
