package e2ekit

import (
	"testing"
	"time"
)

// TestParseLogTime checks the timestamp parser on a line as the daemon
// writes it.
func TestParseLogTime(t *testing.T) {
	line := "2025-11-22T05:37:00.123Z\tWARN\tnode node2 is dead\t{\"node\": \"node2\"}"
	ts, err := ParseLogTime(line)
	if err != nil {
		t.Fatal(err)
	}
	want := time.Date(2025, 11, 22, 5, 37, 0, 123e6, time.UTC)
	if !ts.Equal(want) {
		t.Fatalf("got %v, want %v", ts, want)
	}
	if _, err := ParseLogTime("garbage"); err == nil {
		t.Fatal("parsed a line without a timestamp")
	}
}
