package config

import (
	"fmt"
	"slices"
	"strconv"
	"strings"
)

// Effective renders the configuration in ha.cf syntax, one "name value"
// per line, for `heartbeat -t`. Values are normalised (times in ms) and
// every value that was not set explicitly is marked "# default". Unset
// optional settings and the keys appear as comments; key material and
// stonith_host parameters (which often hold passwords) are never printed.
// The text parses back (ParseHACF) into the same configuration, apart from
// stonith_host parameters.
func (c *Config) Effective() string {
	var w strings.Builder
	line := func(name, value string) {
		w.WriteString(name + " " + value)
		if _, set := c.Set[name]; !set {
			w.WriteString("  # default")
		}
		w.WriteString("\n")
	}
	optional := func(name, value string) {
		if value == "" {
			w.WriteString("# " + name + " not set\n")
			return
		}
		line(name, value)
	}
	fmt.Fprintf(&w, "# effective configuration from %s", c.Source)
	if c.LocalNode != "" {
		fmt.Fprintf(&w, " for node %s", c.LocalNode)
	}
	w.WriteString("\n")
	for _, n := range c.Nodes {
		w.WriteString("node " + n + "\n")
	}
	line("keepalive", formatMillis(c.Keepalive))
	line("deadtime", formatMillis(c.Deadtime))
	line("warntime", formatMillis(c.Warntime))
	line("initdead", formatMillis(c.Initdead))
	line("deadping", formatMillis(c.Deadping))
	line("udpport", strconv.Itoa(c.UDPPort))
	line("baud", strconv.Itoa(c.Baud))
	line("rtscts", map[bool]string{true: "on", false: "off"}[c.RTSCTS])
	for _, m := range c.Media {
		w.WriteString(m.String() + "\n")
	}
	for _, p := range c.Ping {
		w.WriteString(p.String() + "\n")
	}
	line("auto_failback", c.AutoFailback)
	line("hopfudge", strconv.Itoa(c.Hopfudge))
	line("msgfmt", c.MsgFmt)
	line("max_rexmit_delay", strconv.FormatInt(c.MaxRexmitDelay.Milliseconds(), 10))
	line("hbgenmethod", c.GenMethod)
	line("uuidfrom", c.UUIDFrom)
	optional("logfacility", c.LogFacility)
	optional("logfile", c.LogFile)
	optional("debugfile", c.DebugFile)
	line("debug", strconv.Itoa(c.Debug))
	line("realtime", map[bool]string{true: "on", false: "off"}[c.Realtime])
	line("rtprio", strconv.Itoa(c.RTPrio))
	optional("watchdog", c.Watchdog)
	line("stonith_fallback", map[bool]string{true: "takeover", false: "off"}[c.StonithFallback])
	line("fence_delay", formatMillis(c.FenceDelay))
	optional("stonith_plugin_dir", c.StonithPluginDir)
	if len(c.SelfFence) > 0 {
		w.WriteString("self_fence " + strings.Join(c.SelfFence, " ") + "\n")
	}
	for _, s := range c.Stonith {
		w.WriteString(s.String())
		if s.Host != "" {
			w.WriteString("  # parameters not shown")
		}
		w.WriteString("\n")
	}
	c.effectiveMetrics(line, optional)
	w.WriteString(c.keysSummary() + "\n")
	return w.String()
}

// String renders a medium as its ha.cf line. (Without it the embedded
// Pos's String would be used.)
func (m Medium) String() string {
	switch m.Kind {
	case "ucast", "ucast6":
		return m.Kind + " " + m.Dev + " " + m.Peer
	case "mcast", "mcast6":
		loop := "0"
		if m.Loop {
			loop = "1"
		}
		return fmt.Sprintf("%s %s %s %d %d %s", m.Kind, m.Dev, m.Group, m.Port, m.TTL, loop)
	}
	return m.Kind + " " + m.Dev
}

// String renders a ping node as its ha.cf line.
func (p PingSpec) String() string {
	switch {
	case p.Group:
		return "ping_group " + p.Name + " " + strings.Join(p.Hosts, " ")
	case p.IPv6:
		return "ping6 " + strings.Join(p.Hosts, " ")
	}
	return "ping " + strings.Join(p.Hosts, " ")
}

// String renders the line without stonith_host parameters, which often
// hold passwords.
func (s StonithSpec) String() string {
	if s.Host == "" {
		return "stonith " + s.Type + " " + s.File
	}
	return "stonith_host " + s.Host + " " + s.Type
}

// keysSummary names the signing key and every key's method, never a secret.
func (c *Config) keysSummary() string {
	if c.Keys == nil {
		return "# keys not loaded"
	}
	idx := make([]int, 0, len(c.Keys.Keys))
	for i := range c.Keys.Keys {
		idx = append(idx, i)
	}
	slices.Sort(idx)
	list := make([]string, len(idx))
	for j, i := range idx {
		list[j] = fmt.Sprintf("%d %s", i, c.Keys.Keys[i].Method)
	}
	return fmt.Sprintf("# auth %d (signs with %s); keys: %s", c.Keys.Current, c.Keys.Signer().Method, strings.Join(list, ", "))
}

// fixedDefaults are the defaults Heartbeat records for hbparameter
// (Directives[] in H:heartbeat/config.c; `heartbeat -D`).
var fixedDefaults = map[string]string{
	"cluster": "linux-ha", "hopfudge": "1", "keepalive": "1000ms", "deadtime": "30000ms",
	"baud": "19200", "auto_failback": "legacy", "hbgenmethod": "file", "realtime": "true",
	"msgfmt": "classic", "conn_logd_time": "60", "log_badpack": "true", "syslogmsgfmt": "true",
	"coredumps": "true", "pacemaker": "false", "autojoin": "none", "uuidfrom": "file",
	"compression": "zlib", "compression_threshold": "2", "traditional_compression": "no",
	"max_rexmit_delay": "250", "record_config_changes": "on", "record_pengine_inputs": "on",
	"enable_config_writes": "on", "memreserve": "6500",
}

// Parameter answers `cl_status hbparameter -p name` as Heartbeat does: the
// value as written in ha.cf when the directive was given (the last token),
// else the recorded default or computed value (warntime "15000ms", udpport
// "694", ...). ok is false for parameters that are unset or unknown.
func (c *Config) Parameter(name string) (value string, ok bool) {
	if name == "hbversion" {
		return HeartbeatVersion, true
	}
	if v, ok := c.params[name]; ok {
		return v, true
	}
	noFacility := c.LogFacility == "" || c.LogFacility == "none"
	switch name {
	case "warntime":
		return formatMillis(c.Warntime), true
	case "initdead":
		return formatMillis(c.Initdead), true
	case "deadping":
		return formatMillis(c.Deadping), true
	case "udpport":
		return strconv.Itoa(c.UDPPort), true
	case "debug":
		return strconv.Itoa(c.Debug), true
	case "use_logd":
		// Heartbeat turns logd on when nothing else is configured.
		if c.LogFile == "" && c.DebugFile == "" && noFacility {
			return "yes", true
		}
	case "logfile", "debugfile":
		// With syslog configured Heartbeat points unset files at /dev/null.
		if !noFacility {
			return "/dev/null", true
		}
	}
	v, ok := fixedDefaults[name]
	return v, ok
}
