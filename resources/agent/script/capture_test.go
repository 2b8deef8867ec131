package script

import (
	"os/exec"
	"testing"
)

func TestStatusGlob(t *testing.T) {
	tests := []struct {
		out  string
		want bool
	}{
		{"", false},
		{"running", true},
		{"Running", true},
		{"RUNNING", false},
		{"is running\n", true},
		{"INFO:  Running OK", true},
		{"OK", true},
		{"ok", false},
		{"Ok", false},
		{"not running", false},
		{"Not Running", false},
		{"NOT running", false},
		{"nOt rUnning", false}, // [Rr]unning: only the first letter may be upper case
		{"nOt Running", false},
		{"not  running", false},
		{"not\trunning", true}, // the glob wants a blank, not a tab
		{"notrunning", true},
		{"not \n\n running", false},
		{"not ok", false},
		{"NOT OK", true},
		{"cannot run; it is running", false}, // "cannot " holds "not " (a Heartbeat quirk)
		{"cannot start: service not running", false},
		{"running\nnot running", false},
		{"not running\nrunning", false},
		{"stopped", false},
		{"is active (running)", true},
		{"runnin", false},
		{"xnot running", false},
		{"snot rrunning", false},
	}
	for _, tt := range tests {
		// Feed byte by byte and all at once: the window must not care.
		var whole, bytewise statusGlob
		whole.feed([]byte(tt.out))
		for i := 0; i < len(tt.out); i++ {
			bytewise.feed([]byte{tt.out[i]})
		}
		if got := whole.running(); got != tt.want {
			t.Errorf("%q: running = %v, want %v", tt.out, got, tt.want)
		}
		if bytewise.running() != whole.running() {
			t.Errorf("%q: byte-wise feeding disagrees", tt.out)
		}
	}
}

// TestStatusGlobMatchesShell checks the matcher against the shell that
// Heartbeat's ResourceManager uses.
func TestStatusGlobMatchesShell(t *testing.T) {
	sh, err := exec.LookPath("sh")
	if err != nil {
		t.Skip("no sh")
	}
	const prog = `case "$1" in *[Nn][Oo][Tt]\ *[Rr]unning*) echo no;; *[Rr]unning*|*OK*) echo yes;; *) echo no;; esac`
	for _, out := range []string{"", "running", "RUNNING", "not running", "NOT OK", "not\trunning", "x not \n y Running z",
		"running\nnot running", "nOt rUnning", "OKnot running", "Not  Running", "rrunning", "n o t running", "OK"} {
		b, err := exec.Command(sh, "-c", prog, "sh", out).Output()
		if err != nil {
			t.Fatal(err)
		}
		var g statusGlob
		g.feed([]byte(out))
		if want := string(b) == "yes\n"; g.running() != want {
			t.Errorf("%q: matcher says %v, sh says %v", out, g.running(), want)
		}
	}
}

// FuzzStatusGlob compares the streaming matcher with a direct evaluation.
func FuzzStatusGlob(f *testing.F) {
	for _, s := range []string{"running", "not running", "NOT OK", "nOt rUnning"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		var g statusGlob
		g.feed([]byte(s))
		if got, want := g.running(), referenceGlob(s); got != want {
			t.Errorf("%q: %v, want %v", s, got, want)
		}
	})
}

// referenceGlob evaluates the three patterns directly on the whole string.
func referenceGlob(s string) bool {
	isRunning := func(i int) bool { return i+7 <= len(s) && (s[i] == 'R' || s[i] == 'r') && s[i+1:i+7] == "unning" }
	for i := 0; i+4 <= len(s); i++ {
		if oneOf(s[i], 'N', 'n') && oneOf(s[i+1], 'O', 'o') && oneOf(s[i+2], 'T', 't') && s[i+3] == ' ' {
			for j := i + 4; j < len(s); j++ {
				if isRunning(j) {
					return false
				}
			}
		}
	}
	for i := range s {
		if isRunning(i) || (i+2 <= len(s) && s[i:i+2] == "OK") {
			return true
		}
	}
	return false
}
