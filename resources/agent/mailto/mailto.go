// Package mailto is the native MailTo agent: haresources'
// MailTo::addr[,addr...][::subject] mails on the group's start and stop,
// as Heartbeat's MailTo script does, without a mail command installed.
// The mail is handed to the daemon's mailer (heartbeat/mail), which
// delivers it through smtp_server with retries: a start or stop never
// waits for the mail server.
package mailto

import (
	"context"
	"fmt"
	"net/mail"
	"strings"
	"sync/atomic"
	"time"
)

// Outbox takes a mail to deliver; it must not block.
type Outbox interface {
	Queue(to []string, subject, body string)
}

// Agent is one MailTo resource.
type Agent struct {
	to      []string
	subject string
	node    string
	out     Outbox
	now     func() time.Time
	running atomic.Bool
}

// New builds the agent from the resource's arguments: the recipients
// (comma-separated, each a bare address, or a user name meaning
// user@localhost as Heartbeat's MailTo::root does) and an optional subject.
func New(args []string, node string, out Outbox) (*Agent, error) {
	if len(args) < 1 || len(args) > 2 {
		return nil, fmt.Errorf("MailTo: want MailTo::address[,address...][::subject], got %d arguments", len(args))
	}
	var to []string
	for _, a := range strings.Split(args[0], ",") {
		a = strings.TrimSpace(a)
		if a != "" && !strings.Contains(a, "@") {
			// MailTo::root, Heartbeat's classic: a local user.
			a += "@localhost"
		}
		p, err := mail.ParseAddress(a)
		if err != nil || p.Address != a {
			return nil, fmt.Errorf("MailTo: %q is not a mail address (user@domain, or a local user name)", strings.TrimSuffix(a, "@localhost"))
		}
		to = append(to, a)
	}
	subject := "Resource Group"
	if len(args) == 2 && strings.TrimSpace(args[1]) != "" {
		subject = args[1]
	}
	return &Agent{to: to, subject: subject, node: node, out: out, now: time.Now}, nil
}

// Start mails "<subject> Takeover in progress at <date> on <node>", the
// words of Heartbeat's MailTo.
func (a *Agent) Start(context.Context) error {
	a.mail(fmt.Sprintf("%s Takeover in progress at %s on %s", a.subject, a.date(), a.node))
	a.running.Store(true)
	return nil
}

// Stop mails "<subject> Migrating resource away at <date> from <node>".
func (a *Agent) Stop(context.Context) error {
	if a.running.Load() {
		a.mail(fmt.Sprintf("%s Migrating resource away at %s from %s", a.subject, a.date(), a.node))
	}
	a.running.Store(false)
	return nil
}

// Status is "running" between a start and a stop (MailTo keeps no other
// state; Heartbeat's keeps a state file for the same purpose).
func (a *Agent) Status(context.Context) (bool, error) { return a.running.Load(), nil }

func (a *Agent) String() string { return "MailTo::" + strings.Join(a.to, ",") }

func (a *Agent) date() string { return a.now().Format(time.UnixDate) }

func (a *Agent) mail(subject string) {
	if a.out != nil {
		a.out.Queue(a.to, subject, subject+"\n")
	}
}
