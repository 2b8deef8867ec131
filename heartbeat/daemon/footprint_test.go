package daemon

import (
	"os"
	"strings"
	"testing"
)

func TestReadOnlyMappingOf(t *testing.T) {
	const exe = "/usr/sbin/heartbeat"
	tests := []struct {
		line       string
		start, end uintptr
		ok         bool
	}{
		{"00400000-0070c000 r-xp 00000000 fd:01 123 /usr/sbin/heartbeat", 0x400000, 0x70c000, true},
		{"0070c000-00a3c000 r--p 0030c000 fd:01 123 /usr/sbin/heartbeat", 0x70c000, 0xa3c000, true},
		{"00a3c000-00a9d000 rw-p 0063c000 fd:01 123 /usr/sbin/heartbeat", 0, 0, false}, // data: never
		{"7f00-8f00 r--s 00000000 fd:01 123 /usr/sbin/heartbeat", 0, 0, false},         // shared
		{"00400000-0070c000 r-xp 00000000 fd:01 124 /usr/lib/other.so", 0, 0, false},
		{"00400000-0070c000 r-xp 00000000 fd:01 124 /usr/sbin/heartbeat (deleted)", 0, 0, false},
		{"00400000-0070c000 r-xp 00000000 fd:01 124        /usr/sbin/heartbeat", 0x400000, 0x70c000, true},
		{"7ffd1000-7ffd3000 r-xp 00000000 00:00 0 [vdso]", 0, 0, false},
		{"zz-0070c000 r-xp 00000000 fd:01 123 /usr/sbin/heartbeat", 0, 0, false},
		{"0070c000-00400000 r-xp 00000000 fd:01 123 /usr/sbin/heartbeat", 0, 0, false},
		{"", 0, 0, false},
	}
	for _, tc := range tests {
		s, e, ok := readOnlyMappingOf(tc.line, exe)
		if tc.ok {
			// A replaced binary: both the maps line and the link say so.
			if s2, e2, ok2 := readOnlyMappingOf(tc.line+" (deleted)", exe+" (deleted)"); s2 != tc.start || e2 != tc.end || !ok2 {
				t.Errorf("%q (deleted): %x-%x %v", tc.line, s2, e2, ok2)
			}
		}
		if s != tc.start || e != tc.end || ok != tc.ok {
			t.Errorf("%q: %x-%x %v, want %x-%x %v", tc.line, s, e, ok, tc.start, tc.end, tc.ok)
		}
	}
}

// Dropping the executable's read-only pages must leave the process
// working: this test binary runs on after it, through code and tables it
// must fault back in, and its writable data is intact.
func TestReleaseStartupMemoryKeepsTheProcessWorking(t *testing.T) {
	marker := strings.Repeat("data that must survive ", 100)
	if err := releaseStartupMemory(); err != nil {
		t.Fatalf("releaseStartupMemory: %v", err)
	}
	if marker != strings.Repeat("data that must survive ", 100) {
		t.Fatal("memory changed")
	}
	if _, err := os.ReadFile("/proc/self/status"); err != nil {
		t.Fatal(err)
	}
	if err := releaseStartupMemory(); err != nil { // twice is harmless
		t.Fatalf("second releaseStartupMemory: %v", err)
	}
}
