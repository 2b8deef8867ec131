package config

import (
	"fmt"
	"github.com/hasuite/hasuite/internal/tomlpos"
	"net"
	"net/mail"
	"slices"
	"strconv"
	"strings"
	"time"
)

// Notification settings of this suite (Heartbeat 3.0.6 has none of these
// directives and refuses them: keep them out of a real Heartbeat node's
// ha.cf in a mixed cluster).

// Defaults of the notification settings.
const (
	DefaultNotifyTimeout = 10 * time.Second
	DefaultMailInterval  = time.Minute
	DefaultSMTPPort      = 25
)

// EventNames are the events notify hooks and mail report (HA_EVENT), in
// the order the documentation lists them. Reachability changes and check
// results come with ping nodes and checks.
var EventNames = []string{
	"node-dead", "node-up", "link-dead", "link-up",
	"group-starting", "group-active", "group-stopping", "group-stopped", "group-failed",
	"standby", "takeover",
	"fence-started", "fence-ok", "fence-failed",
	"split-brain", "split-brain-healed",
}

// DefaultMailEvents are mailed when mail_events is not set: failover,
// fencing, split brain, failed groups, dead nodes.
var DefaultMailEvents = []string{
	"node-dead", "group-active", "group-failed", "fence-ok", "fence-failed", "split-brain", "split-brain-healed",
}

// NotifyConfig holds the notify hooks and the e-mail alerts.
type NotifyConfig struct {
	// Hooks are the notify, notify_master, notify_backup, notify_fault and
	// notify_stop lines, in order.
	Hooks []HookSpec
	// Timeout bounds one run of a hook (notify_timeout).
	Timeout time.Duration

	// MailTo are the recipients (mail_to); none means no mail.
	MailTo []string
	// MailFrom is the sender (mail_from); "" means heartbeat@<node>.
	MailFrom string
	// SMTPServer is host:port (smtp_server), "" when not set (then
	// localhost:25).
	SMTPServer string
	// MailEvents are the events mailed (mail_events).
	MailEvents []string
	// SMTPAuth is the file (mode 0600) holding "user password" for SMTP
	// authentication (smtp_auth); "" means none.
	SMTPAuth string
	// MailInterval is the least time between two mails; events in between
	// are folded into the next one (mail_interval).
	MailInterval time.Duration
}

// HookSpec is one notify hook line.
type HookSpec struct {
	// When is "" for notify (every event) or the keepalived state the
	// hook is for: master, backup, fault or stop.
	When string
	// Argv is the program (an absolute path) and its arguments.
	Argv []string
	Pos
}

// Name is the hook's directive.
func (h HookSpec) Name() string {
	if h.When == "" {
		return "notify"
	}
	return "notify_" + h.When
}

func (h HookSpec) String() string { return h.Name() + " " + strings.Join(h.Argv, " ") }

// SMTPAddr is the server to send mail to.
func (n NotifyConfig) SMTPAddr() string {
	if n.SMTPServer == "" {
		return "localhost:" + strconv.Itoa(DefaultSMTPPort)
	}
	return n.SMTPServer
}

func defaultNotify() NotifyConfig {
	return NotifyConfig{Timeout: DefaultNotifyTimeout, MailInterval: DefaultMailInterval,
		MailEvents: slices.Clone(DefaultMailEvents)}
}

func init() {
	for name, d := range notifyDirectives {
		directives[name] = d
	}
}

var notifyDirectives = map[string]directive{
	"notify":         {apply: hookSetter(""), wholeLine: true, repeats: true},
	"notify_master":  {apply: hookSetter("master"), wholeLine: true, repeats: true},
	"notify_backup":  {apply: hookSetter("backup"), wholeLine: true, repeats: true},
	"notify_fault":   {apply: hookSetter("fault"), wholeLine: true, repeats: true},
	"notify_stop":    {apply: hookSetter("stop"), wholeLine: true, repeats: true},
	"notify_timeout": {apply: timeSetter(func(c *Config) *time.Duration { return &c.Notify.Timeout }, true), once: true},
	"mail_to":        {apply: (*builder).addMailTo, repeats: true},
	"mail_from":      {apply: (*builder).setMailFrom, once: true},
	"smtp_server":    {apply: (*builder).setSMTPServer, once: true},
	"mail_events":    {apply: (*builder).addMailEvent, repeats: true},
	"smtp_auth":      {apply: (*builder).setSMTPAuth, once: true},
	"mail_interval":  {apply: timeSetter(func(c *Config) *time.Duration { return &c.Notify.MailInterval }, true), once: true},
}

// hookSetter is "notify[_state] <absolute program> [args...]". The program
// must exist and be executable by its owner: a hook that cannot run is an
// error now, not a silent failure at the first failover.
func hookSetter(when string) func(*builder, Pos, string, string) {
	return func(b *builder, pos Pos, name, rest string) {
		argv := fields(rest)
		if err := checkHookArgv(argv); err != nil {
			b.errorf(pos, "%s: %v", name, err)
			return
		}
		b.c.Notify.Hooks = append(b.c.Notify.Hooks, HookSpec{When: when, Argv: argv, Pos: pos})
	}
}

func checkHookArgv(argv []string) error {
	if len(argv) == 0 {
		return fmt.Errorf("want <absolute path of a program> [arguments]")
	}
	if err := checkAbsPath("program", argv[0]); err != nil {
		return err
	}
	for _, a := range argv[1:] {
		if strings.ContainsFunc(a, func(r rune) bool { return r < 0x20 || r == 0x7f }) {
			return fmt.Errorf("argument %q holds a control character", a)
		}
	}
	// Whether the program exists and is executable is a fact of the
	// machine that runs the daemon, checked there (heartbeat -t, start),
	// not of the file: ha.cf parses the same anywhere (hactl export).
	return nil
}

// parseMailAddr accepts one bare address (user@domain), as net/mail
// parses it; display names are not allowed (they would need quoting in
// ha.cf).
func parseMailAddr(v string) (string, error) {
	a, err := mail.ParseAddress(v)
	if err != nil {
		return "", fmt.Errorf("%q is not a mail address: %v", v, err)
	}
	if a.Name != "" || a.Address != v {
		return "", fmt.Errorf("%q: write the bare address, e.g. %s", v, a.Address)
	}
	if !strings.Contains(a.Address, "@") {
		return "", fmt.Errorf("%q is not a mail address: no @domain", v)
	}
	return a.Address, nil
}

func (b *builder) addMailTo(pos Pos, name, v string) {
	a, err := parseMailAddr(v)
	if err != nil {
		b.errorf(pos, "%s: %v", name, err)
		return
	}
	if !slices.Contains(b.c.Notify.MailTo, a) {
		b.c.Notify.MailTo = append(b.c.Notify.MailTo, a)
	}
}

func (b *builder) setMailFrom(pos Pos, name, v string) {
	a, err := parseMailAddr(v)
	if err != nil {
		b.errorf(pos, "%s: %v", name, err)
		return
	}
	b.c.Notify.MailFrom = a
}

// parseSMTPServer is host[:port]; an IPv6 address with a port is
// [addr]:port. It returns host:port.
func parseSMTPServer(v string) (string, error) {
	host, port := v, strconv.Itoa(DefaultSMTPPort)
	if h, p, err := net.SplitHostPort(v); err == nil {
		host, port = h, p
	} else if strings.Count(v, ":") == 1 {
		return "", fmt.Errorf("%q: want host[:port]", v)
	}
	host = strings.TrimSuffix(strings.TrimPrefix(host, "["), "]")
	if _, err := parseInt(port, 1, 65535); err != nil {
		return "", fmt.Errorf("%q: port: %v", v, err)
	}
	if err := checkHost(host); err != nil {
		return "", fmt.Errorf("%q: %v", v, err)
	}
	return net.JoinHostPort(host, port), nil
}

func (b *builder) setSMTPServer(pos Pos, name, v string) {
	s, err := parseSMTPServer(v)
	if err != nil {
		b.errorf(pos, "%s: %v", name, err)
		return
	}
	b.c.Notify.SMTPServer = s
}

// addMailEvent takes event names, or "all".
func (b *builder) addMailEvent(pos Pos, name, v string) {
	w := strings.ToLower(v)
	var add []string
	switch {
	case w == "all":
		add = EventNames
	case slices.Contains(EventNames, w):
		add = []string{w}
	default:
		b.errorf(pos, "%s: unknown event %q (want all or some of %s)", name, v, strings.Join(EventNames, ", "))
		return
	}
	if _, set := b.c.Set["mail_events"]; !set {
		b.c.Notify.MailEvents = nil // the first mail_events replaces the default
	}
	for _, e := range add {
		if !slices.Contains(b.c.Notify.MailEvents, e) {
			b.c.Notify.MailEvents = append(b.c.Notify.MailEvents, e)
		}
	}
}

// setSMTPAuth names the credentials file (an absolute path). Its content
// is read by the mail sender, never kept in the configuration or printed.
func (b *builder) setSMTPAuth(pos Pos, name, v string) {
	if err := checkAbsPath("credentials file", v); err != nil {
		b.errorf(pos, "%s: %v", name, err)
		return
	}
	// The file itself (present, regular, 0600, one "user password" line)
	// is checked on the machine that runs the daemon (heartbeat -t, start).
	b.c.Notify.SMTPAuth = v
}

// finishNotify checks what depends on several notification directives.
func (b *builder) finishNotify() {
	n := &b.c.Notify
	if len(n.MailTo) > 0 {
		return
	}
	// mail_from, smtp_server and smtp_auth also serve MailTo resources.
	for _, d := range []string{"mail_events", "mail_interval"} {
		if p, ok := b.c.Set[d]; ok {
			b.warnf(p, "%s has no effect without mail_to (no event is mailed)", d)
		}
	}
}

// notifySettings adds the notification settings to Settings (and so to
// Effective and hactl check --json).
func (c *Config) notifySettings(line, optional func(name, value string), verbatim func(text, note string)) {
	n := c.Notify
	for _, h := range n.Hooks {
		verbatim(h.String(), "")
	}
	line("notify_timeout", formatMillis(n.Timeout))
	if len(n.MailTo) == 0 {
		optional("mail_to", "")
	}
	for _, a := range n.MailTo {
		verbatim("mail_to "+a, "")
	}
	optional("mail_from", n.MailFrom)
	optional("smtp_server", n.SMTPServer)
	line("mail_events", strings.Join(n.MailEvents, " "))
	optional("smtp_auth", n.SMTPAuth)
	line("mail_interval", formatMillis(n.MailInterval))
}

// tomlNotify is the notification part of ha.toml (embedded in tomlDoc).
// Hooks are command lines, as in ha.cf ("/usr/local/bin/hook arg"), one
// string or an array of them; mail_to and mail_events a string or an array.
type tomlNotify struct {
	Notify        tomlValue `toml:"notify"`
	NotifyMaster  tomlValue `toml:"notify_master"`
	NotifyBackup  tomlValue `toml:"notify_backup"`
	NotifyFault   tomlValue `toml:"notify_fault"`
	NotifyStop    tomlValue `toml:"notify_stop"`
	NotifyTimeout tomlValue `toml:"notify_timeout"`
	MailTo        tomlValue `toml:"mail_to"`
	MailFrom      tomlValue `toml:"mail_from"`
	SMTPServer    tomlValue `toml:"smtp_server"`
	MailEvents    tomlValue `toml:"mail_events"`
	SMTPAuth      tomlValue `toml:"smtp_auth"`
	MailInterval  tomlValue `toml:"mail_interval"`
}

// notify maps the notification keys onto their ha.cf directives.
func (t *tomlApply) notify(d *tomlNotify) {
	for _, o := range []struct {
		name string
		v    tomlValue
	}{
		{"notify", d.Notify}, {"notify_master", d.NotifyMaster}, {"notify_backup", d.NotifyBackup},
		{"notify_fault", d.NotifyFault}, {"notify_stop", d.NotifyStop},
	} {
		if !o.v.set {
			continue
		}
		for _, line := range t.stringList(o.name, o.v) {
			t.b.option(o.name, t.pos(o.name), []string{strings.Trim(line, hbWhitespace)})
		}
	}
	for _, o := range []struct {
		name string
		v    tomlValue
		kind valueKind
	}{
		{"notify_timeout", d.NotifyTimeout, kindTime}, {"mail_from", d.MailFrom, kindString},
		{"smtp_server", d.SMTPServer, kindString}, {"smtp_auth", d.SMTPAuth, kindString},
		{"mail_interval", d.MailInterval, kindTime},
	} {
		if !o.v.set {
			continue
		}
		if w, ok := t.word(o.name, o.v, o.kind); ok {
			t.b.option(o.name, t.pos(o.name), []string{w})
		}
	}
	for _, o := range []struct {
		name string
		v    tomlValue
	}{{"mail_to", d.MailTo}, {"mail_events", d.MailEvents}} {
		if !o.v.set {
			continue
		}
		var words []string
		for i, s := range t.stringList(o.name, o.v) {
			if w, ok := t.word(fmt.Sprintf("%s[%d]", o.name, i), tomlValue{s, true}, kindString); ok {
				words = append(words, w)
			}
		}
		if len(words) > 0 {
			t.b.option(o.name, t.pos(o.name), words)
		}
	}
}

// stringList reads one one-line string or a non-empty array of them.
func (t *tomlApply) stringList(path string, v tomlValue) []string {
	var list []any
	switch x := v.v.(type) {
	case string:
		list = []any{x}
	case []any:
		list = x
	}
	if len(list) == 0 {
		t.b.errorf(t.pos(path), "%s: want a string or a non-empty array of strings, got %s", path, tomlpos.TypeName(v.v))
		return nil
	}
	out := make([]string, 0, len(list))
	for i, x := range list {
		s, ok := x.(string)
		if !ok || s == "" || strings.ContainsFunc(s, func(r rune) bool { return r < 0x20 && r != '\t' || r == 0x7f }) {
			t.b.errorf(t.pos(path), "%s[%d]: want a non-empty one-line string, got %s", path, i, tomlpos.TypeName(x))
			return nil
		}
		out = append(out, s)
	}
	return out
}
