package config

import (
	"path"
	"strings"
	"time"

	"github.com/hasuite/hasuite/heartbeat/auth"
	"github.com/hasuite/hasuite/internal/diag"
)

// Config is the daemon's one typed configuration, built from ha.cf (or
// ha.toml) and authkeys. Durations are whole milliseconds, as in Heartbeat.
type Config struct {
	Dir       string // configuration directory, e.g. /etc/ha.d
	Source    string // path of the ha.cf or ha.toml that was read
	LocalNode string // local node name, lower case ("" when parsed without Load)

	Nodes []string // normal nodes, lower case, in declaration order

	Keepalive time.Duration // interval between status messages
	Deadtime  time.Duration // silence after which a node is dead
	Warntime  time.Duration // silence after which a "late heartbeat" is reported
	Initdead  time.Duration // deadtime used until communication is first up
	Deadping  time.Duration // deadtime of ping nodes
	// PingInterval is our ping_interval: one echo per ping host this
	// often. Not set, it is keepalive, but at least MinPingInterval.
	PingInterval time.Duration

	UDPPort int // port of bcast, ucast and ucast6 media
	Baud    int // serial speed
	// RTSCTS is hardware flow control on serial links. Heartbeat always
	// uses it; "rtscts off" (our directive) suits 3-wire null-modem cables.
	RTSCTS bool
	Media  []Medium // heartbeat links, in declaration order

	AutoFailback   string        // "on", "off" or "legacy"
	Hopfudge       int           // added to the node count for the ttl field
	MsgFmt         string        // "classic" (inner auth field too) or "netstring"
	MaxRexmitDelay time.Duration // cap on the retransmission request interval
	GenMethod      string        // hbgenmethod: "file" or "time"
	UUIDFrom       string        // uuidfrom: "file" or "nodename"

	LogFile     string // logfile path, "" when not set
	DebugFile   string // debugfile path, "" when not set
	LogFacility string // syslog facility, "" when not set, or "none"
	Debug       int    // debug level 0-255

	Realtime bool // realtime: SCHED_RR scheduling and locked memory
	RTPrio   int  // rtprio: the SCHED_RR priority (1-99)

	Watchdog string // watchdog device path, "" when not set

	// Fencing settings of this suite (not Heartbeat directives).
	StonithFallback  bool          // stonith_fallback takeover: take over even when fencing fails
	FenceDelay       time.Duration // fence_delay: how long the node without priority waits before fencing
	StonithPluginDir string        // stonith_plugin_dir: where external/* plugins are
	SelfFence        []string      // self_fence: argv run to fence this node (suicide, failed stops); empty = none
	// MonitorInterval (monitor_interval): how often every resource of a
	// group running here is checked, unless haresources.toml says
	// otherwise; 0 = off.
	MonitorInterval time.Duration
	Stonith         []StonithSpec // stonith and stonith_host lines, in order
	Ping            []PingSpec    // ping, ping6 and ping_group pseudo-nodes

	Notify NotifyConfig // notify hooks and mail alerts (our directives, notify.go)

	Metrics Metrics // metrics_listen, metrics_required (see metrics.go)

	// Respawn is every respawn and failfast line, in order: the programs
	// the daemon starts at comm-up and restarts when they exit.
	Respawn []RespawnSpec
	// Env is every env line as it reaches respawned programs:
	// "HA_NAME=value" for "env NAME=value", in order.
	Env []string

	Keys *auth.Keyring // nil when parsed without Load or without [auth]

	Warnings []Diag         // non-fatal findings
	Set      map[string]Pos // directives given explicitly, by canonical name, last occurrence

	// params holds each directive's value as written (the last token), the
	// way Heartbeat records it for cl_status hbparameter.
	params map[string]string
}

// Pos is a place in a configuration file. Line 0 means the file as a whole.
type Pos = diag.Pos

// Diag is one finding about the configuration, tied to where it was found.
// Its Error returns "file:line: msg" (or "file: msg" for whole-file
// findings).
type Diag = diag.Diag

// ErrorList is every configuration error found, in file order. errors.As
// finds the individual Diags in it.
type ErrorList = diag.List

// Medium is one heartbeat link.
type Medium struct {
	Kind  string // "ucast", "ucast6", "bcast", "mcast", "mcast6" or "serial"
	Dev   string // network interface, or the tty path for serial
	Peer  string // ucast/ucast6 peer address or host name
	Group string // mcast/mcast6 group address
	Port  int    // UDP port: udpport for ucast/bcast, its own for mcast
	TTL   int    // mcast ttl / mcast6 hop limit
	Loop  bool   // mcast loopback
	Baud  int    // serial speed (the baud directive)
	Pos
}

// PingSpec is one ping pseudo-node: a single host (ping, ping6) or a
// ping_group that is alive while any member answers.
type PingSpec struct {
	Name  string   // node name: the host for ping/ping6, the group name for ping_group
	Hosts []string // addresses or host names to ping
	Group bool     // from ping_group
	IPv6  bool     // from ping6 (ICMPv6)
	Pos
}

// RespawnSpec is one respawn or failfast line: "respawn <user> <path>
// [args...]".
type RespawnSpec struct {
	User     string   // the user the program runs as
	Path     string   // absolute path of the program
	Args     []string // its arguments
	FailFast bool     // from failfast: the node fences itself if it dies abnormally
	Pos
}

// IPFail reports whether the line names Heartbeat's ipfail client (by its
// base name): such a line stands for the built-in equivalent, not for a
// program to run.
func (r RespawnSpec) IPFail() bool { return path.Base(r.Path) == "ipfail" }

// String renders the line as ha.cf has it.
func (r RespawnSpec) String() string {
	kw := "respawn"
	if r.FailFast {
		kw = "failfast"
	}
	return strings.Join(append([]string{kw, r.User, r.Path}, r.Args...), " ")
}

// StonithSpec is one STONITH device line. Only the last line that applies
// to the local node takes effect (see Config.StonithDevice).
type StonithSpec struct {
	Host   string // "" for a stonith line, else the stonith_host host (lower case) or "*"
	Type   string // device type, e.g. "external/ipmi"
	File   string // parameter file of a stonith line
	Params string // parameters of a stonith_host line, as written
	Pos
}

// Options tell Load where to look.
type Options struct {
	Dir      string // configuration directory; "" means DefaultDir
	NodeName string // local node name; "" means <Dir>/nodeinfo, else os.Hostname()
	// ServicesFile is consulted for the ha-cluster/udp port when udpport
	// is not set; "" means /etc/services.
	ServicesFile string
}
