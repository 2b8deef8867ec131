package haresources

import (
	"time"

	"github.com/hasuite/hasuite/internal/diag"
)

// Pos is a place in a file: "file:line" (line 0: the file as a whole).
type Pos = diag.Pos

// Kind says which agent runs a resource.
type Kind string

// Resource kinds.
const (
	// KindIP is a virtual IP: a bare address, IPaddr::..., IPaddr2::...
	KindIP Kind = "ip"
	// KindScript is a Heartbeat resource.d script or, when none is found
	// there, an LSB init script of /etc/init.d (Heartbeat's lookup order).
	KindScript Kind = "script"
	// KindOCF is an OCF agent: OCF::agent::instance (Heartbeat) or
	// ocf:provider:agent with name=value parameters.
	KindOCF Kind = "ocf"
)

// Resource is one resource of a group, as written and as understood.
type Resource struct {
	Raw  string // the token as written, e.g. "IPaddr2::198.18.0.100/24/eth0"
	Kind Kind
	// Type is the script or agent name: "IPaddr2", "httpd", "Dummy".
	Type string
	// Args are the "::"-separated arguments of a script (Heartbeat passes
	// them before the action). For KindIP it is the one argument the
	// resource.d script would get (the address spec, e.g.
	// "198.18.0.100/24/eth0"); for OCF::agent::instance it is
	// [agent, instance] (resource.d/OCF's arguments); nil for ocf:p:a.
	Args []string
	// IP is set for KindIP.
	IP *IPSpec
	// OCF is set for KindOCF.
	OCF *OCFSpec
	// Timeout bounds each operation; 0 means the manager's default.
	Timeout time.Duration
	// Announce tunes a virtual IP's gratuitous ARP / unsolicited NA; zero
	// fields mean the agent's defaults (5 rounds, 200 ms apart, no refresh).
	Announce Announce
	// MonitorInterval: while the group runs here, the resource's status
	// is checked this often (resource_options monitor_interval); 0 means
	// the cluster's default (ha.cf monitor_interval), which is off unless
	// set. MonitorTimeout bounds one check (monitor_timeout); 0 means the
	// resource's Timeout, else the agent's default.
	MonitorInterval time.Duration
	MonitorTimeout  time.Duration
	Pos             Pos
}

// IPSpec is a parsed IPaddr/IPaddr2 argument: ip[/bits[/iface[:label]][/broadcast]].
type IPSpec struct {
	Addr      string // the address, IPv4 or IPv6
	Bits      int    // prefix length; 0 = not given (take it from the interface's subnet)
	Iface     string // "" = find the interface from the subnet
	Label     string // the full kernel label, e.g. "eth0:0" for iface "eth0:0"; "" = none
	Broadcast string // "" = derived
}

// Announce is how a virtual IP is announced when it is taken.
type Announce struct {
	Count    int           // rounds in the burst
	Interval time.Duration // between rounds
	Refresh  time.Duration // re-announce this often while held; 0 = never
}

// OCFSpec names an OCF agent and its parameters.
type OCFSpec struct {
	Provider string            // "heartbeat" for OCF::agent::instance unless found elsewhere
	Agent    string            // e.g. "Dummy"
	Instance string            // OCF_RESOURCE_INSTANCE
	Params   map[string]string // OCF_RESKEY_<name>=<value>
	// ParamFile is /etc/ha.d/conf/OCF/<agent>/<instance> for Heartbeat's
	// OCF::agent::instance form (shell NAME=value lines), "" otherwise.
	ParamFile string
}

// Group is one logical haresources line: the preferred node and its
// resources, started left to right and stopped right to left.
type Group struct {
	// Key is the first resource as written: the group's identity in the
	// protocol (ip-request) and in commands.
	Key       string
	Node      string // preferred node, lower case
	Resources []Resource
	// Recovery is how often a failed resource is restarted in place
	// before the group leaves the node; nil means the defaults
	// (DefaultRestarts within DefaultRestartWindow).
	Recovery *Recovery
	// Checks are the group's [[group.check]] commands (haresources.toml
	// only): they decide on which node the group may and should run.
	Checks []Check
	Pos    Pos
}

// Recovery bounds restarts in place (haresources.toml group keys restarts
// and restart_window): a failure while Restarts failures within Window
// have already been restarted here moves the group away (0: the first
// failure does).
type Recovery struct {
	Restarts int
	Window   time.Duration
}

// Recovery defaults.
const (
	DefaultRestarts      = 3
	DefaultRestartWindow = 10 * time.Minute
)

// RecoveryOf returns g's recovery bounds, defaults filled in.
func RecoveryOf(g Group) Recovery {
	if g.Recovery == nil {
		return Recovery{Restarts: DefaultRestarts, Window: DefaultRestartWindow}
	}
	return *g.Recovery
}
