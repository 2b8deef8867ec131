package daemon

import (
	"errors"
	"fmt"
	"os"
	"time"

	"go.uber.org/zap"

	"github.com/hasuite/hasuite/heartbeat/config"
	"github.com/hasuite/hasuite/heartbeat/mail"
	"github.com/hasuite/hasuite/heartbeat/node"
	"github.com/hasuite/hasuite/heartbeat/notify"
	"github.com/hasuite/hasuite/resources/haresources"
)

// closeWait bounds how long the daemon's exit waits for hooks and mails
// still queued (the last group-stopped STOP events, a final mail).
const closeWait = 5 * time.Second

// notifiers are the event consumers that reach the outside: notify hooks
// and mail. Each has its own queue and goroutine; publish only queues.
type notifiers struct {
	hooks     *notify.Hooks
	mail      *mail.Mailer
	preferred map[string]string // group -> preferred node
}

// openNotify starts the hooks and the mailer the configuration asks for
// (the mailer also when a MailTo resource needs it).
func (d *Daemon) openNotify(groups []haresources.Group) error {
	cfg := d.cfg
	n := &notifiers{preferred: map[string]string{}}
	for _, g := range groups {
		n.preferred[g.Key] = g.Node
	}
	if len(cfg.Notify.Hooks) > 0 {
		n.hooks = notify.NewHooks(cfg.Notify.Hooks, notify.Options{Timeout: cfg.Notify.Timeout,
			Log: d.log.With(zap.String("from", "notify"))})
	}
	if len(cfg.Notify.MailTo) > 0 || hasMailTo(groups) {
		m, err := mail.New(mail.Config{To: cfg.Notify.MailTo, From: cfg.Notify.MailFrom, Events: cfg.Notify.MailEvents,
			Interval: cfg.Notify.MailInterval, Node: cfg.LocalNode, Server: cfg.Notify.SMTPAddr(),
			AuthFile: cfg.Notify.SMTPAuth, Log: d.log.With(zap.String("from", "mail"))})
		if err != nil {
			n.hooks.Close(0)
			return fmt.Errorf("%w: %v", ErrConfig, err)
		}
		n.mail = m
	}
	d.notify = n
	return nil
}

func (d *Daemon) closeNotify() {
	if d.notify == nil {
		return
	}
	d.notify.hooks.Close(closeWait)
	d.notify.mail.Close(closeWait)
}

// publish hands one node event to the hooks and the mailer. It never
// blocks the loop: both only queue it.
func (d *Daemon) publish(e node.Event) {
	n := d.notify
	if n == nil || (n.hooks == nil && n.mail == nil) {
		return
	}
	ev, ok := notify.FromNode(e, notify.Context{Local: d.cfg.LocalNode, Stopping: d.node.Stopping(),
		Preferred: func(g string) string { return n.preferred[g] }, Time: d.step})
	if !ok {
		return
	}
	n.hooks.Notify(ev)
	n.mail.Notify(ev)
}

// mailOutbox lets MailTo resources queue their mails on the mailer.
type mailOutbox struct{ m *mail.Mailer }

func (o mailOutbox) Queue(to []string, subject, body string) {
	o.m.Queue(mail.Message{To: to, Subject: subject, Body: body})
}

func hasMailTo(groups []haresources.Group) bool {
	for _, g := range groups {
		for _, r := range g.Resources {
			if isMailTo(r) {
				return true
			}
		}
	}
	return false
}

// isMailTo: MailTo::... is run by the native agent (resources/agent/mailto).
func isMailTo(r haresources.Resource) bool {
	return r.Kind == haresources.KindScript && r.Type == "MailTo"
}

// checkNotify reports, for heartbeat -t and at start, what the notify
// settings need from the machine beyond the configuration's own checks:
// smtp_auth's "user password" line.
func checkNotify(cfg *config.Config) (errs []config.Diag) {
	for _, h := range cfg.Notify.Hooks {
		prog := h.Argv[0]
		fi, err := os.Stat(prog)
		switch {
		case err != nil:
			errs = append(errs, config.Diag{Pos: h.Pos, Msg: fmt.Sprintf("%s: program %v", h.Name(), err)})
		case !fi.Mode().IsRegular():
			errs = append(errs, config.Diag{Pos: h.Pos, Msg: fmt.Sprintf("%s: program %s is not a regular file", h.Name(), prog)})
		case fi.Mode().Perm()&0o111 == 0:
			errs = append(errs, config.Diag{Pos: h.Pos, Msg: fmt.Sprintf("%s: program %s is not executable (chmod +x)", h.Name(), prog)})
		}
	}
	if f := cfg.Notify.SMTPAuth; f != "" {
		if _, _, err := mail.LoadAuth(f); err != nil {
			errs = append(errs, config.Diag{Pos: cfg.Set["smtp_auth"], Msg: err.Error()})
		}
	}
	return errs
}

// notifyKey is the notification settings as one comparable text, for
// reload's "needs a restart" report.
func notifyKey(c *config.Config) string {
	n := c.Notify
	var hooks []string
	for _, h := range n.Hooks {
		hooks = append(hooks, h.String())
	}
	return fmt.Sprint(hooks, n.Timeout, n.MailTo, n.MailFrom, n.SMTPServer, n.MailEvents, n.SMTPAuth, n.MailInterval)
}

// notifyMetrics exports the hooks' and the mailer's queue and counters on
// the metrics exporter (read at scrape time from atomics: never the loop).
func (d *Daemon) notifyMetrics() error {
	n, x := d.notify, d.Metrics()
	if n == nil || x == nil {
		return nil
	}
	var errs []error
	if h := n.hooks; h != nil {
		errs = append(errs,
			x.GaugeFunc("notify_queue_depth", "Events waiting for the notify hooks.", func() float64 { return float64(h.Queued()) }),
			x.CounterFunc("notify_dropped_total", "Events dropped on a full notify queue: their hooks did not run.", func() float64 { return float64(h.Dropped()) }),
			x.CounterFunc("notify_runs_total", "Notify hook runs.", func() float64 { return float64(h.Runs()) }),
			x.CounterFunc("notify_failed_total", "Notify hook runs that failed or timed out.", func() float64 { return float64(h.Failed()) }))
	}
	if m := n.mail; m != nil {
		errs = append(errs,
			x.CounterFunc("mail_sent_total", "Mails delivered to the SMTP server.", func() float64 { return float64(m.Sent()) }),
			x.CounterFunc("mail_failures_total", "Failed mail delivery attempts (each is retried).", func() float64 { return float64(m.Failures()) }),
			x.CounterFunc("mail_dropped_total", "Mails dropped on a full mail queue.", func() float64 { return float64(m.Dropped()) }))
	}
	return errors.Join(errs...)
}
