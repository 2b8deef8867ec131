package config

import (
	"slices"
	"strings"
	"testing"
	"time"
)

// hookFiles makes an executable hook, a plain file and a 0600 and a 0644
// credentials file in a temporary directory.
func hookFiles(t *testing.T) (dir, hook, plain, auth600, auth644 string) {
	dir = t.TempDir()
	hook = writeFile(t, dir, "hook", "#!/bin/sh\nexit 0\n", 0o755)
	plain = writeFile(t, dir, "plain", "#!/bin/sh\n", 0o644)
	auth600 = writeFile(t, dir, "auth", "user secret-password\n", 0o600)
	auth644 = writeFile(t, dir, "auth644", "user secret-password\n", 0o644)
	return
}

func TestNotifyDirectives(t *testing.T) {
	dir, hook, _, auth600, _ := hookFiles(t)
	n := func(f func(t *testing.T, n NotifyConfig)) func(t *testing.T, c *Config) {
		return func(t *testing.T, c *Config) { f(t, c.Notify) }
	}
	runDirectiveCases(t, []directiveCase{
		{name: "defaults", in: "", check: n(func(t *testing.T, n NotifyConfig) {
			eq(t, "Timeout", n.Timeout, 10*time.Second)
			eq(t, "MailInterval", n.MailInterval, time.Minute)
			eq(t, "SMTPAddr", n.SMTPAddr(), "localhost:25")
			if !slices.Equal(n.MailEvents, DefaultMailEvents) || len(n.Hooks) != 0 || len(n.MailTo) != 0 {
				t.Errorf("%+v", n)
			}
		})},
		{name: "hooks in order", in: "notify " + hook + " a b\nnotify_master " + hook + "\nnotify " + hook + " c",
			check: n(func(t *testing.T, n NotifyConfig) {
				if len(n.Hooks) != 3 || n.Hooks[0].When != "" || !slices.Equal(n.Hooks[0].Argv, []string{hook, "a", "b"}) ||
					n.Hooks[1].When != "master" || n.Hooks[1].Line != 2 || n.Hooks[2].Argv[1] != "c" {
					t.Errorf("%+v", n.Hooks)
				}
			})},
		{name: "each state", in: "notify_backup " + hook + "\nnotify_fault " + hook + "\nnotify_stop " + hook,
			check: n(func(t *testing.T, n NotifyConfig) {
				var w []string
				for _, h := range n.Hooks {
					w = append(w, h.Name())
				}
				if !slices.Equal(w, []string{"notify_backup", "notify_fault", "notify_stop"}) {
					t.Errorf("%v", w)
				}
			})},
		{name: "hook relative", in: "notify hook.sh", line: 1, err: "is not an absolute path"},
		{name: "hook empty", in: "notify", line: 1, err: "notify needs a value"},
		// The program and the credentials file need not exist where ha.cf
		// is parsed: the daemon's machine checks them (daemon.Check).
		{name: "hook elsewhere", in: "notify " + dir + "/nothing", check: n(func(t *testing.T, n NotifyConfig) {
			if len(n.Hooks) != 1 {
				t.Errorf("%+v", n.Hooks)
			}
		})},
		{name: "smtp_auth elsewhere", in: "mail_to a@example.com\nsmtp_auth " + dir + "/none", check: n(func(t *testing.T, n NotifyConfig) { eq(t, "SMTPAuth", n.SMTPAuth, dir+"/none") })},
		{name: "notify_timeout", in: "notify_timeout 500ms", check: n(func(t *testing.T, n NotifyConfig) { eq(t, "Timeout", n.Timeout, 500*time.Millisecond) })},
		{name: "notify_timeout zero", in: "notify_timeout 0", line: 1, err: "must be more than 0"},
		{name: "notify_timeout twice", in: "notify_timeout 1\nnotify_timeout 2", line: 2, err: "may be given only once"},
		{name: "mail_to list", in: "mail_to ops@example.com, root@example.com\nmail_to ops@example.com",
			check: n(func(t *testing.T, n NotifyConfig) {
				if !slices.Equal(n.MailTo, []string{"ops@example.com", "root@example.com"}) {
					t.Errorf("%v", n.MailTo)
				}
			})},
		{name: "mail_to malformed", in: "\n\nmail_to ops@@example", line: 3, err: "is not a mail address"},
		{name: "mail_to no domain", in: "mail_to root", line: 1, err: "is not a mail address"},
		{name: "mail_to display name", in: "mail_to <ops@example.com>", line: 1, err: "write the bare address"},
		{name: "mail_from", in: "mail_to a@example.com\nmail_from ha@example.com", check: n(func(t *testing.T, n NotifyConfig) { eq(t, "MailFrom", n.MailFrom, "ha@example.com") })},
		{name: "mail_from malformed", in: "mail_to a@example.com\nmail_from x", line: 2, err: "is not a mail address"},
		{name: "smtp_server host", in: "mail_to a@example.com\nsmtp_server mail.example.com", check: n(func(t *testing.T, n NotifyConfig) { eq(t, "SMTPServer", n.SMTPServer, "mail.example.com:25") })},
		{name: "smtp_server port", in: "mail_to a@example.com\nsmtp_server 198.18.0.10:2525", check: n(func(t *testing.T, n NotifyConfig) { eq(t, "SMTPServer", n.SMTPServer, "198.18.0.10:2525") })},
		{name: "smtp_server ipv6", in: "mail_to a@example.com\nsmtp_server [2001:db8::1]:587", check: n(func(t *testing.T, n NotifyConfig) { eq(t, "SMTPServer", n.SMTPServer, "[2001:db8::1]:587") })},
		{name: "smtp_server bad port", in: "mail_to a@example.com\nsmtp_server mail:99999", line: 2, err: "port"},
		{name: "smtp_server empty port", in: "mail_to a@example.com\nsmtp_server mail:", line: 2, err: "port"},
		{name: "smtp_server bad host", in: "mail_to a@example.com\nsmtp_server -x-:25", line: 2, err: "smtp_server"},
		{name: "mail_events", in: "mail_to a@example.com\nmail_events node-dead,takeover\nmail_events standby",
			check: n(func(t *testing.T, n NotifyConfig) {
				if !slices.Equal(n.MailEvents, []string{"node-dead", "takeover", "standby"}) {
					t.Errorf("%v", n.MailEvents)
				}
			})},
		{name: "mail_events all", in: "mail_to a@example.com\nmail_events all", check: n(func(t *testing.T, n NotifyConfig) {
			if !slices.Equal(n.MailEvents, EventNames) {
				t.Errorf("%v", n.MailEvents)
			}
		})},
		{name: "mail_events unknown", in: "mail_to a@example.com\nmail_events node-gone", line: 2, err: `unknown event "node-gone"`},
		{name: "smtp_auth", in: "mail_to a@example.com\nsmtp_auth " + auth600, check: n(func(t *testing.T, n NotifyConfig) { eq(t, "SMTPAuth", n.SMTPAuth, auth600) })},
		{name: "mail settings without mail_to", in: "mail_events all", warn: "mail_events has no effect without mail_to"},
		{name: "mail_interval", in: "mail_to a@example.com\nmail_interval 300", check: n(func(t *testing.T, n NotifyConfig) { eq(t, "MailInterval", n.MailInterval, 5*time.Minute) })},
	})
}

// The password in the credentials file never reaches the effective text,
// which parses back into the same settings.
func TestNotifyEffective(t *testing.T) {
	_, hook, _, auth600, _ := hookFiles(t)
	in := base + "notify " + hook + " x\nnotify_fault " + hook + "\nmail_to a@example.com\nmail_from ha@example.com\n" +
		"smtp_server 198.18.0.10:2525\nsmtp_auth " + auth600 + "\nmail_events fence-ok\n"
	c, err := ParseHACF(strings.NewReader(in), "ha.cf")
	if err != nil {
		t.Fatal(err)
	}
	out := c.Effective()
	for _, want := range []string{"notify " + hook + " x\n", "notify_fault " + hook + "\n", "notify_timeout 10000ms  # default\n",
		"mail_to a@example.com\n", "smtp_server 198.18.0.10:2525\n", "smtp_auth " + auth600 + "\n", "mail_events fence-ok\n",
		"mail_interval 60000ms  # default\n"} {
		if !strings.Contains(out, want) {
			t.Errorf("effective text lacks %q:\n%s", want, out)
		}
	}
	if strings.Contains(out, "secret-password") {
		t.Error("the password is shown")
	}
	again, err := ParseHACF(strings.NewReader(out), "effective")
	if err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	if a, b := stripPositions(c), stripPositions(again); !slices.EqualFunc(a.Notify.Hooks, b.Notify.Hooks, func(x, y HookSpec) bool {
		return x.When == y.When && slices.Equal(x.Argv, y.Argv)
	}) || !slices.Equal(a.Notify.MailEvents, b.Notify.MailEvents) || a.Notify.SMTPServer != b.Notify.SMTPServer {
		t.Errorf("round trip differs:\n%+v\n%+v", a.Notify, b.Notify)
	}
	d := Defaults().Effective()
	if !strings.Contains(d, "# mail_to not set\n") || !strings.Contains(d, "mail_events node-dead group-active group-failed fence-ok fence-failed split-brain split-brain-healed  # default\n") {
		t.Errorf("defaults:\n%s", d)
	}
}

func TestNotifyTOML(t *testing.T) {
	_, hook, _, auth600, _ := hookFiles(t)
	doc := `nodes = ["node1", "node2"]
notify = ["` + hook + ` a b", "` + hook + `"]
notify_master = "` + hook + ` up"
notify_timeout = "2s"
mail_to = ["a@example.com", "b@example.com"]
mail_from = "ha@example.com"
smtp_server = "198.18.0.10:2525"
mail_events = "all"
smtp_auth = "` + auth600 + `"
mail_interval = 30
[[media]]
kind = "ucast"
dev = "eth0"
peer = "198.18.0.2"
`
	c, err := ParseTOML(strings.NewReader(doc), "ha.toml")
	if err != nil {
		t.Fatal(err)
	}
	n := c.Notify
	if len(n.Hooks) != 3 || n.Hooks[0].Line != 2 || !slices.Equal(n.Hooks[0].Argv, []string{hook, "a", "b"}) || n.Hooks[2].When != "master" ||
		n.Timeout != 2*time.Second || len(n.MailTo) != 2 || n.MailFrom != "ha@example.com" || n.SMTPServer != "198.18.0.10:2525" ||
		!slices.Equal(n.MailEvents, EventNames) || n.SMTPAuth != auth600 || n.MailInterval != 30*time.Second {
		t.Errorf("%+v", n)
	}
	for _, tc := range []struct{ in, err string }{
		{`notify = 3`, "want a string or a non-empty array of strings"},
		{`notify = []`, "want a string or a non-empty array of strings"},
		{`mail_to = ["x"]`, "is not a mail address"},
		{`mail_events = ["nope"]`, "unknown event"},
		{`notify_timeout = true`, "notify_timeout: want a time"},
	} {
		_, err := ParseTOML(strings.NewReader("\n"+tc.in+"\n"+doc[strings.Index(doc, "[[media]]"):]+"nodes = [\"node1\"]\n"), "ha.toml")
		if err == nil {
			// nodes after a table belong to it; parse errors are fine either way
			t.Errorf("%s: accepted", tc.in)
			continue
		}
		wantDiag(t, err, "ha.toml", 2, tc.err)
	}
}

func FuzzNotifyWords(f *testing.F) {
	for _, s := range []string{"a@example.com", "mail:25", "[::1]:587", "<a@b>", "x@", "@", "host:", ":25", "a b@c"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		if a, err := parseMailAddr(s); err == nil {
			if a != s || !strings.Contains(a, "@") {
				t.Fatalf("%q accepted as %q", s, a)
			}
		}
		if hp, err := parseSMTPServer(s); err == nil {
			again, err := parseSMTPServer(hp)
			if err != nil || again != hp {
				t.Fatalf("%q -> %q -> %q, %v", s, hp, again, err)
			}
		}
		_ = checkHookArgv(fields(s))
	})
}
