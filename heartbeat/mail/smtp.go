package mail

import (
	"context"
	"fmt"
	"net"
	"strconv"

	gomail "github.com/wneessen/go-mail"
)

// SMTP delivers through one server with go-mail: STARTTLS when the server
// offers it, and required (with certificate checks) when authenticating,
// so that a password never crosses the network in clear.
type SMTP struct {
	host string
	port int
	opts []gomail.Option
}

// NewSMTP prepares delivery to server (host:port), greeting as helo.
func NewSMTP(server, helo, authFile string) (*SMTP, error) {
	host, p, err := net.SplitHostPort(server)
	if err != nil {
		return nil, fmt.Errorf("smtp_server %q: %w", server, err)
	}
	port, err := strconv.Atoi(p)
	if err != nil {
		return nil, fmt.Errorf("smtp_server %q: bad port", server)
	}
	opts := []gomail.Option{gomail.WithPort(port), gomail.WithTimeout(SendTimeout),
		gomail.WithTLSPolicy(gomail.TLSOpportunistic)}
	if helo != "" {
		opts = append(opts, gomail.WithHELO(helo))
	}
	if authFile != "" {
		user, pass, err := LoadAuth(authFile)
		if err != nil {
			return nil, err
		}
		opts = append(opts, gomail.WithTLSPolicy(gomail.TLSMandatory), gomail.WithSMTPAuth(gomail.SMTPAuthAutoDiscover),
			gomail.WithUsername(user), gomail.WithPassword(pass))
	}
	return &SMTP{host: host, port: port, opts: opts}, nil
}

// Send delivers m in one SMTP session.
func (s *SMTP) Send(ctx context.Context, from string, m Message) error {
	msg := gomail.NewMsg()
	if err := msg.From(from); err != nil {
		return fmt.Errorf("sender %q: %w", from, err)
	}
	if err := msg.To(m.To...); err != nil {
		return fmt.Errorf("recipients: %w", err)
	}
	msg.Subject(m.Subject)
	msg.SetDate()
	msg.SetMessageID()
	msg.SetUserAgent("hasuite heartbeat")
	msg.SetBodyString(gomail.TypeTextPlain, m.Body)
	c, err := gomail.NewClient(s.host, s.opts...)
	if err != nil {
		return fmt.Errorf("smtp %s: %w", net.JoinHostPort(s.host, strconv.Itoa(s.port)), err)
	}
	if err := c.DialAndSendWithContext(ctx, msg); err != nil {
		return fmt.Errorf("smtp %s: %w", net.JoinHostPort(s.host, strconv.Itoa(s.port)), err)
	}
	return nil
}
