package config

import (
	"strings"
	"testing"
	"time"
)

func TestMonitorInterval(t *testing.T) {
	for _, tt := range []struct {
		line string
		want time.Duration
		err  string
	}{
		{"", 0, ""},
		{"monitor_interval 0\n", 0, ""},
		{"monitor_interval 10\n", 10 * time.Second, ""},
		{"monitor_interval 500ms\n", 500 * time.Millisecond, ""},
		{"monitor_interval 2s\n", 2 * time.Second, ""},
		{"monitor_interval 50ms\n", 0, "ha.cf:3: monitor_interval 50ms: want 0 (off) or at least 100ms"},
		{"monitor_interval soon\n", 0, "ha.cf:3: monitor_interval:"},
		{"monitor_interval 1s\nmonitor_interval 2s\n", 0, "ha.cf:4: monitor_interval may be given only once"},
	} {
		c, err := ParseHACF(strings.NewReader(base+tt.line), "ha.cf")
		if tt.err != "" {
			if err == nil || !strings.Contains(err.Error(), tt.err) {
				t.Errorf("%q: error %v, want %q", tt.line, err, tt.err)
			}
			continue
		}
		if err != nil {
			t.Errorf("%q: %v", tt.line, err)
			continue
		}
		if c.MonitorInterval != tt.want {
			t.Errorf("%q: MonitorInterval %v, want %v", tt.line, c.MonitorInterval, tt.want)
		}
		if !strings.Contains(c.Effective(), "monitor_interval ") {
			t.Errorf("%q: heartbeat -t does not show monitor_interval:\n%s", tt.line, c.Effective())
		}
	}
}

func TestMonitorIntervalTOML(t *testing.T) {
	src := "nodes = [\"node1\", \"node2\"]\nmonitor_interval = \"3s\"\n[[media]]\nkind = \"ucast\"\ndev = \"eth0\"\npeer = \"198.18.0.2\"\n"
	c, err := ParseTOML(strings.NewReader(src), "ha.toml")
	if err != nil {
		t.Fatal(err)
	}
	if c.MonitorInterval != 3*time.Second {
		t.Errorf("MonitorInterval %v", c.MonitorInterval)
	}
}
