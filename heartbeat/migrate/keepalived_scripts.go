package migrate

import (
	"errors"
	"fmt"
	"net"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/hasuite/hasuite/heartbeat/config"
	"github.com/hasuite/hasuite/internal/diag"
	"github.com/hasuite/hasuite/internal/keepalived"
	"github.com/hasuite/hasuite/resources/haresources"
)

// The scripts, hooks and mail of keepalived: vrrp_script + track_script
// become [[group.check]] tables, notify* scripts ha.cf hooks, smtp_alert
// with global_defs' mail settings ha.cf's mail directives. The import
// writes the programs the keepalived files name; whether they exist and are
// executable is checked by heartbeat -t on the target machine.

// kaScript is one vrrp_script.
type kaScript struct {
	name     string
	pos      diag.Pos
	text     string
	argv     []string
	shell    bool
	interval time.Duration
	timeout  time.Duration
	fall     int
	rise     int
	weight   int
	user     string
	ok       bool // usable for a check
}

// kaTrack is one track_script entry.
type kaTrack struct {
	name      string
	weight    int
	hasWeight bool
	pos       diag.Pos
}

// kaHook is one notify script, already checked to fit an ha.cf line.
type kaHook struct {
	when string // "" for notify, else master, backup, fault, stop
	argv []string
	pos  diag.Pos
}

func (h kaHook) line() string {
	name := "notify"
	if h.when != "" {
		name += "_" + h.when
	}
	return name + " " + strings.Join(h.argv, " ")
}

// kaMail is what global_defs says about mail.
type kaMail struct {
	to      []string
	toPos   diag.Pos
	from    string
	fromPos diag.Pos
	server  string // host:port as ha.cf takes it
	srvPos  diag.Pos
	alert   bool // global_defs smtp_alert / smtp_alert_vrrp
	alertAt diag.Pos
}

// hacfLineError is what our ha.cf parser says about one line, in a
// minimal ha.cf (nil: accepted).
func hacfLineError(line string) error {
	_, err := config.ParseHACF(strings.NewReader("node a b\nbcast eth0\n"+line+"\n"), "ha.cf")
	if err == nil {
		return nil
	}
	msg := err.Error()
	if _, after, ok := strings.Cut(msg, "ha.cf:3: "); ok {
		msg = after
	}
	return errors.New(msg)
}

// scriptUser is keepalived's "user NAME [GROUP]" as a check's user.
func scriptUser(args []string) string {
	switch len(args) {
	case 0:
		return ""
	case 1:
		return args[0]
	}
	return args[0] + ":" + args[1]
}

// vrrpScript reads one vrrp_script block.
func (im *importer) vrrpScript(f *kaFile, n *keepalived.Node) {
	s := &kaScript{name: n.Arg(0), pos: n.Pos, interval: time.Second, fall: 1, rise: 1}
	if s.name == "" {
		im.note(n.Pos, NotMapped, "vrrp_script without a name: ignored")
		return
	}
	if _, dup := f.scripts[s.name]; dup {
		im.note(n.Pos, NotMapped, "vrrp_script %s is defined twice: this one is ignored", s.name)
		return
	}
	f.scripts[s.name] = s
	what := "vrrp_script " + s.name
	for _, c := range n.Children {
		switch c.Key {
		case "script":
			s.text = strings.Join(c.Args, " ")
		case "interval", "timeout":
			d, ok := seconds(c.Arg(0))
			if !ok || d < haresources.MinCheckInterval {
				im.note(c.Pos, NotMapped, "%s %s %s: want seconds, at least 0.01; the default is kept", what, c.Key, c.Arg(0))
				continue
			}
			if c.Key == "interval" {
				s.interval = d
			} else {
				s.timeout = d
			}
		case "fall", "rise":
			v, err := strconv.Atoi(c.Arg(0))
			if err != nil || v < 1 || v > 1000 {
				im.note(c.Pos, NotMapped, "%s %s %s: want 1-1000; 1 kept", what, c.Key, c.Arg(0))
				continue
			}
			if c.Key == "fall" {
				s.fall = v
			} else {
				s.rise = v
			}
		case "weight":
			v, err := strconv.Atoi(c.Arg(0))
			if err != nil || v < -haresources.MaxCheckWeight || v > haresources.MaxCheckWeight {
				im.note(c.Pos, NotMapped, "%s weight %s: want -253..253; 0 kept (a failure makes the node ineligible)", what, c.Arg(0))
				continue
			}
			if slices.Contains(c.Args[1:], "reverse") {
				im.note(c.Pos, NotMapped, "%s weight %d reverse: a reversed weight has no equivalent here; 0 kept (a failure makes the node ineligible)", what, v)
				continue
			}
			s.weight = v
		case "user":
			s.user = scriptUser(c.Args)
		case "init_fail":
			im.note(c.Pos, Mapped, "%s init_fail -> how every check starts here (failed, one success from passing)", what)
		default:
			im.note(c.Pos, NotMapped, "%s %s: no equivalent here; ignored", what, c.Key)
		}
	}
	if s.text == "" {
		im.note(n.Pos, NotMapped, "%s has no script: no check made", what)
		return
	}
	argv, shell, ok := keepalived.SplitCommand(s.text)
	switch {
	case !ok:
		im.note(n.Pos, NotMapped, "%s script %q: unterminated quote or trailing '\\': no check made", what, s.text)
		return
	case len(argv) == 0:
		im.note(n.Pos, NotMapped, "%s has an empty script: no check made", what)
		return
	case shell:
		// Written for a keepalived before 1.3, which ran the text with sh -c.
		argv = []string{"/bin/sh", "-c", s.text}
		im.note(n.Pos, Warning, "%s script %q holds shell syntax: keepalived 1.3 and later pass it to the program as words, older ones ran it with sh -c, "+
			"surely what was meant: the check runs [\"/bin/sh\", \"-c\", ...]", what, s.text)
	case !strings.HasPrefix(argv[0], "/") && strings.Contains(argv[0], "/"):
		im.note(n.Pos, NotMapped, "%s script %q: a relative path; give an absolute path or a bare name (looked up in %s): no check made", what, s.text, strings.Join(haresources.CheckPath, ":"))
		return
	}
	for _, a := range argv {
		if strings.IndexByte(a, 0) >= 0 {
			im.note(n.Pos, NotMapped, "%s script holds a NUL byte: no check made", what)
			return
		}
	}
	s.argv, s.shell, s.ok = argv, shell, true
}

// trackScripts reads a track_script block of an instance or sync group.
func (im *importer) trackScripts(c *keepalived.Node, owner string) []kaTrack {
	var out []kaTrack
	if len(c.Children) == 0 {
		im.note(c.Pos, NotMapped, "track_script in %s names no script", owner)
	}
	for _, s := range c.Children {
		t := kaTrack{name: s.Key, pos: s.Pos}
		args := s.Args
		if len(args) >= 2 && args[0] == "weight" {
			v, err := strconv.Atoi(args[1])
			switch {
			case err != nil || v < -haresources.MaxCheckWeight || v > haresources.MaxCheckWeight:
				im.note(s.Pos, NotMapped, "track_script %s weight %s: want -253..253; the script's weight is kept", s.Key, args[1])
			case slices.Contains(args[2:], "reverse"):
				im.note(s.Pos, NotMapped, "track_script %s weight %d reverse: a reversed weight has no equivalent here; the script's weight is kept", s.Key, v)
			default:
				t.weight, t.hasWeight = v, true
			}
		} else if len(args) > 0 {
			im.note(s.Pos, NotMapped, "track_script %s %s: ignored", s.Key, strings.Join(args, " "))
		}
		out = append(out, t)
	}
	return out
}

// hookOf reads one notify* statement of an instance or sync group; ok is
// false when it is not carried over (said in a note).
func (im *importer) hookOf(f *kaFile, c *keepalived.Node, owner string) (kaHook, bool) {
	h := kaHook{when: strings.TrimPrefix(strings.TrimPrefix(c.Key, "notify"), "_"), pos: c.Pos}
	if len(c.Args) == 0 {
		im.note(c.Pos, NotMapped, "%s in %s names no script", c.Key, owner)
		return h, false
	}
	argv, shell, ok := keepalived.SplitCommand(c.Arg(0))
	switch {
	case !ok:
		im.note(c.Pos, NotMapped, "%s %q in %s: unterminated quote or trailing '\\': left out", c.Key, c.Arg(0), owner)
		return h, false
	case len(argv) == 0:
		im.note(c.Pos, NotMapped, "%s in %s: empty script: left out", c.Key, owner)
		return h, false
	case shell:
		im.note(c.Pos, NotMapped, "%s %q in %s: shell syntax, which a hook line cannot hold (no shell runs it): put it in a script and name that; left out", c.Key, c.Arg(0), owner)
		return h, false
	case !strings.HasPrefix(argv[0], "/"):
		im.note(c.Pos, NotMapped, "%s %q in %s: a hook program must be an absolute path: left out", c.Key, c.Arg(0), owner)
		return h, false
	}
	for _, a := range argv {
		if a == "" || strings.ContainsFunc(a, func(r rune) bool { return r <= ' ' || r == 0x7f || r == '#' || r == ',' && a == argv[0] }) {
			im.note(c.Pos, NotMapped, "%s %q in %s: the word %q cannot be written in ha.cf (a blank, '#' or control character): put the command in a script; left out", c.Key, c.Arg(0), owner, a)
			return h, false
		}
	}
	user := scriptUser(c.Args[1:])
	if user == "" {
		user = f.scriptUser
	}
	if user != "" && user != "root" && !strings.HasPrefix(user, "root:") {
		im.note(c.Pos, NotMapped, "%s %q in %s runs as %s in keepalived; hooks run as the daemon (root) here: left out rather than run as root (wrap it with runuser or setpriv if wanted)", c.Key, c.Arg(0), owner, user)
		return h, false
	}
	h.argv = argv
	return h, true
}

// mailSetting reads one mail statement of global_defs.
func (im *importer) mailSetting(f *kaFile, c *keepalived.Node) {
	switch c.Key {
	case "notification_email":
		if f.mail.toPos.File == "" {
			f.mail.toPos = c.Pos
		}
		for _, a := range c.Children {
			for _, w := range append([]string{a.Key}, a.Args...) {
				if err := hacfLineError("mail_to " + w); err != nil {
					im.note(a.Pos, NotMapped, "notification_email %s: %v; left out", w, err)
					continue
				}
				if !slices.Contains(f.mail.to, w) {
					f.mail.to = append(f.mail.to, w)
				}
			}
		}
	case "notification_email_from":
		if err := hacfLineError("mail_from " + c.Arg(0)); err != nil || len(c.Args) != 1 {
			im.note(c.Pos, NotMapped, "notification_email_from %s: %v; left out", strings.Join(c.Args, " "), err)
			return
		}
		f.mail.from, f.mail.fromPos = c.Arg(0), c.Pos
	case "smtp_server":
		host, port := c.Arg(0), "25"
		if len(c.Args) > 1 {
			port = c.Arg(1)
		}
		srv := net.JoinHostPort(host, port)
		if err := hacfLineError("smtp_server " + srv); err != nil || host == "" || len(c.Args) > 2 {
			im.note(c.Pos, NotMapped, "smtp_server %s: %v; left out", strings.Join(c.Args, " "), err)
			return
		}
		f.mail.server, f.mail.srvPos = srv, c.Pos
	case "smtp_alert", "smtp_alert_vrrp":
		if c.Arg(0) == "false" || c.Arg(0) == "off" || c.Arg(0) == "no" {
			return
		}
		f.mail.alert, f.mail.alertAt = true, c.Pos
	}
}

// hooksAndMail writes the hooks and mail lines of ha.cf.
func (im *importer) hooksAndMail(b *strings.Builder, files []*kaFile) {
	var hooks []kaHook
	var from [2][]kaHook
	for fi, f := range files {
		for _, h := range f.hooks {
			from[fi] = append(from[fi], h)
			if !slices.ContainsFunc(hooks, func(o kaHook) bool { return o.line() == h.line() }) {
				hooks = append(hooks, h)
			}
		}
	}
	if len(hooks) > 0 {
		b.WriteString("# notify scripts: run for every group's events (HA_GROUP names the group); heartbeat -t\n" +
			"# checks that each program exists and is executable on the node\n")
	}
	for _, h := range hooks {
		fmt.Fprintf(b, "%s\n", h.line())
		if h.when == "" {
			im.note(h.pos, Mapped, "notify %s -> %s (GROUP <group> MASTER|BACKUP|FAULT|STOP <score> appended)", strings.Join(h.argv, " "), h.line())
			im.note(h.pos, Warning, "notify %s: the script gets GROUP, the group's key (its first resource) and its health score, "+
				"where keepalived gave INSTANCE or GROUP, the keepalived name and the priority: check what it does with its last four arguments", strings.Join(h.argv, " "))
		} else {
			im.note(h.pos, Mapped, "notify_%s %s -> %s", h.when, strings.Join(h.argv, " "), h.line())
		}
		if len(files) == 2 {
			for fi := range files {
				if !slices.ContainsFunc(from[fi], func(o kaHook) bool { return o.line() == h.line() }) {
					im.note(h.pos, Warning, "%s is not in %s: ha.cf is the same on both nodes, so both run it", h.line(), files[fi].path)
				}
			}
		}
	}
	if n := len(units(files)); len(hooks) > 0 && n > 1 {
		im.note(hooks[0].pos, Warning, "notify scripts are per instance in keepalived, one list for all %d groups here: each runs for every group's events", n)
	}

	// Mail: only when something asks for alerts, as keepalived mails
	// nothing for VRRP without smtp_alert.
	alert, alertPos := false, diag.Pos{}
	for _, f := range files {
		if f.mail.alert {
			alert, alertPos = true, f.mail.alertAt
			break
		}
	}
	var to []string
	var toPos diag.Pos
	for _, f := range files {
		for _, a := range f.mail.to {
			if !slices.Contains(to, a) {
				to = append(to, a)
			}
		}
		if toPos.File == "" {
			toPos = f.mail.toPos
		}
	}
	if !alert {
		if toPos.File != "" {
			im.note(toPos, NotMapped, "notification_email: no smtp_alert in any vrrp_instance or vrrp_sync_group, so keepalived mails nothing for VRRP: not carried over")
		}
		return
	}
	if len(to) == 0 {
		im.note(alertPos, NotMapped, "smtp_alert without a usable notification_email in global_defs: nobody to mail; no mail settings")
		return
	}
	b.WriteString("# smtp_alert with global_defs' notification_email: keepalived mails each state change\n")
	fmt.Fprintf(b, "mail_to %s\n", strings.Join(to, " "))
	im.note(toPos, Mapped, "notification_email -> mail_to %s", strings.Join(to, " "))
	froms := map[string]bool{}
	var fromPos diag.Pos
	for _, f := range files {
		froms[f.mail.from] = true
		if fromPos.File == "" {
			fromPos = f.mail.fromPos
		}
	}
	switch {
	case len(froms) == 1 && files[0].mail.from != "":
		fmt.Fprintf(b, "mail_from %s\n", files[0].mail.from)
		im.note(fromPos, Mapped, "notification_email_from -> mail_from %s", files[0].mail.from)
	case len(froms) > 1:
		im.note(fromPos, Warning, "notification_email_from differs between the files; ha.cf is the same on both nodes: mail_from left out, each node sends as heartbeat@<its name>")
	}
	srv, srvPos := "", diag.Pos{}
	for _, f := range files {
		if f.mail.server == "" {
			continue
		}
		if srv == "" {
			srv, srvPos = f.mail.server, f.mail.srvPos
		} else if f.mail.server != srv {
			im.note(f.mail.srvPos, Warning, "smtp_server %s differs from %s (%s): ha.cf is the same on both nodes; %s used", f.mail.server, srvPos, srv, srv)
		}
	}
	if srv != "" {
		fmt.Fprintf(b, "smtp_server %s\n", srv)
		im.note(srvPos, Mapped, "smtp_server -> smtp_server %s", srv)
	}
	b.WriteString("mail_events group-active group-stopped group-failed\n")
	im.note(alertPos, Mapped, "smtp_alert -> mail_events group-active group-stopped group-failed (MASTER, BACKUP and FAULT; for every group, mails folded per mail_interval)")
}

// checks are the [[group.check]] tables of a unit, from the file its
// addresses come from.
func (im *importer) checks(u *unit, files []*kaFile, src, group int) string {
	var tracks []kaTrack
	tracks = append(tracks, u.tracks[src]...)
	for _, in := range u.instances[src] {
		tracks = append(tracks, in.tracks...)
	}
	var b strings.Builder
	seen := map[string]kaTrack{}
	sumW := 0
	f := files[src]
	for _, t := range tracks {
		s := f.scripts[t.name]
		if s == nil || !s.ok {
			continue // said when the file was read
		}
		w := s.weight
		if t.hasWeight {
			w = t.weight
		}
		if prev, dup := seen[checkName(t.name)]; dup {
			if prev.weight != w {
				im.note(t.pos, Warning, "track_script %s: already tracked at %s with weight %d; one check per group: weight %d kept", t.name, prev.pos, prev.weight, prev.weight)
			}
			continue
		}
		seen[checkName(t.name)] = kaTrack{name: t.name, weight: w, pos: t.pos}
		sumW += max(w, -w)
		user := s.user
		if user == "" {
			user = f.scriptUser
		}
		if user == "root" || strings.HasPrefix(user, "root:") {
			user = ""
		}
		fmt.Fprintf(&b, "\n# vrrp_script %s (%s), track_script (%s)\n[[group.check]]\nname = %s\ncommand = [", s.name, s.pos, t.pos, tomlString(checkName(s.name)))
		for i, a := range s.argv {
			if i > 0 {
				b.WriteString(", ")
			}
			b.WriteString(tomlString(a))
		}
		fmt.Fprintf(&b, "]\ninterval = %q\n", s.interval.String())
		if s.timeout != 0 {
			fmt.Fprintf(&b, "timeout = %q\n", s.timeout.String())
		}
		if s.fall != 1 {
			fmt.Fprintf(&b, "fall = %d\n", s.fall)
		}
		if s.rise != 1 {
			fmt.Fprintf(&b, "rise = %d\n", s.rise)
		}
		fmt.Fprintf(&b, "weight = %d\n", w)
		if user != "" {
			fmt.Fprintf(&b, "user = %s\n", tomlString(user))
		}
		im.note(t.pos, Mapped, "track_script %s (vrrp_script at %s) -> [[group.check]] of group %d: command %s, interval %s, weight %d%s",
			t.name, s.pos, group, argvText(s.argv), s.interval, w, weightMeaning(w))
		if o := otherScript(files, src, t.name); o != nil && (o.text != s.text || o.weight != s.weight || o.interval != s.interval ||
			o.timeout != s.timeout || o.fall != s.fall || o.rise != s.rise || o.user != s.user) {
			im.note(o.pos, Warning, "vrrp_script %s differs from %s: the check is the same on both nodes here; %s's is used", t.name, s.pos, f.path)
		}
	}
	// keepalived moves an instance for a check only when the weights can
	// overcome the priority gap; here any difference of health moves it.
	if a, b2 := first(u.instances[0]), first(u.instances[1]); a != nil && b2 != nil && sumW > 0 {
		if gap := max(a.priority-b2.priority, b2.priority-a.priority); sumW <= gap {
			im.note(u.pos, Warning, "%s: the weights of its checks (%d in all) do not exceed the priority gap (%d vs %d): keepalived never moves it for them; "+
				"here the healthier node takes the group whenever the scores differ", u.what, sumW, a.priority, b2.priority)
		}
	}
	return b.String()
}

func first(ins []*kaInstance) *kaInstance {
	if len(ins) == 0 {
		return nil
	}
	return ins[0]
}

func otherScript(files []*kaFile, src int, name string) *kaScript {
	if len(files) < 2 {
		return nil
	}
	s := files[1-src].scripts[name]
	if s == nil || !s.ok {
		return nil
	}
	return s
}

func argvText(argv []string) string {
	var q []string
	for _, a := range argv {
		q = append(q, strconv.Quote(a))
	}
	return "[" + strings.Join(q, ", ") + "]"
}

func weightMeaning(w int) string {
	switch {
	case w == 0:
		return " (failing: the node is ineligible, keepalived's FAULT)"
	case w > 0:
		return " (added to the score while passing)"
	}
	return " (subtracted from the score while failing)"
}

// checkName is a vrrp_script name as a check name: 1-64 letters, digits,
// '-', '.' or '_'.
func checkName(s string) string {
	b := []byte(s)
	for i, c := range b {
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '.' || c == '_') {
			b[i] = '_'
		}
	}
	if len(b) > 64 {
		b = b[:64]
	}
	if len(b) == 0 {
		return "check"
	}
	return string(b)
}

// unusedScripts notes the track_script entries naming no usable script and
// the scripts no instance tracks.
func (im *importer) unusedScripts(f *kaFile) {
	used := map[string]bool{}
	var all []kaTrack
	for _, g := range f.groups {
		all = append(all, g.tracks...)
	}
	for _, in := range f.instances {
		all = append(all, in.tracks...)
	}
	for _, t := range all {
		used[t.name] = true
		if _, ok := f.scripts[t.name]; !ok {
			im.note(t.pos, NotMapped, "track_script %s: no vrrp_script %s in %s: left out", t.name, t.name, f.path)
		}
	}
	var names []string
	for name := range f.scripts {
		if !used[name] {
			names = append(names, name)
		}
	}
	slices.Sort(names)
	for _, name := range names {
		im.note(f.scripts[name].pos, NotMapped, "vrrp_script %s: no track_script names it, so keepalived does not run it: no check made", name)
	}
}

// smtpAlert reads smtp_alert [BOOL] of an instance or sync group.
func (im *importer) smtpAlert(f *kaFile, c *keepalived.Node) {
	switch strings.ToLower(c.Arg(0)) {
	case "false", "off", "no", "0":
		return
	}
	if !f.mail.alert {
		f.mail.alert, f.mail.alertAt = true, c.Pos
	}
}
