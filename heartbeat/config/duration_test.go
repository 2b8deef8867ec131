package config

import (
	"testing"
	"time"
)

func TestParseDuration(t *testing.T) {
	ms := time.Millisecond
	tests := []struct {
		in   string
		want time.Duration
		bad  bool
	}{
		{in: "1", want: time.Second},
		{in: "30", want: 30 * time.Second},
		{in: "0", want: 0},
		{in: "0.5", want: 500 * ms},
		{in: "0.1", want: 100 * ms},
		{in: ".25", want: 250 * ms},
		{in: "2.", want: 2 * time.Second},
		{in: "1000ms", want: time.Second},
		{in: "1000 ms", want: time.Second},
		{in: "250MS", want: 250 * ms},
		{in: "5msec", want: 5 * ms},
		{in: "30s", want: 30 * time.Second},
		{in: "1.5s", want: 1500 * ms},
		{in: "499us", want: 0},
		{in: "500us", want: ms},
		{in: "1500usec", want: 2 * ms},
		{in: "0.0005", want: ms},   // 0.5ms rounds half up
		{in: "0.0004999", want: 0}, // just under half
		{in: " 7 ", want: 7 * time.Second},
		{in: "2147483.647", want: 2147483647 * ms},
		{in: "", bad: true},
		{in: "ms", bad: true},
		{in: "-1", bad: true},
		{in: "+1", bad: true},
		{in: "1e3", bad: true},
		{in: "1.2.3", bad: true},
		{in: "10m", bad: true},
		{in: "10sec", bad: true},
		{in: "10 s x", bad: true},
		{in: "0x10", bad: true},
		{in: ".", bad: true},
		{in: "2147483.648", bad: true},
		{in: "99999999999999999999999", bad: true},
	}
	for _, tc := range tests {
		got, err := ParseDuration(tc.in)
		switch {
		case tc.bad && err == nil:
			t.Errorf("ParseDuration(%q) = %v, want an error", tc.in, got)
		case !tc.bad && err != nil:
			t.Errorf("ParseDuration(%q): %v", tc.in, err)
		case !tc.bad && got != tc.want:
			t.Errorf("ParseDuration(%q) = %v, want %v", tc.in, got, tc.want)
		}
	}
}
