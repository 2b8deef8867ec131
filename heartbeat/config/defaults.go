package config

import "time"

// Defaults of Heartbeat 3.0.6 (`heartbeat -D`, reference §3.3).
const (
	DefaultDir            = "/etc/ha.d"
	DefaultKeepalive      = time.Second
	DefaultDeadtime       = 30 * time.Second
	DefaultUDPPort        = 694
	DefaultBaud           = 19200
	DefaultHopfudge       = 1
	DefaultMaxRexmitDelay = 250 * time.Millisecond
	DefaultAutoFailback   = "legacy"
	DefaultMsgFmt         = "classic"
	DefaultGenMethod      = "file"
	DefaultUUIDFrom       = "file"

	// HeartbeatVersion is the version this suite is compatible with; it is
	// what cl_status hbparameter -p hbversion reports.
	HeartbeatVersion = "3.0.6"

	maxNodes = 100 // Heartbeat's MAXNODE, ping nodes included
	maxMedia = 64  // Heartbeat's MAXMEDIA, ping media included
)

// DefaultRTPrio is the middle of the SCHED_RR range, as Heartbeat uses.
const DefaultRTPrio = 50

// Defaults returns the configuration that applies when ha.cf sets nothing:
// no nodes, no media, no keys, and every derived timing resolved.
func Defaults() *Config {
	c := newConfig()
	resolveTimings(c)
	c.UDPPort = DefaultUDPPort
	return c
}

// newConfig returns a Config holding the fixed defaults; the timings that
// derive from others (warntime, initdead, deadping) are left zero until
// resolveTimings runs after parsing.
func newConfig() *Config {
	return &Config{
		Dir:            DefaultDir,
		Keepalive:      DefaultKeepalive,
		Deadtime:       DefaultDeadtime,
		Baud:           DefaultBaud,
		AutoFailback:   DefaultAutoFailback,
		Hopfudge:       DefaultHopfudge,
		MsgFmt:         DefaultMsgFmt,
		MaxRexmitDelay: DefaultMaxRexmitDelay,
		GenMethod:      DefaultGenMethod,
		UUIDFrom:       DefaultUUIDFrom,
		Realtime:       true,
		RTSCTS:         true,
		Metrics:        Metrics{Required: true},
		FenceDelay:     5 * time.Second,
		RTPrio:         DefaultRTPrio,
		Notify:         defaultNotify(),
		Set:            map[string]Pos{},
		params:         map[string]string{},
	}
}

// resolveTimings fills the timings that Heartbeat derives from deadtime
// when they are not set (init_config in H:heartbeat/config.c).
func resolveTimings(c *Config) {
	if _, ok := c.Set["warntime"]; !ok {
		c.Warntime = time.Duration(c.Deadtime.Milliseconds()/2) * time.Millisecond
	}
	if _, ok := c.Set["initdead"]; !ok {
		switch {
		case c.Deadtime > 10*time.Second:
			c.Initdead = c.Deadtime
		case c.Deadtime < 6*time.Second:
			c.Initdead = 12 * time.Second
		default:
			c.Initdead = 2 * c.Deadtime
		}
	}
	if _, ok := c.Set["deadping"]; !ok {
		c.Deadping = c.Deadtime
	}
	if _, ok := c.Set["ping_interval"]; !ok {
		c.PingInterval = max(c.Keepalive, MinPingInterval)
	}
}
