// Package mail sends the e-mail alerts (ha.cf's mail_to, mail_from,
// smtp_server, mail_events, smtp_auth, mail_interval) and the mails of
// MailTo resources. It is a consumer of notify events: Notify and Queue
// never block; one goroutine folds bursts of events into one mail at most
// once per interval and delivers mails in order with github.com/wneessen/go-mail,
// retrying an unreachable or refusing server with a doubling backoff. A
// lost server never loses a failover: the mails wait (bounded) until it
// answers.
package mail

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"os"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"go.uber.org/zap"

	"github.com/hasuite/hasuite/heartbeat/notify"
)

// SendTimeout bounds one delivery attempt (connect, STARTTLS, auth, data).
const SendTimeout = 30 * time.Second

// Transport delivers one message from from; the SMTP one, or a fake.
type Transport interface {
	Send(ctx context.Context, from string, m Message) error
}

// Config configures a Mailer.
type Config struct {
	To       []string // recipients of event mails; none: events are not mailed
	From     string   // "" means heartbeat@<Node>
	Events   []string // the event names mailed
	Interval time.Duration
	Node     string // the local node, for subjects and the default sender
	Log      *zap.Logger
	// Transport delivers; nil means SMTP to Server.
	Transport Transport
	Server    string // host:port
	AuthFile  string // "user password", mode 0600; "" means no authentication
}

// Mailer owns the outbox on its own goroutine.
type Mailer struct {
	cfg  Config
	in   chan func(now time.Time, o *outbox)
	stop chan struct{}
	done chan struct{}
	once sync.Once

	sent, failures, dropped atomic.Uint64
}

// New starts a mailer. The credentials file, when given, is read now.
func New(c Config) (*Mailer, error) {
	if c.Log == nil {
		c.Log = zap.NewNop()
	}
	if c.From == "" {
		c.From = "heartbeat@" + c.Node
	}
	if c.Interval <= 0 {
		c.Interval = time.Minute
	}
	if c.Transport == nil {
		t, err := NewSMTP(c.Server, c.Node, c.AuthFile)
		if err != nil {
			return nil, err
		}
		c.Transport = t
	}
	m := &Mailer{cfg: c, in: make(chan func(time.Time, *outbox), 1024), stop: make(chan struct{}), done: make(chan struct{})}
	go m.loop()
	return m, nil
}

// Notify mails e (folded with others) if its name is one of Events and
// there are recipients. It never blocks.
func (m *Mailer) Notify(e notify.Event) {
	if m == nil || len(m.cfg.To) == 0 || !slices.Contains(m.cfg.Events, e.Name) {
		return
	}
	m.post(func(now time.Time, o *outbox) { o.addEvent(e, now) })
}

// Queue sends msg as it is (MailTo resources). It never blocks.
func (m *Mailer) Queue(msg Message) {
	if m == nil {
		return
	}
	m.post(func(now time.Time, o *outbox) { o.add(msg, now) })
}

func (m *Mailer) post(f func(time.Time, *outbox)) {
	select {
	case m.in <- f:
	default:
		m.dropped.Add(1)
	}
}

// Sent, Failures and Dropped count delivered mails, failed delivery
// attempts, and events or mails dropped (full queues).
func (m *Mailer) Sent() uint64     { return m.sent.Load() }
func (m *Mailer) Failures() uint64 { return m.failures.Load() }
func (m *Mailer) Dropped() uint64  { return m.dropped.Load() }

// Close stops the mailer after at most wait spent delivering what is due;
// mails not delivered by then are logged as lost.
func (m *Mailer) Close(wait time.Duration) {
	if m == nil {
		return
	}
	m.once.Do(func() {
		close(m.stop)
		select {
		case <-m.done:
		case <-time.After(wait):
		}
	})
}

func (m *Mailer) loop() {
	defer close(m.done)
	o := &outbox{node: m.cfg.Node, to: m.cfg.To, interval: m.cfg.Interval}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	timer := time.NewTimer(time.Hour)
	defer timer.Stop()
	var lastDrop uint64
	for {
		now := time.Now()
		for it := o.due(now); it != nil; it = o.due(now) {
			err := m.deliver(ctx, it)
			now = time.Now()
			o.done(it, err, now)
			if err != nil {
				break
			}
		}
		if d := m.dropped.Load() + o.dropped; d > lastDrop {
			m.cfg.Log.Warn("mail queue full: events or mails dropped", zap.Uint64("dropped_total", d))
			lastDrop = d
		}
		wait := time.Hour
		if n := o.next(); !n.IsZero() {
			wait = max(time.Until(n), 0)
		}
		timer.Reset(wait)
		select {
		case f := <-m.in:
			f(time.Now(), o)
		case <-timer.C:
		case <-m.stop:
			if n := len(o.queue) + len(o.events); n > 0 {
				m.cfg.Log.Warn("stopping with mails not delivered", zap.Int("waiting", n))
			}
			return
		}
	}
}

func (m *Mailer) deliver(ctx context.Context, it *item) error {
	ctx, cancel := context.WithTimeout(ctx, SendTimeout)
	defer cancel()
	err := m.cfg.Transport.Send(ctx, m.cfg.From, it.msg)
	if err != nil {
		m.failures.Add(1)
		m.cfg.Log.Warn("mail not delivered; will retry", zap.String("server", m.cfg.Server),
			zap.String("subject", it.msg.Subject), zap.Int("try", it.tries+1),
			zap.Duration("retry_in", backoff(it.tries+1)), zap.Error(err))
		return err
	}
	m.sent.Add(1)
	m.cfg.Log.Info("mail sent", zap.String("subject", it.msg.Subject), zap.Strings("to", it.msg.To))
	return nil
}

// LoadAuth reads a credentials file: the first line that is neither blank
// nor a comment is "user password" (the password is the rest of the line).
// The file must not be readable by group or others. Errors never quote
// the file's content.
func LoadAuth(path string) (user, password string, err error) {
	f, err := os.Open(path)
	if err != nil {
		return "", "", fmt.Errorf("smtp_auth: %w", err)
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return "", "", fmt.Errorf("smtp_auth %s: %w", path, err)
	}
	if fi.Mode().Perm()&0o077 != 0 {
		return "", "", fmt.Errorf("smtp_auth %s: bad permissions %04o: it holds a password; run chmod 600 %s", path, fi.Mode().Perm(), path)
	}
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		u, p, ok := strings.Cut(line, " ")
		if !ok {
			u, p, ok = strings.Cut(line, "\t")
		}
		p = strings.TrimSpace(p)
		if !ok || u == "" || p == "" {
			return "", "", fmt.Errorf("smtp_auth %s: want one line \"user password\"", path)
		}
		return u, p, nil
	}
	if err := sc.Err(); err != nil {
		return "", "", fmt.Errorf("smtp_auth %s: %w", path, err)
	}
	return "", "", errors.New("smtp_auth " + path + ": no \"user password\" line")
}
