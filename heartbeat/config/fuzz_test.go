package config

import (
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/hasuite/hasuite/heartbeat/auth"
)

// addSeeds adds the shipped sample and the given texts to a fuzz corpus.
func addSeeds(f *testing.F, sample string, seeds ...string) {
	if data, err := os.ReadFile(filepath.Join("..", "..", "etc", sample)); err == nil {
		f.Add(string(data))
	}
	for _, s := range seeds {
		f.Add(s)
	}
}

// checkErrorList asserts the shape every parse error must have.
func checkErrorList(t *testing.T, err error, file, input string) {
	t.Helper()
	var el ErrorList
	if !errors.As(err, &el) || len(el) == 0 {
		t.Fatalf("error %v (%T) is not a non-empty ErrorList", err, err)
	}
	lines := strings.Count(input, "\n") + 2
	for _, d := range el {
		if d.File != file || d.Line < 0 || d.Line > lines || d.Msg == "" {
			t.Fatalf("bad diagnostic %+v for %d lines", d, lines)
		}
	}
}

// checkRoundTrip asserts that the effective text of c parses back to c.
func checkRoundTrip(t *testing.T, c *Config) {
	t.Helper()
	again, err := ParseHACF(strings.NewReader(c.Effective()), "effective")
	if err != nil {
		t.Fatalf("effective text does not parse: %v\n%s", err, c.Effective())
	}
	a, b := stripPositions(c), stripPositions(again)
	for i := range a.Stonith {
		a.Stonith[i].Params = ""
	}
	b.Keys = a.Keys
	if !reflect.DeepEqual(a, b) {
		t.Fatalf("round trip differs:\n%+v\n%+v", a, b)
	}
}

func FuzzParseHACF(f *testing.F) {
	addSeeds(f, "ha.cf.sample",
		equivHACF,
		base,
		"node a,B\tc\r\nbcast eth0 eth1 # x\nudpport 1\nbaud 9600\nserial /dev/ttyS1\n",
		"node a\nmcast eth0 239.0.0.1 694 255 1\nnice_failback on\nauto_failback on\nnice_failback off\n",
		"node a\nucast eth0 h\nkeepalive 0.05\ndeadtime .25\ninitdead 300us\ncrm no\nautojoin any\nrespawn x /y\n",
		"node a\nping_group g 1.2.3.4 h\nping6 ::1\nstonith_host * t a b c\nstonith t /f g\napiauth x uid=1\nenv A=b\n",
		"udp eth0\nnode\nFoo\n# only comments\n\x00\xff\n",
	)
	f.Fuzz(func(t *testing.T, in string) {
		c, err := ParseHACF(strings.NewReader(in), "ha.cf")
		if err != nil {
			if c != nil {
				t.Fatal("config returned with an error")
			}
			checkErrorList(t, err, "ha.cf", in)
			return
		}
		checkRoundTrip(t, c)
	})
}

func FuzzParseTOML(f *testing.F) {
	addSeeds(f, "ha.toml.sample",
		equivTOML,
		"nodes = [\"a\"]\n[[media]]\nkind = \"bcast\"\ndev = \"eth0\"\n",
		"nodes = [\"a\", 1]\nkeepalive = true\nfrob = 2\n[[media]]\nkind = 3\n[auth]\ncurrent = 20\n",
		"nodes = [\"a\"]\n[[media]]\nkind = \"mcast\"\ndev = \"e\"\ngroup = \"239.1.1.1\"\nport = 1\nttl = 0\nloop = 1\n[[ping]]\ngroup = \"g\"\nhosts = [\"h\"]\n",
		"a = \"\"\"\nb = 1\n\"\"\"\nc = [\n{d = 1},\n]\n[[e.f]]\n[e.f.g]\n",
		"media = 3\n",
		"[x\n",
	)
	f.Fuzz(func(t *testing.T, in string) {
		c, err := ParseTOML(strings.NewReader(in), "ha.toml")
		if err != nil {
			if c != nil {
				t.Fatal("config returned with an error")
			}
			checkErrorList(t, err, "ha.toml", in)
			return
		}
		checkRoundTrip(t, c)
	})
}

func FuzzParseAuthkeys(f *testing.F) {
	addSeeds(f, "authkeys.sample",
		keysFile,
		"auth 1\n1 crc\n",
		"2 sha1 x#y\r\nauth 2\n",
		"auth 1\n1 md5\n1 crc k\n16 sha1 k\nauth 2 3\nkey\n",
		"auth 0\n0 sha256 Zq!9$Wv%Lp\n0 Zq!9$Wv%Lp\n",
	)
	f.Fuzz(func(t *testing.T, in string) {
		kr, _, err := ParseAuthkeys(strings.NewReader(in), "authkeys")
		if err != nil {
			checkErrorList(t, err, "authkeys", in)
			// Messages must not depend on key material: masking every
			// key (and every unknown method word, which may be a key)
			// must give the same errors.
			if len(in) < maxLine {
				_, _, masked := ParseAuthkeys(strings.NewReader(maskKeys(in)), "authkeys")
				if masked == nil || masked.Error() != err.Error() {
					t.Fatalf("messages depend on key material:\n%v\nmasked:\n%v", err, masked)
				}
			}
			return
		}
		if _, ok := kr.Keys[kr.Current]; !ok {
			t.Fatalf("signing key %d missing", kr.Current)
		}
		data := []byte("t=status")
		if err := kr.Verify(kr.Sign(data), data); err != nil {
			t.Fatalf("own signature rejected: %v", err)
		}
	})
}

// maskKeys replaces the key of every key line with "K" and a method word
// that is not a method with "M", keeping the line structure.
func maskKeys(in string) string {
	lines := strings.Split(in, "\n")
	for i, line := range lines {
		f := fields(line)
		if len(f) < 2 || f[0] == "auth" || strings.HasPrefix(f[0], "#") {
			continue
		}
		if _, err := auth.ParseMethod(f[1]); err != nil {
			f[1] = "M"
		}
		for j := 2; j < len(f); j++ {
			f[j] = "K"
		}
		lines[i] = strings.Join(f, " ")
	}
	return strings.Join(lines, "\n")
}

func FuzzParseDuration(f *testing.F) {
	for _, s := range []string{"1", "0.5", "500ms", "2 s", "499us", "1500usec", ".5", "5.", "-1", "1e3", "2147483.647", "9999999999", "1..2", "  3MS "} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		d, err := ParseDuration(s)
		if err != nil {
			return
		}
		if d < 0 || d%time.Millisecond != 0 || d > maxMillis*time.Millisecond {
			t.Fatalf("ParseDuration(%q) = %v", s, d)
		}
		again, err := ParseDuration(formatMillis(d))
		if err != nil || again != d {
			t.Fatalf("%v does not round-trip through %q: %v, %v", d, formatMillis(d), again, err)
		}
	})
}
