package stonith

import (
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

func TestParseParams(t *testing.T) {
	tests := []struct {
		name  string
		line  string
		names []string
		want  []Param
		err   bool
	}{
		{name: "one name takes the whole line", line: "a b", names: []string{"hostlist"},
			want: []Param{{"hostlist", "a b"}}},
		{name: "positional", line: "198.18.0.9 admin s3cret", names: []string{"ipaddr", "userid", "passwd"},
			want: []Param{{"ipaddr", "198.18.0.9"}, {"userid", "admin"}, {"passwd", "s3cret"}}},
		{name: "last takes the rest with inner blanks", line: " \t198.18.0.9\tadmin  pass word  with\tspaces \r\n",
			names: []string{"ipaddr", "userid", "passwd"},
			want:  []Param{{"ipaddr", "198.18.0.9"}, {"userid", "admin"}, {"passwd", "pass word  with\tspaces"}}},
		{name: "too few values", line: "198.18.0.9 admin", names: []string{"ipaddr", "userid", "passwd"}, err: true},
		{name: "empty line with names", line: "  ", names: []string{"hostlist"}, err: true},
		{name: "no names ignores the line", line: "whatever", names: nil, want: []Param{}},
		{name: "no names, no line", line: "", names: nil, want: []Param{}},
		{name: "invalid name", line: "x", names: []string{"a=b"}, err: true},
		{name: "empty name", line: "x", names: []string{""}, err: true},
		{name: "NUL in value", line: "a\x00b", names: []string{"hostlist"}, err: true},
		{name: "form feed is a separator", line: "a\fb", names: []string{"x", "y"},
			want: []Param{{"x", "a"}, {"y", "b"}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ParseParams(tt.line, tt.names)
			if (err != nil) != tt.err {
				t.Fatalf("err = %v, want error %v", err, tt.err)
			}
			if err != nil {
				if strings.Contains(err.Error(), "s3cret") {
					t.Errorf("error quotes a value: %v", err)
				}
				return
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("got %q, want %q", got, tt.want)
			}
		})
	}
}

func TestFirstParamLine(t *testing.T) {
	tests := []struct {
		in   string
		want string
		ok   bool
	}{
		{"a b c\n", "a b c", true},
		{"# comment\n\n   \t\n198.18.0.9 admin pw\nsecond line\n", "198.18.0.9 admin pw", true},
		{"  # not a comment: '#' must be in column 1\n", "  # not a comment: '#' must be in column 1", true},
		{"dos line\r\n", "dos line", true},
		{"no newline", "no newline", true},
		{"# only\n#comments\n", "", false},
		{"", "", false},
	}
	for _, tt := range tests {
		got, ok := FirstParamLine([]byte(tt.in))
		if got != tt.want || ok != tt.ok {
			t.Errorf("FirstParamLine(%q) = %q, %v; want %q, %v", tt.in, got, ok, tt.want, tt.ok)
		}
	}
}

func TestParamLineFile(t *testing.T) {
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "dev.cfg"), []byte("# ipmi\nnode1 node2\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "empty.cfg"), []byte("# nothing\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	hacf := filepath.Join(dir, "ha.cf")
	tests := []struct {
		name string
		spec Spec
		want string
		err  bool
	}{
		{name: "stonith_host params", spec: Spec{Host: "*", Type: "null", Params: "a b"}, want: "a b"},
		{name: "relative file next to ha.cf", spec: Spec{Type: "null", File: "dev.cfg", Where: hacf + ":3", Dir: filepath.Dir(hacf)}, want: "node1 node2"},
		{name: "absolute file", spec: Spec{Type: "null", File: filepath.Join(dir, "dev.cfg")}, want: "node1 node2"},
		{name: "missing file", spec: Spec{Type: "null", File: filepath.Join(dir, "nope")}, err: true},
		{name: "no parameter line", spec: Spec{Type: "null", File: filepath.Join(dir, "empty.cfg")}, err: true},
		{name: "directory", spec: Spec{Type: "null", File: dir}, err: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := paramLine(tt.spec, func(string) {})
			if (err != nil) != tt.err || got != tt.want {
				t.Errorf("got %q, %v; want %q, error %v", got, err, tt.want, tt.err)
			}
		})
	}
}

func FuzzParseParams(f *testing.F) {
	f.Add("198.18.0.9 admin pass word", "ipaddr userid passwd")
	f.Add("a b", "hostlist")
	f.Add("  \t\r\n", "x y")
	f.Add("a\x00b c", "x y")
	f.Add("x", "")
	f.Add("a b c", "a=b c")
	f.Fuzz(func(t *testing.T, line, nameLine string) {
		names := fields(nameLine)
		if len(names) > 8 {
			names = names[:8]
		}
		params, err := ParseParams(line, names)
		if err != nil {
			if params != nil {
				t.Fatalf("params %q with error %v", params, err)
			}
			return
		}
		if len(params) != len(names) {
			t.Fatalf("%d params for %d names", len(params), len(names))
		}
		if len(names) == 0 {
			return
		}
		words := fields(line)
		if len(words) < len(names) {
			t.Fatalf("%d words filled %d names", len(words), len(names))
		}
		for i, p := range params {
			if p.Name != names[i] {
				t.Fatalf("param %d named %q, want %q", i, p.Name, names[i])
			}
			if p.Value == "" || strings.ContainsRune(p.Value, 0) {
				t.Fatalf("bad value %q", p.Value)
			}
			if i < len(params)-1 {
				if p.Value != words[i] {
					t.Fatalf("value %d = %q, want word %q", i, p.Value, words[i])
				}
				continue
			}
			// The last value is the rest of the line: its words are the
			// remaining words, and it is trimmed.
			if got, want := fields(p.Value), words[i:]; !reflect.DeepEqual(got, want) {
				t.Fatalf("last value %q has words %q, want %q", p.Value, got, want)
			}
			if strings.TrimLeft(p.Value, delims) != p.Value || strings.TrimRight(p.Value, delims) != p.Value {
				t.Fatalf("last value %q not trimmed", p.Value)
			}
			if !strings.HasSuffix(strings.TrimRight(line, delims), p.Value) {
				t.Fatalf("last value %q is not the end of %q", p.Value, line)
			}
		}
	})
}

func FuzzFirstParamLine(f *testing.F) {
	f.Add([]byte("# c\n\na b\nc\n"))
	f.Add([]byte("\r\n \t\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		line, ok := FirstParamLine(data)
		if !ok {
			if line != "" {
				t.Fatalf("line %q without ok", line)
			}
			return
		}
		if strings.ContainsRune(line, '\n') || strings.HasPrefix(line, "#") || strings.Trim(line, delims) == "" {
			t.Fatalf("bad line %q", line)
		}
		if !strings.Contains(string(data), line) {
			t.Fatalf("line %q not in input", line)
		}
	})
}
