package config

import (
	"strings"
	"time"

	"github.com/hasuite/hasuite/internal/diag"
)

// directive describes how one ha.cf directive is applied. Every directive
// Heartbeat 3.0.6 knows (Directives[], WLdirectives[] and the media plugins
// Debian ships, H:heartbeat/config.c) is in the table: implemented,
// accepted without effect (validated, with a warning), or rejected with a
// reason.
type directive struct {
	// apply handles one value: one token of an option directive or the
	// whole rest of the line of a whole-line directive.
	apply     func(b *builder, pos Pos, name, v string)
	wholeLine bool   // gets the rest of the line, not single tokens
	repeats   bool   // may legitimately be given many times (node, media)
	once      bool   // Heartbeat refuses a second occurrence, so do we
	record    bool   // value kept for hbparameter (Heartbeat's record_value)
	noEffect  string // accepted and validated, but does nothing here: why
	reject    string // not accepted: why
}

// alias maps an old directive name to its current one.
type alias struct {
	canonical string
	warning   string
}

var aliases = map[string]alias{
	"udp": {"bcast", "udp is the old name of bcast; write bcast"},
	"crm": {"pacemaker", ""},
}

var directives = map[string]directive{
	// Cluster membership and timing.
	"node":      {apply: (*builder).addNode, repeats: true},
	"keepalive": {apply: timeSetter(func(c *Config) *time.Duration { return &c.Keepalive }, true), record: true},
	"deadtime":  {apply: timeSetter(func(c *Config) *time.Duration { return &c.Deadtime }, true), record: true},
	"warntime":  {apply: timeSetter(func(c *Config) *time.Duration { return &c.Warntime }, true), record: true},
	"initdead":  {apply: timeSetter(func(c *Config) *time.Duration { return &c.Initdead }, false), record: true},
	"deadping":  {apply: timeSetter(func(c *Config) *time.Duration { return &c.Deadping }, false), record: true},
	// ping_interval is ours: how often ping nodes are probed.
	"ping_interval": {apply: timeSetter(func(c *Config) *time.Duration { return &c.PingInterval }, true), record: true},
	"hopfudge":      {apply: intSetter(func(c *Config) *int { return &c.Hopfudge }, 0, 255), record: true},

	// Media and their parameters.
	"udpport":    {apply: intSetter(func(c *Config) *int { return &c.UDPPort }, 1, 65535), record: true},
	"baud":       {apply: (*builder).setBaud, once: true, record: true},
	"rtscts":     {apply: (*builder).setRTSCTS, once: true, record: true},
	"bcast":      {apply: mediumToken("bcast"), repeats: true},
	"serial":     {apply: mediumToken("serial"), repeats: true},
	"ucast":      {apply: mediumLine("ucast"), wholeLine: true, repeats: true},
	"ucast6":     {apply: mediumLine("ucast6"), wholeLine: true, repeats: true},
	"mcast":      {apply: mediumLine("mcast"), wholeLine: true, repeats: true},
	"mcast6":     {apply: mediumLine("mcast6"), wholeLine: true, repeats: true},
	"ping":       {apply: pingToken(false), repeats: true},
	"ping6":      {apply: pingToken(true), repeats: true},
	"ping_group": {apply: (*builder).addPingGroupLine, wholeLine: true, repeats: true},
	"hbaping":    {reject: "the hbaping medium is not supported (Heartbeat's Debian build does not ship it either)"},
	"tipc":       {reject: "the tipc medium is not supported (Heartbeat's Debian build does not ship it either)"},
	"rds":        {reject: "the rds medium is not supported (Heartbeat's Debian build does not ship it either)"},

	// Resource management and protocol behaviour.
	"auto_failback":    {apply: (*builder).setAutoFailback, record: true},
	"nice_failback":    {apply: (*builder).setNiceFailback},
	"msgfmt":           {apply: enumSetter(func(c *Config) *string { return &c.MsgFmt }, "classic", "netstring"), record: true},
	"max_rexmit_delay": {apply: (*builder).setMaxRexmitDelay, record: true},
	"hbgenmethod":      {apply: enumSetter(func(c *Config) *string { return &c.GenMethod }, "file", "time"), record: true},
	"uuidfrom":         {apply: enumSetter(func(c *Config) *string { return &c.UUIDFrom }, "file", "nodename"), record: true},
	"autojoin":         {apply: (*builder).setAutojoin, record: true},
	"pacemaker":        {apply: (*builder).setPacemaker, once: true, record: true},
	"watchdog":         {apply: (*builder).setWatchdog, once: true, record: true},
	"stonith":          {apply: (*builder).addStonithLine, wholeLine: true, repeats: true},
	"stonith_host":     {apply: (*builder).addStonithHostLine, wholeLine: true, repeats: true},
	// Fencing settings of this suite (Heartbeat 3.0.6 does not know them).
	"stonith_fallback":   {apply: (*builder).setStonithFallback, once: true, record: true},
	"fence_delay":        {apply: timeSetter(func(c *Config) *time.Duration { return &c.FenceDelay }, false), once: true, record: true},
	"stonith_plugin_dir": {apply: (*builder).setStonithPluginDir, once: true, record: true},
	"self_fence":         {apply: (*builder).setSelfFence, wholeLine: true, once: true},
	// Resource monitoring default of this suite (monitor.go).
	"monitor_interval": {apply: (*builder).setMonitorInterval, once: true, record: true},

	// Logging.
	"logfile":     {apply: stringSetter(func(c *Config) *string { return &c.LogFile }), record: true},
	"debugfile":   {apply: stringSetter(func(c *Config) *string { return &c.DebugFile }), record: true},
	"logfacility": {apply: (*builder).setLogFacility, record: true},
	"debug":       {apply: intSetter(func(c *Config) *int { return &c.Debug }, 0, 255), record: true},

	// Scheduling: a heartbeat that is not scheduled in time is a false death.
	"realtime": {apply: (*builder).setRealtime, record: true},
	"rtprio":   {apply: intSetter(func(c *Config) *int { return &c.RTPrio }, 1, 99), record: true},

	// Accepted for compatibility, without effect.
	"cluster":                 {apply: checkOnly(nil), record: true, noEffect: "the cluster name is not sent in v1 messages"},
	"memreserve":              {apply: checkOnly(checkRange(1, 1<<30)), record: true, noEffect: "the Go runtime manages its own memory"},
	"coredumps":               {apply: checkOnly(checkBool), record: true, noEffect: "core dumps are governed by the service manager and the kernel"},
	"coreroot":                {apply: checkOnly(nil), record: true, noEffect: "core dumps are governed by the service manager and the kernel"},
	"use_logd":                {apply: checkOnly(checkBool), record: true, noEffect: "there is no ha_logd; use logfile, debugfile or logfacility"},
	"conn_logd_time":          {apply: checkOnly(checkTime), record: true, noEffect: "there is no ha_logd"},
	"syslogmsgfmt":            {apply: checkOnly(checkBool), record: true, noEffect: "the log line format is fixed"},
	"log_badpack":             {apply: checkOnly(checkBool), record: true, noEffect: "the daemon decides itself how bad packets are logged"},
	"compression":             {apply: checkOnly(checkWords("zlib", "bz2")), record: true, noEffect: "this suite does not compress the messages it sends"},
	"compression_threshold":   {apply: checkOnly(checkRange(1, 1<<20)), record: true, noEffect: "this suite does not compress the messages it sends"},
	"traditional_compression": {apply: checkOnly(checkBool), record: true, noEffect: "this suite does not compress the messages it sends"},
	"use_apphbd":              {apply: checkOnly(checkBool), noEffect: "apphbd is not used"},
	"apiauth":                 {apply: checkOnly(checkAPIAuth), wholeLine: true, repeats: true, noEffect: "this suite has no Heartbeat client API"},
	"crm_daemon_dir":          {apply: checkOnly(nil), record: true, noEffect: "it applies to Pacemaker only"},
	"crmd_spawns_pengine":     {apply: checkOnly(checkBool), record: true, noEffect: "it applies to Pacemaker only"},
	"record_config_changes":   {apply: checkOnly(checkBool), record: true, noEffect: "it applies to Pacemaker only"},
	"record_pengine_inputs":   {apply: checkOnly(checkBool), record: true, noEffect: "it applies to Pacemaker only"},
	"enable_config_writes":    {apply: checkOnly(checkBool), record: true, noEffect: "it applies to Pacemaker only"},
	"quorum_server":           {apply: checkOnly(nil), record: true, noEffect: "it applies to Pacemaker's quorumd only"},

	// Client programs.
	"respawn":  {apply: respawnLine(false), wholeLine: true, repeats: true},
	"failfast": {apply: respawnLine(true), wholeLine: true, repeats: true},
	"env":      {apply: (*builder).addEnv, repeats: true},
}

// suggest returns a hint for a misspelt directive: the directive it is
// in another letter case, else the nearest directive by edit distance
// ("keeplive": keepalive), else "".
func suggest(name string) string {
	lower := strings.ToLower(name)
	if _, ok := directives[lower]; ok {
		return " (directive names are lower case: " + lower + ")"
	}
	if a, ok := aliases[lower]; ok {
		return " (directive names are lower case: " + a.canonical + ")"
	}
	if d := diag.Suggest(name, DirectiveNames()); d != "" {
		return " (did you mean " + d + "?)"
	}
	return ""
}
