package config

import (
	"strings"
	"testing"
	"time"
)

func TestPingInterval(t *testing.T) {
	runDirectiveCases(t, []directiveCase{
		{name: "default is keepalive", in: "keepalive 2\nping 198.18.0.254", check: func(t *testing.T, c *Config) {
			if c.PingInterval != 2*time.Second {
				t.Errorf("PingInterval %v, want keepalive 2s", c.PingInterval)
			}
		}},
		{name: "default at least 100ms", in: "keepalive 10ms\ndeadtime 50ms\ndeadping 500ms\nping 198.18.0.254", check: func(t *testing.T, c *Config) {
			if c.PingInterval != MinPingInterval {
				t.Errorf("PingInterval %v, want %v", c.PingInterval, MinPingInterval)
			}
		}},
		{name: "explicit below the minimum", in: "keepalive 10ms\ndeadtime 50ms\nping_interval 20ms\nping 198.18.0.254", check: func(t *testing.T, c *Config) {
			if c.PingInterval != 20*time.Millisecond {
				t.Errorf("PingInterval %v, want 20ms", c.PingInterval)
			}
		}},
		{name: "zero", in: "ping_interval 0", line: 1, err: "ping_interval 0: must be more than 0"},
		{name: "junk", in: "ping_interval soon", line: 1, err: "ping_interval: invalid time"},
		{name: "deadping too short for the default interval", in: "keepalive 10ms\ndeadtime 50ms\nping 198.18.0.254", line: 2,
			err: "deadping 50ms must be more than twice the ping interval 100ms"},
		{name: "deadping too short for ping_interval", in: "ping_interval 20\nping 198.18.0.254", line: 1,
			err: "deadping 30000ms must be more than twice the ping interval 20000ms"},
		{name: "no ping nodes: no check", in: "ping_interval 20"},
	})
}

func TestPingIntervalTOMLAndEffective(t *testing.T) {
	const ok = "nodes = [\"node1\", \"node2\"]\nping_interval = \"250ms\"\n[[media]]\nkind = \"ucast\"\ndev = \"eth0\"\npeer = \"198.18.0.2\"\n"
	c, err := ParseTOML(strings.NewReader(ok), "ha.toml")
	if err != nil {
		t.Fatal(err)
	}
	if c.PingInterval != 250*time.Millisecond {
		t.Fatalf("PingInterval %v", c.PingInterval)
	}
	if !strings.Contains(c.Effective(), "\nping_interval 250ms\n") {
		t.Errorf("effective:\n%s", c.Effective())
	}
}
