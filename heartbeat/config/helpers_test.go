package config

import (
	"errors"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// base completes a snippet into a valid ha.cf: tests put the snippet first
// so that its errors are on known lines.
const base = "node node1 node2\nucast eth0 198.18.0.2\n"

// directiveCase is one row of the directive tables: the snippet, and either
// the error expected on a line or a check of the result.
type directiveCase struct {
	name  string
	in    string
	line  int    // line of the expected error
	err   string // substring of the expected error ("" = must parse)
	warn  string // substring of an expected warning
	check func(t *testing.T, c *Config)
}

func runDirectiveCases(t *testing.T, cases []directiveCase) {
	t.Helper()
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			c, err := ParseHACF(strings.NewReader(tc.in+"\n"+base), "ha.cf")
			if tc.err != "" {
				wantDiag(t, err, "ha.cf", tc.line, tc.err)
				return
			}
			if err != nil {
				t.Fatalf("unexpected error:\n%v", err)
			}
			if tc.warn != "" && !hasDiag(c.Warnings, tc.warn) {
				t.Errorf("no warning containing %q in %v", tc.warn, c.Warnings)
			}
			if tc.check != nil {
				tc.check(t, c)
			}
		})
	}
}

// wantDiag asserts that err is an ErrorList with a Diag at file:line whose
// message contains msg, and that the rendered error shows "file:line: ".
func wantDiag(t *testing.T, err error, file string, line int, msg string) {
	t.Helper()
	var el ErrorList
	if !errors.As(err, &el) {
		t.Fatalf("error %v (%T) is not an ErrorList", err, err)
	}
	for _, d := range el {
		if d.File == file && d.Line == line && strings.Contains(d.Msg, msg) {
			prefix := file + ":"
			if line > 0 {
				prefix = file + ":" + strconv.Itoa(line) + ":"
			}
			if !strings.Contains(err.Error(), prefix+" "+d.Msg) {
				t.Errorf("rendered error %q lacks %q", err.Error(), prefix)
			}
			return
		}
	}
	t.Fatalf("no error at %s:%d containing %q in:\n%v", file, line, msg, err)
}

func hasDiag(ds []Diag, msg string) bool {
	for _, d := range ds {
		if strings.Contains(d.Msg, msg) {
			return true
		}
	}
	return false
}

// writeFile creates dir/name with the given mode (umask does not apply).
func writeFile(t *testing.T, dir, name, text string, mode os.FileMode) string {
	t.Helper()
	p := filepath.Join(dir, name)
	if err := os.WriteFile(p, []byte(text), mode); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(p, mode); err != nil {
		t.Fatal(err)
	}
	return p
}

// stripPositions strips what legitimately differs between two sources of the
// same configuration: file names and positions, and written forms.
func stripPositions(c *Config) Config {
	x := *c
	x.Dir, x.Source = "", ""
	x.Set = nil
	x.params = nil
	x.Warnings = nil
	x.Media = append([]Medium(nil), c.Media...)
	for i := range x.Media {
		x.Media[i].Pos = Pos{}
	}
	x.Ping = append([]PingSpec(nil), c.Ping...)
	for i := range x.Ping {
		x.Ping[i].Pos = Pos{}
	}
	x.Notify.Hooks = append([]HookSpec(nil), c.Notify.Hooks...)
	for i := range x.Notify.Hooks {
		x.Notify.Hooks[i].Pos = Pos{}
	}
	x.Stonith = append([]StonithSpec(nil), c.Stonith...)
	for i := range x.Stonith {
		x.Stonith[i].Pos = Pos{}
	}
	return x
}

// messages lists warning texts without positions.
func messages(ds []Diag) []string {
	var m []string
	for _, d := range ds {
		m = append(m, d.Msg)
	}
	return m
}
