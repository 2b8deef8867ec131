package haresources

import (
	"reflect"
	"regexp"
	"strings"
	"testing"
)

// errLineRe matches one error line that names file:line.
var errLineRe = regexp.MustCompile(`^f:[1-9][0-9]*: `)

func checkErrLines(t *testing.T, err error) {
	t.Helper()
	for _, l := range strings.Split(err.Error(), "\n") {
		if !errLineRe.MatchString(l) {
			t.Fatalf("error line %q does not name f:line", l)
		}
	}
}

func checkGroups(t *testing.T, gs []Group) {
	t.Helper()
	for _, g := range gs {
		if len(g.Resources) == 0 || g.Key != g.Resources[0].Raw || g.Node != strings.ToLower(g.Node) {
			t.Fatalf("bad group %+v", g)
		}
		for _, r := range g.Resources {
			if (r.Kind == KindIP) != (r.IP != nil) || (r.Kind == KindOCF) != (r.OCF != nil) || r.Type == "" {
				t.Fatalf("bad resource %s", dump(r))
			}
		}
	}
}

func FuzzParse(f *testing.F) {
	for _, s := range []string{
		plainForm,
		"node1 198.18.0.100/24/eth0 httpd\n",
		"# c\nNODE2 a \\\n  b # x\n",
		"node1 htt\\\npd\n",
		"node1 ocf:heartbeat:Dummy::a=1 ocf:heartbeat:Dummy::a=2 OCF::x::y\n",
		"node1 IPaddr2::10.0.0.1/24/eth0:0/10.0.0.255 fe80::1/64/eth0\r\n",
		"node1 x\nnode2 x\n",
		"node1\n",
		"node1 a\\ b",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, src string) {
		for _, nodes := range [][]string{nil, twoNodes} {
			gs, err := Parse(strings.NewReader(src), "f", nodes)
			if err != nil {
				checkErrLines(t, err)
				continue
			}
			checkGroups(t, gs)
			out := render(gs)
			again, err := Parse(strings.NewReader(out), "f", nodes)
			if err != nil {
				t.Fatalf("re-parse of\n%q\nfrom\n%q\nfailed: %v", out, src, err)
			}
			if !sameGroups(gs, again, false) {
				t.Fatalf("round trip of %q differs:\n%s\n%s", src, dumpGroups(gs), dumpGroups(again))
			}
		}
	})
}

func FuzzParseResource(f *testing.F) {
	for _, s := range []string{
		"198.18.0.100/24/eth0", "10.0.0.1/255.255.0.0/eth0:1/10.0.255.255", "IPaddr2::10.0.0.1/24/10.0.0.255",
		"2001:db8::1/64/eth0", "IPv6addr::fe80::1", "::ffff:1.2.3.4", "64:ff9b::1.2.3.4/96",
		"OCF::Dummy::x", "ocf:heartbeat:Dummy::state=/x::b=", "OCF:heartbeat:Dummy",
		"httpd", "Filesystem::/dev/sda1::/data::ext4", "a:::b", "..", "x::", "1.2.3.4.5",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, tok string) {
		pos := Pos{File: "f", Line: 3}
		r, err := ParseResource(tok, pos)
		if err != nil {
			if !strings.HasPrefix(err.Error(), "f:3: ") {
				t.Fatalf("error %q does not name f:3", err)
			}
			return
		}
		if r.Raw != tok || r.Pos != pos {
			t.Fatalf("Raw %q Pos %v for %q", r.Raw, r.Pos, tok)
		}
		checkGroups(t, []Group{{Key: tok, Node: "n", Resources: []Resource{r}}})
		again, err := ParseResource(r.Raw, pos)
		if err != nil || !reflect.DeepEqual(r, again) {
			t.Fatalf("re-parse of %q: %v\n%s\n%s", tok, err, dump(r), dump(again))
		}
		// A valid token is one word of a haresources line.
		gs, err := Parse(strings.NewReader("n "+tok+"\n"), "f", nil)
		if err != nil || len(gs) != 1 || len(gs[0].Resources) != 1 || gs[0].Resources[0].Raw != tok {
			t.Fatalf("token %q does not parse as a line: %v", tok, err)
		}
	})
}

func FuzzParseTOML(f *testing.F) {
	for _, s := range []string{
		tomlForm,
		"[[group]]\nnode = \"node1\"\nresources = [\"a\", \"b\"]\ntimeout = 3\n[[group.resource_options]]\nresource = 1\ntimeout = \"1s\"\n",
		"group = [{node = \"node2\", resources = ['x'], resource_options = [{resource = 'x', timeout = 1.5}]}]\n",
		"nodes = 1\n",
		"[[group]]\nnode = \"node1\"\nresources = [\"a\"]\nrestarts = 2\nrestart_window = \"1m\"\n[[group.resource_options]]\nresource = 0\nmonitor_interval = \"1s\"\nmonitor_timeout = 0.5\n",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, src string) {
		gs, err := ParseTOML(strings.NewReader(src), "f", twoNodes)
		if err != nil {
			if !strings.HasPrefix(err.Error(), "f:") {
				t.Fatalf("error %q does not name the file", err)
			}
			return
		}
		checkGroups(t, gs)
		out := render(gs)
		again, err := Parse(strings.NewReader(out), "f", twoNodes)
		if err != nil || !sameGroups(gs, again, true) {
			t.Fatalf("TOML groups of %q do not round-trip through %q: %v", src, out, err)
		}
	})
}
