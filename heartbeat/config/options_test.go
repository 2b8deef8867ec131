package config

import (
	"slices"
	"strings"
	"testing"
	"time"
)

func eq[T comparable](t *testing.T, what string, got, want T) {
	t.Helper()
	if got != want {
		t.Errorf("%s = %v, want %v", what, got, want)
	}
}

func TestNodeDirective(t *testing.T) {
	runDirectiveCases(t, []directiveCase{
		{name: "lower-cased", in: "node ALPHA", check: func(t *testing.T, c *Config) {
			if !slices.Equal(c.Nodes, []string{"alpha", "node1", "node2"}) {
				t.Errorf("Nodes = %v", c.Nodes)
			}
		}},
		{name: "blanks and commas split", in: "node x,y\tz", check: func(t *testing.T, c *Config) {
			if !slices.Equal(c.Nodes[:3], []string{"x", "y", "z"}) {
				t.Errorf("Nodes = %v", c.Nodes)
			}
		}},
		{name: "duplicate warns", in: "node node1", warn: "node node1 is declared more than once", check: func(t *testing.T, c *Config) {
			if len(c.Nodes) != 2 {
				t.Errorf("Nodes = %v", c.Nodes)
			}
		}},
		{name: "no value", in: "node", line: 1, err: "node needs a value"},
		{name: "too long", in: "node " + strings.Repeat("n", 100), line: 1, err: "longer than 99 bytes"},
		{name: "more than two warns", in: "node node3", warn: "3 nodes declared"},
	})
}

func TestTimingDirectives(t *testing.T) {
	runDirectiveCases(t, []directiveCase{
		{name: "keepalive seconds", in: "keepalive 2", check: func(t *testing.T, c *Config) { eq(t, "Keepalive", c.Keepalive, 2*time.Second) }},
		{name: "keepalive ms", in: "keepalive 500ms", check: func(t *testing.T, c *Config) { eq(t, "Keepalive", c.Keepalive, 500*time.Millisecond) }},
		{name: "keepalive fraction", in: "keepalive 1.5", check: func(t *testing.T, c *Config) { eq(t, "Keepalive", c.Keepalive, 1500*time.Millisecond) }},
		{name: "keepalive s suffix", in: "keepalive 2s", check: func(t *testing.T, c *Config) { eq(t, "Keepalive", c.Keepalive, 2*time.Second) }},
		{name: "keepalive last token wins", in: "keepalive 1 2", warn: "the last value, 2, is used", check: func(t *testing.T, c *Config) { eq(t, "Keepalive", c.Keepalive, 2*time.Second) }},
		{name: "keepalive zero", in: "keepalive 0", line: 1, err: "keepalive 0: must be more than 0"},
		{name: "keepalive junk", in: "keepalive abc", line: 1, err: "invalid time"},
		{name: "keepalive vs default deadtime", in: "keepalive 20", line: 1, err: "deadtime 30000ms must be more than twice keepalive 20000ms"},
		{name: "deadtime 10 defaults", in: "deadtime 10", check: func(t *testing.T, c *Config) {
			eq(t, "Deadtime", c.Deadtime, 10*time.Second)
			eq(t, "Initdead", c.Initdead, 20*time.Second)
			eq(t, "Warntime", c.Warntime, 5*time.Second)
			eq(t, "Deadping", c.Deadping, 10*time.Second)
		}},
		{name: "deadtime under 6s", in: "deadtime 5", check: func(t *testing.T, c *Config) { eq(t, "Initdead", c.Initdead, 12*time.Second) }},
		{name: "deadtime over 10s", in: "deadtime 20", check: func(t *testing.T, c *Config) { eq(t, "Initdead", c.Initdead, 20*time.Second) }},
		{name: "fast timings", in: "keepalive 50ms\ndeadtime 250ms", check: func(t *testing.T, c *Config) {
			eq(t, "Warntime", c.Warntime, 125*time.Millisecond)
			eq(t, "Initdead", c.Initdead, 12*time.Second)
		}},
		{name: "deadtime not twice keepalive", in: "deadtime 2", line: 1, err: "must be more than twice keepalive"},
		{name: "deadtime negative", in: "deadtime -1", line: 1, err: "invalid time"},
		{name: "warntime", in: "warntime 5", check: func(t *testing.T, c *Config) { eq(t, "Warntime", c.Warntime, 5*time.Second) }},
		{name: "warntime not below deadtime", in: "warntime 30", line: 1, err: "warntime 30000ms must be less than deadtime 30000ms"},
		{name: "warntime zero", in: "warntime 0", line: 1, err: "must be more than 0"},
		{name: "initdead", in: "initdead 60", check: func(t *testing.T, c *Config) { eq(t, "Initdead", c.Initdead, time.Minute) }},
		{name: "initdead below deadtime", in: "initdead 10", line: 1, err: "initdead 10000ms must not be less than deadtime 30000ms"},
		{name: "initdead small warns", in: "deadtime 5\ninitdead 8", warn: "initdead 8000ms is under 10 s"},
		{name: "deadping", in: "deadping 40", check: func(t *testing.T, c *Config) { eq(t, "Deadping", c.Deadping, 40*time.Second) }},
		{name: "deadping not twice keepalive", in: "deadping 2", line: 1, err: "deadping 2000ms must be more than twice keepalive"},
		{name: "hopfudge", in: "hopfudge 3", check: func(t *testing.T, c *Config) {
			if c.Hopfudge != 3 {
				t.Errorf("Hopfudge = %d", c.Hopfudge)
			}
		}},
		{name: "hopfudge range", in: "hopfudge 256", line: 1, err: "out of range 0-255"},
		{name: "hopfudge junk", in: "hopfudge x", line: 1, err: "not a non-negative decimal integer"},
	})
}

func TestBehaviourDirectives(t *testing.T) {
	af := func(want string) func(*testing.T, *Config) {
		return func(t *testing.T, c *Config) {
			if c.AutoFailback != want {
				t.Errorf("AutoFailback = %q, want %q", c.AutoFailback, want)
			}
		}
	}
	runDirectiveCases(t, []directiveCase{
		{name: "auto_failback on", in: "auto_failback on", check: af("on")},
		{name: "auto_failback boolean yes", in: "auto_failback yes", check: af("on")},
		{name: "auto_failback boolean 0", in: "auto_failback 0", check: af("off")},
		{name: "auto_failback legacy", in: "auto_failback LEGACY", warn: "auto_failback legacy is deprecated", check: af("legacy")},
		{name: "auto_failback default", in: "", warn: "auto_failback legacy (the default) is deprecated", check: af("legacy")},
		{name: "auto_failback junk", in: "auto_failback maybe", line: 1, err: "want on, off or legacy"},
		{name: "nice_failback alone", in: "nice_failback on", warn: "means auto_failback legacy", check: af("legacy")},
		{name: "nice_failback after on", in: "auto_failback on\nnice_failback on", warn: "means auto_failback off", check: af("off")},
		{name: "nice_failback before on", in: "nice_failback on\nauto_failback on", check: af("on")},
		{name: "nice_failback junk", in: "nice_failback maybe", line: 1, err: "not a boolean"},
		{name: "msgfmt", in: "msgfmt netstring", check: func(t *testing.T, c *Config) {
			if c.MsgFmt != "netstring" {
				t.Errorf("MsgFmt = %q", c.MsgFmt)
			}
		}},
		{name: "msgfmt junk", in: "msgfmt xml", line: 1, err: "want classic or netstring"},
		{name: "max_rexmit_delay ms", in: "max_rexmit_delay 500", check: func(t *testing.T, c *Config) { eq(t, "MaxRexmitDelay", c.MaxRexmitDelay, 500*time.Millisecond) }},
		{name: "max_rexmit_delay unit", in: "max_rexmit_delay 1s", check: func(t *testing.T, c *Config) { eq(t, "MaxRexmitDelay", c.MaxRexmitDelay, time.Second) }},
		{name: "max_rexmit_delay zero", in: "max_rexmit_delay 0", line: 1, err: "whole number of milliseconds"},
		{name: "max_rexmit_delay fraction", in: "max_rexmit_delay 0.5", line: 1, err: "whole number of milliseconds"},
		{name: "max_rexmit_delay junk", in: "max_rexmit_delay 2x", line: 1, err: "unknown unit"},
		{name: "hbgenmethod", in: "hbgenmethod time", check: func(t *testing.T, c *Config) {
			if c.GenMethod != "time" {
				t.Errorf("GenMethod = %q", c.GenMethod)
			}
		}},
		{name: "hbgenmethod junk", in: "hbgenmethod random", line: 1, err: "want file or time"},
		{name: "uuidfrom", in: "uuidfrom nodename", check: func(t *testing.T, c *Config) {
			if c.UUIDFrom != "nodename" {
				t.Errorf("UUIDFrom = %q", c.UUIDFrom)
			}
		}},
		{name: "uuidfrom junk", in: "uuidfrom disk", line: 1, err: "want file or nodename"},
		{name: "autojoin none", in: "autojoin none"},
		{name: "autojoin any", in: "autojoin any", line: 1, err: "runtime joins conflict with haresources"},
		{name: "autojoin junk", in: "autojoin sometimes", line: 1, err: "want none"},
		{name: "pacemaker off", in: "pacemaker off"},
		{name: "crm no", in: "crm no"},
		{name: "crm yes", in: "crm yes", line: 1, err: "this suite manages haresources (v1) clusters only"},
		{name: "pacemaker respawn", in: "pacemaker respawn", line: 1, err: "haresources (v1) clusters only"},
		{name: "pacemaker junk", in: "pacemaker maybe", line: 1, err: "want off"},
		{name: "pacemaker twice", in: "crm off\npacemaker off", line: 2, err: "may be given only once (first at line 1)"},
		{name: "watchdog", in: "watchdog /dev/watchdog", check: func(t *testing.T, c *Config) {
			if c.Watchdog != "/dev/watchdog" {
				t.Errorf("Watchdog = %q", c.Watchdog)
			}
		}},
		{name: "watchdog relative", in: "watchdog dev/watchdog", line: 1, err: "not an absolute path"},
		{name: "watchdog twice", in: "watchdog /dev/a\nwatchdog /dev/b", line: 2, err: "watchdog may be given only once"},
		{name: "stonith", in: "stonith external/ipmi /etc/ha.d/ipmi.cfg", check: func(t *testing.T, c *Config) {
			want := StonithSpec{Type: "external/ipmi", File: "/etc/ha.d/ipmi.cfg", Pos: Pos{File: "ha.cf", Line: 1}}
			if len(c.Stonith) != 1 || c.Stonith[0] != want {
				t.Errorf("Stonith = %+v", c.Stonith)
			}
		}},
		{name: "stonith without file", in: "stonith external/ipmi", line: 1, err: "want stonith <type> <parameter-file>"},
		{name: "stonith_host", in: "stonith_host * external/ssh  node1   node2 ", check: func(t *testing.T, c *Config) {
			want := StonithSpec{Host: "*", Type: "external/ssh", Params: "node1   node2", Pos: Pos{File: "ha.cf", Line: 1}}
			if len(c.Stonith) != 1 || c.Stonith[0] != want {
				t.Errorf("Stonith = %+v", c.Stonith)
			}
		}},
		{name: "stonith_host without type", in: "stonith_host node1", line: 1, err: "want stonith_host <host|*> <type>"},
	})
}

func TestLoggingDirectives(t *testing.T) {
	runDirectiveCases(t, []directiveCase{
		{name: "files and facility", in: "logfile /var/log/ha-log\ndebugfile /var/log/ha-debug\nlogfacility LOCAL0", check: func(t *testing.T, c *Config) {
			if c.LogFile != "/var/log/ha-log" || c.DebugFile != "/var/log/ha-debug" || c.LogFacility != "local0" {
				t.Errorf("got %q %q %q", c.LogFile, c.DebugFile, c.LogFacility)
			}
		}},
		{name: "facility none", in: "logfacility none"},
		{name: "facility junk", in: "logfacility bogus", line: 1, err: "unknown syslog facility"},
		{name: "debug", in: "debug 3", check: func(t *testing.T, c *Config) {
			if c.Debug != 3 {
				t.Errorf("Debug = %d", c.Debug)
			}
		}},
		{name: "debug range", in: "debug 300", line: 1, err: "out of range 0-255"},
	})
}

func TestRTSCTS(t *testing.T) {
	for _, tt := range []struct {
		line string
		want bool
		err  bool
	}{{"", true, false}, {"rtscts off\n", false, false}, {"rtscts yes\n", true, false}, {"rtscts maybe\n", false, true}} {
		c, err := ParseHACF(strings.NewReader(base+tt.line), "ha.cf")
		if (err != nil) != tt.err {
			t.Fatalf("%q: err %v", tt.line, err)
		}
		if err == nil && c.RTSCTS != tt.want {
			t.Fatalf("%q: RTSCTS %v", tt.line, c.RTSCTS)
		}
	}
}

func TestFencingDirectives(t *testing.T) {
	c, err := ParseHACF(strings.NewReader(base+"stonith_fallback takeover\nfence_delay 2s\nstonith_plugin_dir /opt/plugins\nself_fence /usr/local/sbin/powerdown now\n"), "ha.cf")
	if err != nil {
		t.Fatal(err)
	}
	if !c.StonithFallback || c.FenceDelay != 2*time.Second || c.StonithPluginDir != "/opt/plugins" ||
		strings.Join(c.SelfFence, " ") != "/usr/local/sbin/powerdown now" {
		t.Fatalf("got %v %v %q %q", c.StonithFallback, c.FenceDelay, c.StonithPluginDir, c.SelfFence)
	}
	for _, bad := range []string{"stonith_fallback maybe\n", "self_fence reboot\n", "self_fence\n", "stonith_plugin_dir rel/dir\n"} {
		if _, err := ParseHACF(strings.NewReader(base+bad), "ha.cf"); err == nil || !strings.Contains(err.Error(), "ha.cf:") {
			t.Errorf("%q: err %v", bad, err)
		}
	}
}
