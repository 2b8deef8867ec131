package config

import (
	"strings"
	"testing"
)

// heartbeat306Directives lists every directive Heartbeat 3.0.6 as shipped
// by Debian accepts (Directives[] and WLdirectives[] in
// H:heartbeat/config.c, the "crm" and "udp" aliases, and the HBcomm
// plugins), written down independently of our table.
var heartbeat306Directives = []string{
	"cluster", "node", "hopfudge", "keepalive", "deadtime", "deadping", "initdead", "warntime",
	"watchdog", "baud", "udpport", "logfacility", "logfile", "debugfile", "nice_failback",
	"auto_failback", "rtprio", "hbgenmethod", "realtime", "debug", "msgfmt", "use_logd",
	"conn_logd_time", "use_apphbd", "log_badpack", "syslogmsgfmt", "coredumps", "coreroot",
	"crm_daemon_dir", "crmd_spawns_pengine", "crm", "pacemaker", "autojoin", "uuidfrom",
	"compression", "compression_threshold", "traditional_compression", "env", "max_rexmit_delay",
	"record_config_changes", "record_pengine_inputs", "enable_config_writes", "memreserve",
	"quorum_server", "stonith", "stonith_host", "apiauth", "respawn", "failfast",
	"bcast", "udp", "mcast", "mcast6", "ucast", "ucast6", "serial", "ping", "ping6", "ping_group",
}

func TestEveryHeartbeatDirectiveIsKnown(t *testing.T) {
	for _, d := range heartbeat306Directives {
		_, err := ParseHACF(strings.NewReader(d+" x\n"+base), "ha.cf")
		if err != nil && strings.Contains(err.Error(), "unknown directive") {
			t.Errorf("%s: %v", d, err)
		}
	}
}

func TestUnknownDirective(t *testing.T) {
	runDirectiveCases(t, []directiveCase{
		{name: "unknown", in: "frobnicate 1", line: 1, err: `unknown directive "frobnicate"`},
		{name: "wrong case", in: "Keepalive 2", line: 1, err: "directive names are lower case: keepalive"},
		{name: "normalpoll is not built", in: "normalpoll yes", line: 1, err: `unknown directive "normalpoll"`},
	})
}

func TestNoEffectDirectives(t *testing.T) {
	valid := map[string]string{
		"cluster": "mycluster", "memreserve": "6500",
		"coredumps": "off", "coreroot": "/var/lib/heartbeat/cores", "use_logd": "yes",
		"conn_logd_time": "60", "syslogmsgfmt": "off", "log_badpack": "off", "compression": "bz2",
		"compression_threshold": "4", "traditional_compression": "yes", "use_apphbd": "no",
		"apiauth": "ipfail uid=hacluster", "crm_daemon_dir": "/usr/lib/pacemaker",
		"crmd_spawns_pengine": "yes", "record_config_changes": "on", "record_pengine_inputs": "off",
		"enable_config_writes": "on", "quorum_server": "q1",
	}
	var cases []directiveCase
	for name, v := range valid {
		cases = append(cases, directiveCase{name: name, in: name + " " + v, warn: name + " has no effect in this suite"})
	}
	cases = append(cases,
		directiveCase{name: "realtime junk", in: "realtime maybe", line: 1, err: "realtime: \"maybe\" is not a boolean"},
		directiveCase{name: "rtprio range", in: "rtprio 0", line: 1, err: "out of range 1-99"},
		directiveCase{name: "memreserve zero", in: "memreserve 0", line: 1, err: "out of range"},
		directiveCase{name: "conn_logd_time zero", in: "conn_logd_time 0", line: 1, err: "must be more than 0"},
		directiveCase{name: "compression unknown", in: "compression lzma", line: 1, err: "want zlib or bz2"},
		directiveCase{name: "compression_threshold zero", in: "compression_threshold 0", line: 1, err: "out of range"},
		directiveCase{name: "apiauth without ids", in: "apiauth ipfail", line: 1, err: "want: apiauth <client>"},
		directiveCase{name: "apiauth junk", in: "apiauth ipfail foo=1", line: 1, err: "neither uid=<list> nor gid=<list>"},
	)
	runDirectiveCases(t, cases)
}
