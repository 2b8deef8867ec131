package script

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestParseParams(t *testing.T) {
	tests := []struct {
		name    string
		in      string
		want    []Param
		wantErr string // "file:line: ..." substring
	}{
		{name: "empty", in: ""},
		{name: "comments and blanks", in: "# c\n\n   \t\n  # indented\n"},
		{name: "plain", in: "ip=10.0.0.1\n", want: []Param{{"ip", "10.0.0.1", 1}}},
		{name: "double quotes", in: `OCF_RESKEY_x="a b"`, want: []Param{{"OCF_RESKEY_x", "a b", 1}}},
		{name: "single quotes keep everything", in: `x='$HOME "q" \n'`, want: []Param{{"x", `$HOME "q" \n`, 1}}},
		{name: "double quote escapes", in: `x="a\"b\\c\$d\` + "`" + `e\nf"`, want: []Param{{"x", "a\"b\\c$d`e\\nf", 1}}},
		{name: "concatenation", in: `x=a'b c'"d"`, want: []Param{{"x", "ab cd", 1}}},
		{name: "empty value", in: "x=\ny=''\n", want: []Param{{"x", "", 1}, {"y", "", 2}}},
		{name: "trailing comment", in: "x=1 # one\ny='2'\t# two\n", want: []Param{{"x", "1", 1}, {"y", "2", 2}}},
		{name: "hash inside a word", in: "x=a#b\n", want: []Param{{"x", "a#b", 1}}},
		{name: "equals in value", in: "x=a=b\n", want: []Param{{"x", "a=b", 1}}},
		{name: "export prefix", in: "export x=1\nexport\ty=2\n", want: []Param{{"x", "1", 1}, {"y", "2", 2}}},
		{name: "leading blanks and CRLF", in: "  x=1\r\n", want: []Param{{"x", "1", 1}}},
		{name: "escaped blank", in: `x=a\ b`, want: []Param{{"x", "a b", 1}}},
		{name: "duplicate keeps last", in: "x=1\ny=2\nx=3\n", want: []Param{{"x", "3", 3}, {"y", "2", 2}}},
		{name: "exportvar is a name", in: "exportvar=1\n", want: []Param{{"exportvar", "1", 1}}},
		{name: "no equals", in: "x=1\njunk\n", wantErr: "f:2: expected NAME=value"},
		{name: "bad name", in: "1x=2\n", wantErr: `f:1: invalid variable name "1x"`},
		{name: "dash in name", in: "a-b=2\n", wantErr: "f:1: invalid variable name"},
		{name: "empty name", in: "=2\n", wantErr: "f:1: invalid variable name"},
		{name: "blank before equals", in: "x =2\n", wantErr: "f:1: invalid variable name"},
		{name: "two assignments", in: "x=1 y=2\n", wantErr: "f:1: x: unexpected"},
		{name: "command after", in: "x=1 rm -rf /\n", wantErr: "f:1: x: unexpected"},
		{name: "unquoted blank value", in: "x=a b\n", wantErr: "f:1: x: unexpected \"b\""},
		{name: "expansion unquoted", in: "x=$HOME\n", wantErr: "f:1: x: shell expansion ($)"},
		{name: "expansion double quoted", in: `x="$(id)"`, wantErr: "f:1: x: shell expansion ($)"},
		{name: "backquote", in: "x=`id`\n", wantErr: "f:1: x: shell expansion (`)"},
		{name: "semicolon", in: "x=1;id\n", wantErr: `f:1: x: shell syntax ';'`},
		{name: "pipe", in: "x=1|id\n", wantErr: "f:1: x: shell syntax '|'"},
		{name: "tilde", in: "x=~/a\n", wantErr: "f:1: x: tilde expansion"},
		{name: "unterminated single", in: "\n\nx='abc\n", wantErr: "f:3: x: unterminated single quote"},
		{name: "unterminated double", in: `x="abc`, wantErr: "f:1: x: unterminated double quote"},
		{name: "continuation", in: "x=abc\\\n", wantErr: "f:1: x: line continuation"},
		{name: "NUL", in: "x=a\x00b\n", wantErr: "f:1: NUL byte"},
		{name: "too long line", in: "x=" + strings.Repeat("a", maxParamLine+10) + "\n", wantErr: "f:1: line longer than"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ParseParams(strings.NewReader(tt.in), "f")
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("err = %v, want %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if len(got) != len(tt.want) {
				t.Fatalf("got %+v, want %+v", got, tt.want)
			}
			for i := range got {
				if got[i] != tt.want[i] {
					t.Errorf("param %d = %+v, want %+v", i, got[i], tt.want[i])
				}
			}
		})
	}
}

func TestParamEnvName(t *testing.T) {
	for name, want := range map[string]string{
		"ip":              "OCF_RESKEY_ip",
		"OCF_RESKEY_ip":   "OCF_RESKEY_ip",
		"OCF_CHECK_LEVEL": "OCF_CHECK_LEVEL",
		"ocf_x":           "OCF_RESKEY_ocf_x",
	} {
		if got := (Param{Name: name}).EnvName(); got != want {
			t.Errorf("EnvName(%s) = %s, want %s", name, got, want)
		}
	}
}

func TestReadParamFile(t *testing.T) {
	dir := t.TempDir()
	good := writeFile(t, filepath.Join(dir, "good"), "ip=1.2.3.4\n", 0o644)
	bad := writeFile(t, filepath.Join(dir, "bad"), "ip=1.2.3.4\nnonsense here\n", 0o644)
	if p, err := ReadParamFile(good); err != nil || len(p) != 1 {
		t.Errorf("good: %v %v", p, err)
	}
	if _, err := ReadParamFile(bad); err == nil || !strings.Contains(err.Error(), bad+":2:") {
		t.Errorf("bad: %v, want %s:2:", err, bad)
	}
	if _, err := ReadParamFile(dir); err == nil || !strings.Contains(err.Error(), "not a regular file") {
		t.Errorf("directory: %v", err)
	}
	if _, err := ReadParamFile(filepath.Join(dir, "missing")); err == nil || !os.IsNotExist(unwrapAll(err)) {
		t.Errorf("missing: %v", err)
	}
}

func unwrapAll(err error) error {
	for {
		u, ok := err.(interface{ Unwrap() error })
		if !ok || u.Unwrap() == nil {
			return err
		}
		err = u.Unwrap()
	}
}

// FuzzParseParams: no panics, and every accepted value is free of what a
// shell would have expanded, with names that are valid variable names.
func FuzzParseParams(f *testing.F) {
	for _, s := range []string{"x=1\n", `x="a b" # c`, "x='$y'", "export a=b\n#c\n", `x=a\ b"c"'d'`, "x=\"\\$\"\n"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, in string) {
		params, err := ParseParams(strings.NewReader(in), "fuzz")
		if err != nil {
			if !strings.HasPrefix(err.Error(), "fuzz") {
				t.Errorf("error without the file name: %v", err)
			}
			return
		}
		for _, p := range params {
			if !validName(p.Name) || strings.ContainsRune(p.Value, 0) || p.Line < 1 {
				t.Errorf("bad param %+v", p)
			}
		}
	})
}
