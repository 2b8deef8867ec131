package config

import (
	"fmt"
	"slices"
	"strconv"
	"strings"
)

// Setting is one line of the effective configuration.
type Setting struct {
	Name    string `json:"name"`              // the directive
	Value   string `json:"value"`             // as ha.cf would say it; "" = not set
	Default bool   `json:"default,omitempty"` // not written in the file: the default or computed value
	Note    string `json:"note,omitempty"`    // e.g. "parameters not shown"
}

// Settings lists the effective value of every setting in ha.cf syntax, in
// the order of Effective: values are normalised (times in ms), those not
// set explicitly are marked Default, unset optional settings have an empty
// Value. stonith_host parameters (which often hold passwords) and keys are
// never included.
func (c *Config) Settings() []Setting {
	var out []Setting
	line := func(name, value string) {
		_, set := c.Set[name]
		out = append(out, Setting{Name: name, Value: value, Default: !set})
	}
	optional := func(name, value string) {
		if value == "" {
			out = append(out, Setting{Name: name})
			return
		}
		line(name, value)
	}
	verbatim := func(text, note string) {
		name, value, _ := strings.Cut(text, " ")
		out = append(out, Setting{Name: name, Value: value, Note: note})
	}
	for _, n := range c.Nodes {
		verbatim("node "+n, "")
	}
	line("keepalive", formatMillis(c.Keepalive))
	line("deadtime", formatMillis(c.Deadtime))
	line("warntime", formatMillis(c.Warntime))
	line("initdead", formatMillis(c.Initdead))
	line("deadping", formatMillis(c.Deadping))
	line("ping_interval", formatMillis(c.PingInterval))
	line("udpport", strconv.Itoa(c.UDPPort))
	line("baud", strconv.Itoa(c.Baud))
	line("rtscts", map[bool]string{true: "on", false: "off"}[c.RTSCTS])
	for _, m := range c.Media {
		verbatim(m.String(), "")
	}
	for _, p := range c.Ping {
		verbatim(p.String(), "")
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
	line("monitor_interval", formatMillis(c.MonitorInterval)) // 0: off
	if len(c.SelfFence) > 0 {
		verbatim("self_fence "+strings.Join(c.SelfFence, " "), "")
	}
	for _, s := range c.Stonith {
		note := ""
		if s.Host != "" {
			note = "parameters not shown"
		}
		verbatim(s.String(), note)
	}
	c.notifySettings(line, optional, verbatim)
	c.effectiveMetrics(line, optional)
	for _, r := range c.Respawn {
		verbatim(r.String(), "")
	}
	for _, e := range c.Env {
		verbatim("env "+strings.TrimPrefix(e, "HA_"), "")
	}
	return out
}

// Effective renders the configuration in ha.cf syntax, one "name value"
// per line, for `heartbeat -t`: Settings, with every value that was not
// set explicitly marked "# default" and unset optional settings as
// comments, and a comment naming the keys' indices and methods (never key
// material). The text parses back (ParseHACF) into the same
// configuration, apart from stonith_host parameters.
func (c *Config) Effective() string {
	var w strings.Builder
	fmt.Fprintf(&w, "# effective configuration from %s", c.Source)
	if c.LocalNode != "" {
		fmt.Fprintf(&w, " for node %s", c.LocalNode)
	}
	w.WriteString("\n")
	for _, s := range c.Settings() {
		if s.Value == "" {
			w.WriteString("# " + s.Name + " not set\n")
			continue
		}
		w.WriteString(s.Name + " " + s.Value)
		if s.Default {
			w.WriteString("  # default")
		}
		if s.Note != "" {
			w.WriteString("  # " + s.Note)
		}
		w.WriteString("\n")
	}
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
