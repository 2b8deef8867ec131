package testbed

import "testing"

func TestTailAndCountLines(t *testing.T) {
	log := "a dead\nb\nc dead\nd\n"
	if got := Tail(log, 2); got != "c dead\nd" {
		t.Errorf("Tail = %q", got)
	}
	if got := CountLines(log, "dead"); got != 2 {
		t.Errorf("CountLines = %d, want 2", got)
	}
	if got := CountLines("", "dead"); got != 0 {
		t.Errorf("CountLines of nothing = %d", got)
	}
}
