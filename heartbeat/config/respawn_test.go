package config

import (
	"slices"
	"strings"
	"testing"
)

func TestRespawnDirectives(t *testing.T) {
	runDirectiveCases(t, []directiveCase{
		{name: "respawn", in: "respawn hacluster /usr/bin/client -x 1", check: func(t *testing.T, c *Config) {
			want := []RespawnSpec{{User: "hacluster", Path: "/usr/bin/client", Args: []string{"-x", "1"}, Pos: Pos{File: "ha.cf", Line: 1}}}
			if len(c.Respawn) != 1 || c.Respawn[0].String() != "respawn hacluster /usr/bin/client -x 1" ||
				!slices.Equal(c.Respawn[0].Args, want[0].Args) || c.Respawn[0].Pos != want[0].Pos || c.Respawn[0].FailFast {
				t.Errorf("Respawn = %+v, want %+v", c.Respawn, want)
			}
		}},
		{name: "failfast", in: "failfast root /usr/sbin/guard", check: func(t *testing.T, c *Config) {
			if len(c.Respawn) != 1 || !c.Respawn[0].FailFast || c.Respawn[0].String() != "failfast root /usr/sbin/guard" {
				t.Errorf("Respawn = %+v", c.Respawn)
			}
		}},
		{name: "order kept", in: "respawn a /bin/one\nfailfast b /bin/two\nrespawn c /bin/three", check: func(t *testing.T, c *Config) {
			var got []string
			for _, r := range c.Respawn {
				got = append(got, r.Path)
			}
			if !slices.Equal(got, []string{"/bin/one", "/bin/two", "/bin/three"}) {
				t.Errorf("order %v", got)
			}
		}},
		{name: "ipfail", in: "respawn hacluster /usr/lib/heartbeat/ipfail", check: func(t *testing.T, c *Config) {
			if len(c.Respawn) != 1 || !c.Respawn[0].IPFail() {
				t.Errorf("Respawn = %+v: not ipfail", c.Respawn)
			}
		}},
		{name: "not ipfail", in: "respawn hacluster /usr/lib/heartbeat/ipfail2", check: func(t *testing.T, c *Config) {
			if c.Respawn[0].IPFail() {
				t.Error("ipfail2 taken for ipfail")
			}
		}},
		{name: "relative path", in: "respawn hacluster bin/x", line: 1, err: `respawn: program "bin/x" is not an absolute, clean path`},
		{name: "unclean path", in: "\nfailfast hacluster /usr/../bin/x", line: 2, err: "failfast: program"},
		{name: "no program", in: "respawn hacluster", line: 1, err: "respawn: want respawn <user> </absolute/path>"},
		{name: "env", in: "env FOO=bar\nenv X=a=b", check: func(t *testing.T, c *Config) {
			if !slices.Equal(c.Env, []string{"HA_FOO=bar", "HA_X=a=b"}) {
				t.Errorf("Env = %q", c.Env)
			}
		}},
		{name: "env without name", in: "env =bar", line: 1, err: "is not NAME=value"},
		{name: "env without value", in: "env FOO", line: 1, err: "is not NAME=value"},
	})
}

func TestRespawnEffective(t *testing.T) {
	c, err := ParseHACF(strings.NewReader("respawn hacluster /usr/bin/c a\nfailfast root /usr/bin/d\nenv A=1\n"+base), "ha.cf")
	if err != nil {
		t.Fatal(err)
	}
	eff := c.Effective()
	for _, want := range []string{"\nrespawn hacluster /usr/bin/c a\n", "\nfailfast root /usr/bin/d\n", "\nenv A=1\n"} {
		if !strings.Contains(eff, want) {
			t.Errorf("effective configuration lacks %q:\n%s", want, eff)
		}
	}
	back, err := ParseHACF(strings.NewReader(eff), "eff")
	if err != nil {
		t.Fatalf("effective configuration does not parse back: %v", err)
	}
	if len(back.Respawn) != 2 || !slices.Equal(back.Env, c.Env) {
		t.Errorf("parsed back: %+v %q", back.Respawn, back.Env)
	}
}

func TestRespawnTOML(t *testing.T) {
	const ok = "nodes = [\"node1\", \"node2\"]\nenv = [\"A=1\"]\n[[media]]\nkind = \"ucast\"\ndev = \"eth0\"\npeer = \"198.18.0.2\"\n"
	c, err := ParseTOML(strings.NewReader(ok+"[[respawn]]\nuser = \"hacluster\"\nargv = [\"/usr/bin/c\", \"-v\"]\n"+
		"[[respawn]]\nuser = \"root\"\nargv = [\"/usr/bin/d\"]\nfailfast = true\n"), "ha.toml")
	if err != nil {
		t.Fatal(err)
	}
	if len(c.Respawn) != 2 || c.Respawn[0].String() != "respawn hacluster /usr/bin/c -v" || c.Respawn[1].String() != "failfast root /usr/bin/d" {
		t.Errorf("Respawn = %+v", c.Respawn)
	}
	if !slices.Equal(c.Env, []string{"HA_A=1"}) {
		t.Errorf("Env = %q", c.Env)
	}
	for _, tc := range []struct{ in, err string }{
		{"[[respawn]]\nuser = \"x\"\n", "respawn[0]: want user and argv"},
		{"[[respawn]]\nuser = \"x\"\nargv = [\"rel\"]\n", "not an absolute, clean path"},
		{"[[respawn]]\nuser = \"x\"\nargv = [\"/a\"]\nfailfast = 1\n", "respawn[0].failfast: want a boolean"},
	} {
		_, err := ParseTOML(strings.NewReader(ok+tc.in), "ha.toml")
		if err == nil || !strings.Contains(err.Error(), tc.err) {
			t.Errorf("%q: error %v, want %q", tc.in, err, tc.err)
		}
	}
}
