package daemon

import (
	"errors"
	"fmt"
	"log/syslog"
	"net"
	"os"
	"strings"
	"sync"
	"time"
)

// DefaultSyslogPath is the local syslog socket (glibc's _PATH_LOG): rsyslog,
// syslog-ng and journald listen there.
const DefaultSyslogPath = "/dev/log"

// errSyslogClosed is returned by a write after Close.
var errSyslogClosed = errors.New("syslog destination closed")

// syslogWriter is the logfacility destination. Unlike log/syslog, whose New
// fails when the socket is absent, it never keeps the daemon from starting:
// Heartbeat's syslog() calls fail silently the same way. When the socket is
// missing or refuses a line (syslog stopped, crashed, restarting, not
// installed), the line is lost, counted, and onDown is called once for the
// outage; each later line tries to connect again (a failed connect to a
// local socket is a few system calls), and once one can be delivered,
// syslog gets a line saying how long it was away and how many lines it
// missed, and onUp is called with the same.
//
// Write is called by one goroutine only, the destination's asyncwrite
// queue, so the connecting and a socket that blocks never touch the event
// loop. Close may be called from another goroutine, also while a Write is
// blocked on a full socket: it closes the connection under it.
type syslogWriter struct {
	path   string
	prio   syslog.Priority
	tag    string
	pid    int
	onDown func(err error)                      // delivery stopped (once per outage)
	onUp   func(outage time.Duration, lost int) // delivery resumed
	now    func() time.Time

	// Touched only by the writing goroutine.
	downSince time.Time // zero while delivering; set with the first failure
	lost      int       // lines not delivered since downSince

	mu     sync.Mutex
	conn   net.Conn
	closed bool
}

func newSyslogWriter(path string, prio syslog.Priority, tag string) *syslogWriter {
	return &syslogWriter{path: path, prio: prio, tag: tag, pid: os.Getpid(), now: time.Now,
		onDown: func(error) {}, onUp: func(time.Duration, int) {}}
}

// Write sends p (one log line) as one message, in log/syslog's local
// format: "<PRI>Mmm dd hh:mm:ss TAG[PID]: MESSAGE\n". The first line
// delivered after an outage is preceded by one saying so.
func (w *syslogWriter) Write(p []byte) (int, error) {
	var err error
	if !w.downSince.IsZero() {
		outage, lost := w.now().Sub(w.downSince), w.lost
		note := fmt.Sprintf("WARN syslog available again {\"unavailable\": %q, \"lines_not_delivered\": %d}\n",
			outage.Round(time.Millisecond).String(), lost)
		if err = w.send(w.format([]byte(note))); err == nil {
			w.downSince, w.lost = time.Time{}, 0
			w.onUp(outage, lost)
		}
	}
	if err == nil {
		if err = w.send(w.format(p)); err == nil {
			return len(p), nil
		}
	}
	if errors.Is(err, errSyslogClosed) {
		return 0, err
	}
	w.lost++
	if w.downSince.IsZero() {
		w.downSince = w.now()
		w.onDown(err)
	}
	return 0, err
}

func (w *syslogWriter) format(p []byte) []byte {
	msg := string(p)
	nl := ""
	if !strings.HasSuffix(msg, "\n") {
		nl = "\n"
	}
	return []byte(fmt.Sprintf("<%d>%s %s[%d]: %s%s", w.prio, w.now().Format(time.Stamp), w.tag, w.pid, msg, nl))
}

// send writes line on the connection, connecting first if there is none;
// a connection that fails (the server restarted: its old socket is gone)
// is replaced once, as log/syslog does.
func (w *syslogWriter) send(line []byte) error {
	var err error
	for try := 0; try < 2; try++ {
		var c net.Conn
		if c, err = w.connection(); err != nil {
			return err
		}
		if _, err = c.Write(line); err == nil {
			return nil
		}
		w.drop(c)
	}
	return err
}

// connection returns the open connection, or dials the socket: a datagram
// socket as every Linux syslog daemon offers, else a stream socket (as
// glibc's syslog and log/syslog try).
func (w *syslogWriter) connection() (net.Conn, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.closed {
		return nil, errSyslogClosed
	}
	if w.conn != nil {
		return w.conn, nil
	}
	var errs []error
	for _, network := range []string{"unixgram", "unix"} {
		c, err := net.Dial(network, w.path)
		if err == nil {
			w.conn = c
			return c, nil
		}
		errs = append(errs, err)
	}
	return nil, errs[0] // the datagram error: the stream one says the same
}

// drop closes c if it is still the connection.
func (w *syslogWriter) drop(c net.Conn) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.conn == c {
		w.conn = nil
	}
	_ = c.Close()
}

// Close closes the connection (unblocking a Write stuck on it); later
// writes fail.
func (w *syslogWriter) Close() error {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.closed = true
	if w.conn != nil {
		err := w.conn.Close()
		w.conn = nil
		return err
	}
	return nil
}
