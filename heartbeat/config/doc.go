// Package config builds the daemon's one typed configuration from a
// configuration directory (default /etc/ha.d): ha.cf, or ha.toml in its
// place, plus authkeys.
//
// # ha.cf
//
// The syntax is Heartbeat 3.0.6's: '#' starts a comment, the first word is
// the directive, option directives apply to each of their values split on
// blanks and commas ("node a b,c" declares three nodes), and stonith,
// stonith_host, apiauth, respawn, failfast, ucast, ucast6, mcast, mcast6
// and ping_group take the whole line. Every directive Heartbeat 3.0.6 knows is recognised: it
// takes effect, or is validated and accepted with a warning saying it has
// no effect here (realtime, use_logd, compression, ...), or is refused with
// the reason (pacemaker on, autojoin other than none).
//
// Improvements on Heartbeat: directive order does not matter (udpport and
// baud apply to all media), "30s" is a valid time, mcast ttl may be up to
// 255, every error is reported at once with file and line, and the
// authkeys auth line may come anywhere. The obsolete nice_failback keeps
// Heartbeat's order-dependent meaning.
//
// # ha.toml
//
// ha.toml says the same as ha.cf, typed. It replaces ha.cf; having both is
// an error. Times are strings in ha.cf syntax ("200ms", "2s", "1.5") or
// numbers of seconds; max_rexmit_delay is a string with unit or an integer
// of milliseconds. Unknown keys are errors.
//
//	nodes = ["node1", "node2"]      # node
//	keepalive = "200ms"             # keepalive, deadtime, warntime, initdead, deadping
//	deadtime = "2s"
//	udpport = 694                   # integers: udpport, baud, hopfudge, debug
//	auto_failback = "on"            # "on", "off", "legacy" or a boolean
//	msgfmt = "classic"              # strings: msgfmt, hbgenmethod, uuidfrom,
//	                                # logfile, debugfile, logfacility, watchdog,
//	                                # metrics_listen
//	metrics_required = false        # on/off settings: "on", "off" or a boolean
//	max_rexmit_delay = "250ms"
//	notify = ["/usr/local/sbin/hook arg"]  # hooks: a command line, or an array of them;
//	notify_master = "/usr/local/sbin/up"   # also notify_backup, notify_fault, notify_stop
//	notify_timeout = "10s"                 # times: notify_timeout, mail_interval
//	mail_to = ["ops@example.com"]          # a string or an array: mail_to, mail_events
//	smtp_server = "mail.example.com:587"   # strings: mail_from, smtp_server, smtp_auth
//	env = ["NAME=value"]            # env lines: HA_NAME=value for respawned programs
//
//	[[media]]                       # one table per medium
//	kind = "ucast"                  # ucast, ucast6: dev, peer
//	dev = "eth0"
//	peer = "198.18.0.2"
//
//	[[media]]
//	kind = "mcast"                  # mcast, mcast6: dev, group, port, ttl, loop
//	dev = "eth1"
//	group = "239.0.0.1"
//	port = 694
//	ttl = 1
//	loop = false
//
//	[[media]]
//	kind = "serial"                 # bcast, serial: dev only
//	dev = "/dev/ttyS0"
//
//	[[ping]]
//	hosts = ["198.18.0.254"]        # one ping node per host (ping6 for IPv6)
//
//	[[ping]]
//	group = "gateways"              # with group: one ping_group
//	hosts = ["198.18.0.253", "198.18.0.254"]
//
//	[[stonith]]                     # host, type, params: a stonith_host line
//	host = "*"                      # type, file: a stonith line
//	type = "external/ipmi"
//	params = "node2 198.19.0.2 admin secret lan"
//
//	[[respawn]]                     # a respawn line (failfast = true: a failfast line)
//	user = "hacluster"
//	argv = ["/usr/local/bin/client", "-v"]
//
//	[auth]                          # optional; without it authkeys is read
//	current = 1
//	keys = [{index = 1, method = "sha256", secret = "..."}]
//
// An ha.toml with an [auth] table holds secrets and must not be readable by
// group or others, like authkeys.
package config
