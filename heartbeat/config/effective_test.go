package config

import (
	"fmt"
	"reflect"
	"strings"
	"testing"
)

func TestEffective(t *testing.T) {
	dir := configDir(t, map[string]file{"ha.cf": {equivHACF, 0o644}, "authkeys": {keysFile, 0o600}})
	c := load(t, dir)
	out := c.Effective()
	for _, want := range []string{
		"node node1\nnode node2\n",
		"keepalive 500ms\n",
		"warntime 2500ms\n",
		"max_rexmit_delay 300\n",
		"mcast eth2 239.0.0.1 694 2 1\n",
		"ping_group gws 198.18.0.253 gw.example\n",
		"stonith_host node2 external/ssh  # parameters not shown\n",
		"# auth 2 (signs with sha256); keys: 1 md5, 2 sha256\n",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("Effective() lacks %q:\n%s", want, out)
		}
	}
	for _, secret := range []string{"s3cret", "k2-long-random", "extra words"} {
		if strings.Contains(out, secret) {
			t.Errorf("Effective() shows %q:\n%s", secret, out)
		}
	}

	d := Defaults().Effective()
	for _, want := range []string{"keepalive 1000ms  # default\n", "warntime 15000ms  # default\n", "# watchdog not set\n", "# keys not loaded\n"} {
		if !strings.Contains(d, want) {
			t.Errorf("Defaults().Effective() lacks %q:\n%s", want, d)
		}
	}
}

// TestEffectiveRoundTrip: the effective text is itself an ha.cf that gives
// the same configuration (stonith_host parameters are hidden, keys are not
// part of ha.cf).
func TestEffectiveRoundTrip(t *testing.T) {
	for _, in := range []string{equivHACF, base, base + "auto_failback legacy\nping 198.18.0.1\n"} {
		c, err := ParseHACF(strings.NewReader(in), "ha.cf")
		if err != nil {
			t.Fatal(err)
		}
		again, err := ParseHACF(strings.NewReader(c.Effective()), "effective")
		if err != nil {
			t.Fatalf("effective text does not parse:\n%v\n%s", err, c.Effective())
		}
		a, b := stripPositions(c), stripPositions(again)
		for i := range a.Stonith {
			a.Stonith[i].Params = ""
		}
		if !reflect.DeepEqual(a, b) {
			t.Errorf("round trip differs:\n%+v\n%+v", a, b)
		}
	}
}

func TestParameter(t *testing.T) {
	withSyslog, err := ParseHACF(strings.NewReader(base+"deadtime 10\nlogfacility daemon\nrealtime off\nkeepalive 1 500ms\n"), "ha.cf")
	if err != nil {
		t.Fatal(err)
	}
	plain, err := ParseHACF(strings.NewReader(base), "ha.cf")
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		c     *Config
		name  string
		value string
		ok    bool
	}{
		{withSyslog, "deadtime", "10", true},
		{withSyslog, "keepalive", "500ms", true},
		{withSyslog, "warntime", "5000ms", true},
		{withSyslog, "initdead", "20000ms", true},
		{withSyslog, "deadping", "10000ms", true},
		{withSyslog, "realtime", "off", true},
		{withSyslog, "logfile", "/dev/null", true},
		{withSyslog, "use_logd", "", false},
		{withSyslog, "hbversion", "3.0.6", true},
		{plain, "warntime", "15000ms", true},
		{plain, "keepalive", "1000ms", true},
		{plain, "udpport", "694", true},
		{plain, "debug", "0", true},
		{plain, "auto_failback", "legacy", true},
		{plain, "max_rexmit_delay", "250", true},
		{plain, "realtime", "true", true},
		{plain, "use_logd", "yes", true},
		{plain, "logfile", "", false},
		{plain, "watchdog", "", false},
		{plain, "node", "", false},
		{plain, "nonsense", "", false},
	}
	for _, tc := range tests {
		v, ok := tc.c.Parameter(tc.name)
		if v != tc.value || ok != tc.ok {
			t.Errorf("Parameter(%q) = %q, %v; want %q, %v", tc.name, v, ok, tc.value, tc.ok)
		}
	}
}

func TestSpecStrings(t *testing.T) {
	tests := []struct {
		v    fmt.Stringer
		want string
	}{
		{Medium{Kind: "ucast", Dev: "eth0", Peer: "198.18.0.2", Pos: Pos{File: "f", Line: 1}}, "ucast eth0 198.18.0.2"},
		{Medium{Kind: "mcast", Dev: "eth1", Group: "239.0.0.1", Port: 694, TTL: 1, Loop: true}, "mcast eth1 239.0.0.1 694 1 1"},
		{Medium{Kind: "serial", Dev: "/dev/ttyS0"}, "serial /dev/ttyS0"},
		{PingSpec{Name: "g", Hosts: []string{"a", "b"}, Group: true}, "ping_group g a b"},
		{PingSpec{Name: "::1", Hosts: []string{"::1"}, IPv6: true}, "ping6 ::1"},
		{StonithSpec{Host: "*", Type: "external/ipmi", Params: "pw"}, "stonith_host * external/ipmi"},
		{StonithSpec{Type: "external/ipmi", File: "/f"}, "stonith external/ipmi /f"},
	}
	for _, tc := range tests {
		if got := fmt.Sprint(tc.v); got != tc.want {
			t.Errorf("Sprint(%#v) = %q, want %q", tc.v, got, tc.want)
		}
	}
}
