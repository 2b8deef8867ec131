package daemon

import (
	"bytes"
	"errors"
	"log/syslog"
	"net"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/hasuite/hasuite/heartbeat/config"
)

// syslogServer is a syslog daemon's socket: a unixgram socket bound at a
// path, read by the test.
type syslogServer struct {
	t    *testing.T
	conn *net.UnixConn
	path string
}

func listenSyslog(t *testing.T, path string) *syslogServer {
	t.Helper()
	c, err := net.ListenUnixgram("unixgram", &net.UnixAddr{Name: path, Net: "unixgram"})
	if err != nil {
		t.Fatal(err)
	}
	s := &syslogServer{t: t, conn: c, path: path}
	t.Cleanup(s.stop)
	return s
}

// stop closes the socket and removes its path, as a syslog daemon that
// stops does.
func (s *syslogServer) stop() {
	if s.conn != nil {
		s.conn.Close()
		os.Remove(s.path)
		s.conn = nil
	}
}

// read returns the next message, failing the test after a second.
func (s *syslogServer) read() string {
	s.t.Helper()
	buf := make([]byte, 4096)
	if err := s.conn.SetReadDeadline(time.Now().Add(time.Second)); err != nil {
		s.t.Fatal(err)
	}
	n, err := s.conn.Read(buf)
	if err != nil {
		s.t.Fatalf("syslog server: %v", err)
	}
	return string(buf[:n])
}

// none checks that no message is waiting.
func (s *syslogServer) none() {
	s.t.Helper()
	buf := make([]byte, 4096)
	if err := s.conn.SetReadDeadline(time.Now().Add(20 * time.Millisecond)); err != nil {
		s.t.Fatal(err)
	}
	if n, err := s.conn.Read(buf); err == nil {
		s.t.Errorf("syslog server got an unexpected message %q", buf[:n])
	}
}

// outages records the writer's onDown and onUp calls.
type outages struct {
	downs []error
	ups   []int // lines lost, per resumption
}

func (o *outages) watch(w *syslogWriter) {
	w.onDown = func(err error) { o.downs = append(o.downs, err) }
	w.onUp = func(_ time.Duration, lost int) { o.ups = append(o.ups, lost) }
}

// TestSyslogWriterSurvivesAMissingOrRestartedSyslog drives the writer
// through the states of a syslog daemon: absent at start, started, stopped,
// started again. Each step writes some lines and says how many the server
// must get, and how many outages and resumptions have been reported so far.
func TestSyslogWriterSurvivesAMissingOrRestartedSyslog(t *testing.T) {
	path := filepath.Join(t.TempDir(), "log")
	w := newSyslogWriter(path, syslog.LOG_LOCAL0|syslog.LOG_INFO, "heartbeat")
	defer w.Close()
	var o outages
	o.watch(w)
	var srv *syslogServer

	steps := []struct {
		name      string
		syslog    string // "start", "stop" or "" before the lines
		lines     int
		delivered bool
		downs     int
		ups       []int
	}{
		{"absent at start: lines lost, one outage reported", "", 3, false, 1, nil},
		{"still absent: no second report", "", 2, false, 1, nil},
		{"started: the next line is delivered, 5 reported lost", "start", 2, true, 1, []int{5}},
		{"stopped: a new outage", "stop", 4, false, 2, []int{5}},
		{"started again", "start", 1, true, 2, []int{5, 4}},
	}
	for _, st := range steps {
		switch st.syslog {
		case "start":
			srv = listenSyslog(t, path)
		case "stop":
			srv.stop()
		}
		for i := 0; i < st.lines; i++ {
			n, err := w.Write([]byte("INFO line " + st.name + "\n"))
			if st.delivered != (err == nil) {
				t.Fatalf("%s: Write = %d, %v; want delivered=%v", st.name, n, err, st.delivered)
			}
			if st.delivered {
				got := srv.read()
				if i == 0 && len(st.ups) > 0 {
					lost := st.ups[len(st.ups)-1]
					if want := `"lines_not_delivered": ` + strconv.Itoa(lost) + "}\n"; !strings.Contains(got, "WARN syslog available again {") || !strings.HasSuffix(got, want) {
						t.Errorf("%s: first message after the outage = %q, want syslog available again ... %q", st.name, got, want)
					}
					got = srv.read()
				}
				if want := "heartbeat[" + strconv.Itoa(os.Getpid()) + "]: INFO line " + st.name + "\n"; !strings.HasPrefix(got, "<134>") || !strings.HasSuffix(got, want) {
					t.Errorf("%s: server got %q, want <134>TIMESTAMP %q", st.name, got, want)
				}
			}
		}
		if len(o.downs) != st.downs || !slices.Equal(o.ups, st.ups) {
			t.Errorf("%s: %d outages reported, resumptions %v; want %d, %v", st.name, len(o.downs), o.ups, st.downs, st.ups)
		}
	}
	if len(o.downs) > 0 && !errors.Is(o.downs[0], os.ErrNotExist) && !strings.Contains(o.downs[0].Error(), "no such file") {
		t.Errorf("first outage error = %v, want the missing socket", o.downs[0])
	}
	srv.none()

	// Closed: nothing is sent, and no outage is reported for it.
	w.Close()
	if _, err := w.Write([]byte("after close\n")); !errors.Is(err, errSyslogClosed) {
		t.Errorf("Write after Close = %v, want errSyslogClosed", err)
	}
	srv.none()
	if len(o.downs) != 2 {
		t.Errorf("Close reported as an outage: %v", o.downs)
	}
}

// TestSyslogWriterCloseUnblocksAStuckWrite fills a server's queue that
// nobody reads: the next Write blocks (as on a busy syslog), and Close
// from another goroutine must end it.
func TestSyslogWriterCloseUnblocksAStuckWrite(t *testing.T) {
	path := filepath.Join(t.TempDir(), "log")
	listenSyslog(t, path)
	w := newSyslogWriter(path, syslog.LOG_DAEMON|syslog.LOG_INFO, "heartbeat")
	line := bytes.Repeat([]byte("x"), 1000)
	done := make(chan struct{})
	go func() {
		defer close(done)
		for i := 0; i < 100000; i++ {
			if _, err := w.Write(line); err != nil {
				return
			}
		}
	}()
	select {
	case <-done:
		t.Fatal("100000 lines went into a socket nobody reads")
	case <-time.After(300 * time.Millisecond):
	}
	w.Close()
	select {
	case <-done:
	case <-time.After(5 * time.Second):
		t.Fatal("Close did not end a Write blocked on a full socket")
	}
}

// lockedBuffer is a bytes.Buffer safe for the writer goroutines.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// TestLoggerStartsWithoutSyslog is the daemon's logger with logfacility
// local0 and a logfile, and no syslog socket: it must be created, say
// once on stderr and in the logfile that syslog is unavailable, and
// deliver to syslog once a server listens, saying so.
func TestLoggerStartsWithoutSyslog(t *testing.T) {
	dir := t.TempDir()
	sock := filepath.Join(dir, "log")
	old := syslogPath
	syslogPath = sock
	defer func() { syslogPath = old }()

	logfile := filepath.Join(dir, "ha-log")
	var stderr lockedBuffer
	ls, err := newLogger(&config.Config{LogFacility: "local0", LogFile: logfile}, 0, &stderr)
	if err != nil {
		t.Fatalf("newLogger with logfacility and no syslog = %v", err)
	}
	defer ls.Close()
	for i := 0; i < 3; i++ {
		ls.log.Info("while syslog is absent")
	}
	ls.flush()
	waitContains(t, "stderr", stderr.String, "syslog unavailable (logfacility local0, "+sock+")")
	waitContains(t, "logfile", fileText(logfile), "syslog unavailable")
	if n := strings.Count(stderr.String(), "syslog unavailable"); n != 1 {
		t.Errorf("stderr says %d times that syslog is unavailable, want once:\n%s", n, stderr.String())
	}
	if n := strings.Count(fileText(logfile)(), "syslog unavailable"); n != 1 {
		t.Errorf("logfile says %d times that syslog is unavailable, want once", n)
	}

	srv := listenSyslog(t, sock)
	ls.log.Info("syslog is back")
	if got := srv.read(); !strings.Contains(got, "WARN syslog available again") || !strings.Contains(got, `"lines_not_delivered": 3}`) {
		t.Errorf("first line to syslog = %q, want the resumption with the count of the 3 lines", got)
	}
	if got := srv.read(); !strings.Contains(got, "INFO syslog is back") {
		t.Errorf("second line to syslog = %q, want the line logged", got)
	}
	srv.none()
	waitContains(t, "stderr", stderr.String, "syslog available again (logfacility local0)")
	waitContains(t, "logfile", fileText(logfile), "syslog available again")
}

func waitContains(t *testing.T, what string, get func() string, want string) {
	t.Helper()
	deadline := time.Now().Add(2 * time.Second)
	for !strings.Contains(get(), want) {
		if time.Now().After(deadline) {
			t.Fatalf("%s lacks %q:\n%s", what, want, get())
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func fileText(p string) func() string {
	return func() string { b, _ := os.ReadFile(p); return string(b) }
}
