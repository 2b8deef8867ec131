package mail

import (
	"bufio"
	"io"
	"mime/quotedprintable"
	"net"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/hasuite/hasuite/heartbeat/notify"
)

// smtpServer is a scripted SMTP server on loopback. mode says how it
// misbehaves: "" accepts, "refuse-sender" answers 550 to MAIL FROM,
// "drop-data" closes the connection in the middle of DATA, "slow" waits
// before its greeting.
type smtpServer struct {
	ln   net.Listener
	mu   sync.Mutex
	mode string
	got  []string // the DATA of each accepted message
	seen int      // connections
}

func newSMTPServer(t *testing.T, mode string) *smtpServer {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	s := &smtpServer{ln: ln, mode: mode}
	t.Cleanup(func() { ln.Close() })
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go s.serve(c)
		}
	}()
	return s
}

func (s *smtpServer) setMode(m string) { s.mu.Lock(); s.mode = m; s.mu.Unlock() }

func (s *smtpServer) messages() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]string(nil), s.got...)
}

func (s *smtpServer) serve(c net.Conn) {
	defer c.Close()
	s.mu.Lock()
	mode := s.mode
	s.seen++
	s.mu.Unlock()
	if mode == "slow" {
		time.Sleep(2 * time.Second)
	}
	r := bufio.NewReader(c)
	say := func(l string) { c.Write([]byte(l + "\r\n")) }
	say("220 test ESMTP")
	for {
		line, err := r.ReadString('\n')
		if err != nil {
			return
		}
		cmd := strings.ToUpper(strings.TrimSpace(line))
		switch {
		case strings.HasPrefix(cmd, "EHLO"), strings.HasPrefix(cmd, "HELO"):
			say("250-test")
			say("250 8BITMIME")
		case strings.HasPrefix(cmd, "MAIL FROM"):
			if mode == "refuse-sender" {
				say("550 5.7.1 sender refused")
				continue
			}
			say("250 ok")
		case strings.HasPrefix(cmd, "RCPT TO"):
			say("250 ok")
		case cmd == "DATA":
			say("354 go ahead")
			var b strings.Builder
			for {
				l, err := r.ReadString('\n')
				if err != nil {
					return
				}
				if mode == "drop-data" {
					return // the connection drops mid-message
				}
				if l == ".\r\n" {
					break
				}
				b.WriteString(l)
			}
			s.mu.Lock()
			s.got = append(s.got, b.String())
			s.mu.Unlock()
			say("250 queued")
		case cmd == "RSET", cmd == "NOOP":
			say("250 ok")
		case cmd == "QUIT":
			say("221 bye")
			return
		default:
			say("502 not implemented")
		}
	}
}

// decodeQP decodes a quoted-printable message (go-mail's default body
// encoding), headers included (they have no escapes).
func decodeQP(t *testing.T, s string) string {
	t.Helper()
	b, err := io.ReadAll(quotedprintable.NewReader(strings.NewReader(s)))
	if err != nil {
		t.Fatalf("%v in %q", err, s)
	}
	return strings.ReplaceAll(string(b), "\r\n", "\n")
}

func waitUntil(t *testing.T, d time.Duration, what string, cond func() bool) {
	t.Helper()
	end := time.Now().Add(d)
	for !cond() {
		if time.Now().After(end) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func newMailer(t *testing.T, server string) *Mailer {
	m, err := New(Config{To: []string{"ops@example.com"}, Events: []string{"group-active", "node-dead"},
		Interval: time.Second, Node: "node1", Server: server})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { m.Close(time.Second) })
	return m
}

// A failover mail reaches a real SMTP conversation; events not in
// mail_events are not mailed; Notify never blocks.
func TestMailerDelivers(t *testing.T) {
	s := newSMTPServer(t, "")
	m := newMailer(t, s.ln.Addr().String())
	start := time.Now()
	m.Notify(notify.Event{Name: "link-dead", Node: "node2", Time: time.Now()})
	m.Notify(notify.Event{Name: "node-dead", Node: "node2", Reason: "timeout", Time: time.Now()})
	m.Notify(notify.Event{Name: "group-active", Node: "node1", Group: "198.18.0.100", State: "MASTER", Time: time.Now()})
	if took := time.Since(start); took > 50*time.Millisecond {
		t.Errorf("Notify blocked %v", took)
	}
	waitUntil(t, 10*time.Second, "the mail", func() bool { return len(s.messages()) == 1 })
	got := decodeQP(t, s.messages()[0])
	for _, w := range []string{"Subject: [hasuite] node1: node-dead node2 (+1 more)", "From: <heartbeat@node1>", "To: <ops@example.com>",
		"node-dead  node=node2  reason=timeout", "group-active  node=node1  group=198.18.0.100  state=MASTER"} {
		if !strings.Contains(got, w) {
			t.Errorf("mail lacks %q:\n%s", w, got)
		}
	}
	if strings.Contains(got, "link-dead") {
		t.Error("link-dead mailed although not in mail_events")
	}
	// The server has the message before the client has ended the session.
	waitUntil(t, 5*time.Second, "the sent count", func() bool { return m.Sent() == 1 })
	if m.Failures() != 0 {
		t.Errorf("failures %d", m.Failures())
	}
}

// A server that is down, refuses the sender, or drops the connection in
// the middle of the message: the mail is retried (failures counted) and
// delivered once the server behaves.
func TestMailerRetriesUntilDelivered(t *testing.T) {
	for _, mode := range []string{"down", "refuse-sender", "drop-data"} {
		t.Run(mode, func(t *testing.T) {
			var s *smtpServer
			var addr string
			if mode == "down" {
				ln, err := net.Listen("tcp", "127.0.0.1:0")
				if err != nil {
					t.Fatal(err)
				}
				addr = ln.Addr().String()
				ln.Close() // nothing listens: connection refused
			} else {
				s = newSMTPServer(t, mode)
				addr = s.ln.Addr().String()
			}
			m := newMailer(t, addr)
			m.Queue(Message{To: []string{"ops@example.com"}, Subject: "MailTo test", Body: "x"})
			waitUntil(t, 10*time.Second, "two failures", func() bool { return m.Failures() >= 2 })
			if mode == "down" {
				ln, err := net.Listen("tcp", addr)
				if err != nil {
					t.Skipf("cannot listen on %s again: %v", addr, err)
				}
				s = &smtpServer{ln: ln}
				t.Cleanup(func() { ln.Close() })
				go func() {
					for {
						c, err := ln.Accept()
						if err != nil {
							return
						}
						go s.serve(c)
					}
				}()
			} else {
				s.setMode("")
			}
			// The next try comes after the backoff of the failures so
			// far (on a loaded machine the wait above may have seen more
			// than two): wait that long, and then some.
			waitUntil(t, backoff(int(m.Failures())+1)+15*time.Second, "delivery", func() bool { return len(s.messages()) == 1 && m.Sent() == 1 })
			if !strings.Contains(s.messages()[0], "Subject: MailTo test") {
				t.Errorf("%s", s.messages()[0])
			}
		})
	}
}

// A slow server delays only the mailer: Notify and Queue return at once.
func TestSlowServerDoesNotBlock(t *testing.T) {
	s := newSMTPServer(t, "slow")
	m := newMailer(t, s.ln.Addr().String())
	m.Queue(Message{To: []string{"a@example.com"}, Subject: "one"})
	time.Sleep(100 * time.Millisecond)
	start := time.Now()
	for range 2000 {
		m.Notify(notify.Event{Name: "node-dead", Node: "node2", Time: time.Now()})
	}
	if took := time.Since(start); took > 200*time.Millisecond {
		t.Errorf("Notify took %v with the server slow", took)
	}
	waitUntil(t, 15*time.Second, "both mails", func() bool { return len(s.messages()) == 2 })
	if m.Dropped() != 2000-1024 && m.Dropped() != 0 {
		t.Logf("dropped %d", m.Dropped())
	}
}

func TestLoadAuth(t *testing.T) {
	dir := t.TempDir()
	good := filepath.Join(dir, "good")
	os.WriteFile(good, []byte("# comment\n\nalice s3cret with spaces\n"), 0o600)
	u, p, err := LoadAuth(good)
	if err != nil || u != "alice" || p != "s3cret with spaces" {
		t.Fatalf("%q %q %v", u, p, err)
	}
	open := filepath.Join(dir, "open")
	os.WriteFile(open, []byte("alice s3cret\n"), 0o644)
	os.Chmod(open, 0o644)
	one := filepath.Join(dir, "one")
	os.WriteFile(one, []byte("s3cret\n"), 0o600)
	for _, f := range []string{open, one, filepath.Join(dir, "none")} {
		_, _, err := LoadAuth(f)
		if err == nil || strings.Contains(err.Error(), "s3cret") {
			t.Errorf("%s: %v", f, err)
		}
	}
	// With credentials, TLS is mandatory: a server without STARTTLS is
	// never given the password.
	s := newSMTPServer(t, "")
	m, err := New(Config{To: []string{"ops@example.com"}, Events: []string{"node-dead"}, Node: "node1",
		Server: s.ln.Addr().String(), AuthFile: good})
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close(time.Second)
	m.Queue(Message{To: []string{"ops@example.com"}, Subject: "x"})
	waitUntil(t, 10*time.Second, "a failure", func() bool { return m.Failures() >= 1 })
	if len(s.messages()) != 0 {
		t.Fatal("sent without TLS while authenticating")
	}
}
