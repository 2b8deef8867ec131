package migrate

import (
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"math"
	"net/netip"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/hasuite/hasuite/heartbeat/config"
	"github.com/hasuite/hasuite/internal/diag"
	"github.com/hasuite/hasuite/internal/keepalived"
	"github.com/hasuite/hasuite/resources/haresources"
)

// NoteKind sorts the findings of an import.
type NoteKind int

// Note kinds.
const (
	Mapped    NoteKind = iota // carried over: what it became
	NotMapped                 // not carried over: why
	Warning                   // carried over with a change the user must know
)

// Note is one finding of an import, at the keepalived statement it is about.
type Note struct {
	Pos  diag.Pos
	Kind NoteKind
	Msg  string
}

func (n Note) String() string { return n.Pos.String() + ": " + n.Msg }

// ImportOptions say what to import.
type ImportOptions struct {
	Files []string // keepalived.conf of this node, and optionally of the peer
	// Nodes are the node names given with --node, in the order of Files
	// (a second name with one file names the peer); "" or missing: router_id.
	Nodes  []string
	Source keepalived.Source // nil: the file system
	Rand   io.Reader         // the key's randomness; nil: crypto/rand
}

// Imported is the hasuite configuration made from keepalived files.
type Imported struct {
	Nodes           []string
	HACF            string
	HaresourcesTOML string
	Authkeys        string // holds the new key: write it only to authkeys
	Notes           []Note
}

// Notes of a kind, in order.
func (im *Imported) NotesOf(k NoteKind) []Note {
	var out []Note
	for _, n := range im.Notes {
		if n.Kind == k {
			out = append(out, n)
		}
	}
	return out
}

// kaVIP is one virtual_ipaddress line.
type kaVIP struct {
	addr  netip.Addr
	bits  int
	dev   string
	label string
	brd   string
	pos   diag.Pos
}

// garp is the announcement settings that map to resource_options.
type garp struct {
	count    int
	interval time.Duration
	refresh  time.Duration
	pos      diag.Pos // the first setting, for the note
}

func (g garp) set() bool { return g.count != 0 || g.interval != 0 || g.refresh != 0 }

// kaInstance is one vrrp_instance.
type kaInstance struct {
	name         string
	pos          diag.Pos
	state        string
	priority     int
	vrid         string
	iface        string
	advert       time.Duration
	advertPos    diag.Pos
	nopreempt    bool
	nopreemptPos diag.Pos
	srcIP        string
	peers        []string
	unicastPos   diag.Pos
	vips         []kaVIP
	garp         garp
	syncGroup    string
	tracks       []kaTrack
}

// kaSyncGroup is one vrrp_sync_group.
type kaSyncGroup struct {
	name      string
	pos       diag.Pos
	instances []string
	tracks    []kaTrack
}

// kaFile is what one node's keepalived.conf says.
type kaFile struct {
	path       string
	node       string
	routerID   string
	instances  []*kaInstance
	byName     map[string]*kaInstance
	groups     []*kaSyncGroup
	garp       garp // global_defs defaults
	scripts    map[string]*kaScript
	scriptUser string // global_defs script_user, "" or "root": the daemon's
	hooks      []kaHook
	mail       kaMail
}

type importer struct {
	notes []Note
}

func (im *importer) note(pos diag.Pos, k NoteKind, format string, a ...any) {
	im.notes = append(im.notes, Note{Pos: pos, Kind: k, Msg: fmt.Sprintf(format, a...)})
}

// Features not here yet, named in the notes.
const (
	needIfaces = "not mapped yet (needs tracked interfaces, which do not exist here yet; ping nodes (ping, ping_group) can watch a gateway instead)"
)

// ImportKeepalived reads one or two keepalived.conf files and makes the
// equivalent ha.cf, haresources.toml and authkeys. The error is for what
// leaves nothing to write: an unreadable file, a node name that cannot be
// found, no vrrp_instance, or a result the parsers refuse.
func ImportKeepalived(o ImportOptions) (*Imported, error) {
	if len(o.Files) < 1 || len(o.Files) > 2 {
		return nil, errors.New("give one keepalived.conf, or one per node")
	}
	im := &importer{}
	var files []*kaFile
	for i, path := range o.Files {
		c, err := keepalived.ParseFile(o.Source, path)
		if err != nil {
			return nil, err
		}
		for _, d := range c.Diags {
			im.note(d.Pos, Warning, "%s", d.Msg)
		}
		f := im.readFile(path, c)
		if i < len(o.Nodes) && o.Nodes[i] != "" {
			f.node = strings.ToLower(o.Nodes[i])
		} else if f.routerID != "" {
			f.node = strings.ToLower(f.routerID)
		} else {
			return nil, fmt.Errorf("%s: no node name: global_defs has no router_id; give --node NAME for it (its uname -n)", path)
		}
		files = append(files, f)
	}
	nodes := []string{files[0].node}
	if len(files) == 2 {
		nodes = append(nodes, files[1].node)
	} else {
		if len(o.Nodes) < 2 || o.Nodes[1] == "" {
			return nil, fmt.Errorf("%s: the peer's node name is unknown: give the peer's keepalived.conf too, or --node %s --node PEER", o.Files[0], files[0].node)
		}
		nodes = append(nodes, strings.ToLower(o.Nodes[1]))
	}
	if nodes[0] == nodes[1] {
		return nil, fmt.Errorf("both nodes are named %s: give --node NAME for each file", nodes[0])
	}
	for _, n := range nodes {
		if !validNodeName(n) {
			return nil, fmt.Errorf("%q is not a node name ha.cf can hold (letters, digits, '.', '-', '_'): give --node NAME", n)
		}
	}
	if len(files[0].instances) == 0 {
		return nil, fmt.Errorf("%s: no vrrp_instance: nothing to import", files[0].path)
	}
	key := make([]byte, 32)
	if err := readRandom(o.Rand, key); err != nil {
		return nil, fmt.Errorf("generating the key: %w", err)
	}
	out := &Imported{Nodes: nodes}
	out.HACF = im.hacf(files, nodes, o.Files)
	out.HaresourcesTOML = im.haresources(files, nodes, o.Files)
	out.Authkeys = "# authkeys generated by hactl import keepalived: a new random key (keepalived's\n" +
		"# auth_pass is not carried over). Copy this file to both nodes, mode 0600.\nauth 1\n1 sha256 " + hex.EncodeToString(key) + "\n"
	out.Notes = im.notes
	// Never write what our parsers refuse. The hooks' programs are those of
	// the keepalived files: whether they exist is for heartbeat -t on the
	// target machine (the parser checks only that each line is well formed).
	if _, err := config.ParseHACF(strings.NewReader(out.HACF), "ha.cf"); err != nil {
		return nil, fmt.Errorf("the generated ha.cf does not parse (please report): %w", err)
	}
	if _, _, err := config.ParseAuthkeys(strings.NewReader(out.Authkeys), "authkeys"); err != nil {
		return nil, fmt.Errorf("the generated authkeys does not parse (please report): %w", err)
	}
	if _, err := haresources.ParseTOML(strings.NewReader(out.HaresourcesTOML), "haresources.toml", nodes); err != nil {
		return nil, fmt.Errorf("the generated haresources.toml does not parse (please report): %w", err)
	}
	return out, nil
}

func validNodeName(n string) bool {
	if n == "" || len(n) > 64 {
		return false
	}
	for _, r := range n {
		if !(r >= 'a' && r <= 'z' || r >= '0' && r <= '9' || r == '.' || r == '-' || r == '_') {
			return false
		}
	}
	return true
}

// readFile collects what the mapper uses from one file and notes every
// statement it does not use.
func (im *importer) readFile(path string, c *keepalived.Config) *kaFile {
	f := &kaFile{path: path, byName: map[string]*kaInstance{}, scripts: map[string]*kaScript{}}
	for _, n := range c.Nodes {
		switch n.Key {
		case "global_defs":
			im.globalDefs(f, n)
		case "vrrp_instance":
			im.instance(f, n)
		case "vrrp_sync_group":
			im.syncGroup(f, n)
		case "vrrp_script":
			im.vrrpScript(f, n)
		case "virtual_server", "virtual_server_group":
			im.note(n.Pos, NotMapped, "%s: LVS load balancing has no equivalent here (keep keepalived for it, or use ldirectord/IPVS directly)", n.Key)
		case "static_ipaddress", "static_routes", "static_rules":
			im.note(n.Pos, NotMapped, "%s: static addresses, routes and rules belong in the system's network configuration", n.Key)
		case "vrrp_track_process", "track_file", "vrrp_track_file", "bfd_instance", "linkbeat_use_polling", "net_namespace", "instance":
			im.note(n.Pos, NotMapped, "%s: no equivalent here", n.Key)
		default:
			im.note(n.Pos, NotMapped, "unknown keyword %s: ignored", n.Key)
		}
	}
	// Sync groups name their instances; instances may come later in the file.
	for _, g := range f.groups {
		var kept []string
		for _, name := range g.instances {
			in, ok := f.byName[name]
			switch {
			case !ok:
				im.note(g.pos, NotMapped, "vrrp_sync_group %s: instance %s is not defined: left out", g.name, name)
			case in.syncGroup != "":
				im.note(g.pos, NotMapped, "vrrp_sync_group %s: instance %s is already in sync group %s: left out", g.name, name, in.syncGroup)
			default:
				in.syncGroup = g.name
				kept = append(kept, name)
			}
		}
		g.instances = kept
	}
	im.unusedScripts(f)
	return f
}

// summary is "key value, key value" of the children of n that are in keys.
func summary(n *keepalived.Node, keys ...string) string {
	var parts []string
	for _, c := range n.Children {
		if slices.Contains(keys, c.Key) {
			parts = append(parts, c.Text())
		}
	}
	return strings.Join(parts, ", ")
}

func (im *importer) globalDefs(f *kaFile, n *keepalived.Node) {
	for _, c := range n.Children {
		switch c.Key {
		case "router_id":
			f.routerID = c.Arg(0)
			im.note(c.Pos, Mapped, "router_id %s -> the node name (unless --node gives one)", c.Arg(0))
		case "notification_email", "notification_email_from", "smtp_server", "smtp_alert", "smtp_alert_vrrp":
			im.mailSetting(f, c)
		case "smtp_connect_timeout":
			im.note(c.Pos, NotMapped, "smtp_connect_timeout %s: not configurable here (a delivery attempt gives up after 30 s and is retried with a backoff)", c.Arg(0))
		case "smtp_helo_name":
			im.note(c.Pos, NotMapped, "smtp_helo_name %s: no equivalent here (the node's name is used)", c.Arg(0))
		case "vrrp_garp_master_repeat", "vrrp_garp_interval", "vrrp_gna_interval", "vrrp_garp_master_refresh":
			im.garpSetting(&f.garp, c, strings.TrimPrefix(c.Key, "vrrp_"))
		case "script_user":
			f.scriptUser = scriptUser(c.Args)
			im.note(c.Pos, Mapped, "script_user %s -> the user of the checks that name none (root: the daemon's); a notify script that would run as another user than root is not mapped", f.scriptUser)
		case "enable_script_security":
			im.note(c.Pos, NotMapped, "enable_script_security: no equivalent (heartbeat -t checks that every hook and check program exists and is executable; it does not check who may write it)")
		default:
			im.note(c.Pos, NotMapped, "global_defs %s: no equivalent here; ignored", c.Key)
		}
	}
}

// garpSetting reads garp_master_repeat, garp_interval or
// garp_master_refresh (name without vrrp_).
func (im *importer) garpSetting(g *garp, c *keepalived.Node, name string) {
	if !g.set() {
		g.pos = c.Pos
	}
	switch name {
	case "garp_master_repeat":
		v, err := strconv.Atoi(c.Arg(0))
		if err != nil || v < 1 || v > 100 {
			im.note(c.Pos, NotMapped, "%s %s: want 1-100 rounds; ignored", c.Key, c.Arg(0))
			return
		}
		g.count = v
		im.note(c.Pos, Mapped, "%s %d -> garp_count = %d", c.Key, v, v)
	case "garp_interval", "gna_interval":
		d, ok := seconds(c.Arg(0))
		if !ok || d > time.Minute {
			im.note(c.Pos, NotMapped, "%s %s: want seconds; ignored", c.Key, c.Arg(0))
			return
		}
		if d < time.Millisecond {
			im.note(c.Pos, NotMapped, "%s %s: below 1ms, the smallest garp_interval; the default (200ms) is kept", c.Key, c.Arg(0))
			return
		}
		if name == "gna_interval" && g.interval != 0 {
			im.note(c.Pos, NotMapped, "%s: garp_interval already sets the interval, which also paces neighbour advertisements here", c.Key)
			return
		}
		g.interval = d
		im.note(c.Pos, Mapped, "%s %s -> garp_interval = %q", c.Key, c.Arg(0), d.String())
	case "garp_master_refresh":
		d, ok := seconds(c.Arg(0))
		if !ok || d > 24*time.Hour {
			im.note(c.Pos, NotMapped, "%s %s: want seconds; ignored", c.Key, c.Arg(0))
			return
		}
		if d == 0 {
			im.note(c.Pos, Mapped, "%s 0 -> no refresh (the default)", c.Key)
			return
		}
		if d < 100*time.Millisecond {
			d = 100 * time.Millisecond
		}
		g.refresh = d
		im.note(c.Pos, Mapped, "%s %s -> garp_refresh = %q", c.Key, c.Arg(0), d.String())
	}
}

// seconds parses keepalived's decimal seconds ("1", "0.5").
func seconds(s string) (time.Duration, bool) {
	v, err := strconv.ParseFloat(s, 64)
	if err != nil || math.IsNaN(v) || v < 0 || v > 1e6 {
		return 0, false
	}
	return time.Duration(math.Round(v*1000)) * time.Millisecond, true
}

func (im *importer) syncGroup(f *kaFile, n *keepalived.Node) {
	g := &kaSyncGroup{name: n.Arg(0), pos: n.Pos}
	for _, c := range n.Children {
		switch c.Key {
		case "group":
			for _, m := range c.Children {
				g.instances = append(g.instances, m.Key)
				g.instances = append(g.instances, m.Args...)
			}
		case "notify_master", "notify_backup", "notify_fault", "notify_stop", "notify":
			if h, ok := im.hookOf(f, c, "vrrp_sync_group "+g.name); ok {
				f.hooks = append(f.hooks, h)
			}
		case "notify_deleted", "notify_master_rx_lower_pri", "notify_priority_changes":
			im.note(c.Pos, NotMapped, "vrrp_sync_group %s %s: no equivalent here", g.name, c.Key)
		case "smtp_alert":
			im.smtpAlert(f, c)
		case "track_script":
			g.tracks = append(g.tracks, im.trackScripts(c, "vrrp_sync_group "+g.name)...)
		case "track_interface":
			im.note(c.Pos, NotMapped, "vrrp_sync_group %s track_interface: %s", g.name, needIfaces)
		default:
			im.note(c.Pos, NotMapped, "vrrp_sync_group %s %s: no equivalent here; ignored", g.name, c.Key)
		}
	}
	if g.name == "" {
		im.note(n.Pos, NotMapped, "vrrp_sync_group without a name: ignored")
		return
	}
	im.note(n.Pos, Mapped, "vrrp_sync_group %s -> one group holding the addresses of its instances", g.name)
	f.groups = append(f.groups, g)
}

func (im *importer) instance(f *kaFile, n *keepalived.Node) {
	in := &kaInstance{name: n.Arg(0), pos: n.Pos, priority: 100, advert: time.Second}
	if in.name == "" {
		im.note(n.Pos, NotMapped, "vrrp_instance without a name: ignored")
		return
	}
	if _, dup := f.byName[in.name]; dup {
		im.note(n.Pos, NotMapped, "vrrp_instance %s is defined twice: this one is ignored", in.name)
		return
	}
	for _, c := range n.Children {
		switch c.Key {
		case "state":
			in.state = strings.ToUpper(c.Arg(0))
		case "priority":
			v, err := strconv.Atoi(c.Arg(0))
			if err != nil || v < 1 || v > 255 {
				im.note(c.Pos, NotMapped, "priority %s: want 1-255; 100 assumed", c.Arg(0))
				continue
			}
			in.priority = v
		case "virtual_router_id":
			in.vrid = c.Arg(0)
		case "interface":
			if !validIfName(c.Arg(0)) {
				im.note(c.Pos, NotMapped, "interface %q: not an interface name; ignored", c.Arg(0))
				continue
			}
			in.iface = c.Arg(0)
		case "advert_int":
			d, ok := seconds(c.Arg(0))
			if !ok || d < 10*time.Millisecond || d > 255*time.Second {
				im.note(c.Pos, NotMapped, "advert_int %s: want 0.01-255 seconds; 1 assumed", c.Arg(0))
				continue
			}
			in.advert, in.advertPos = d, c.Pos
		case "nopreempt":
			in.nopreempt, in.nopreemptPos = true, c.Pos
		case "preempt":
			in.nopreempt = false
		case "preempt_delay":
			im.note(c.Pos, NotMapped, "preempt_delay %s: the group still fails back (auto_failback on), but as soon as the preferred node has joined, without the delay", c.Arg(0))
		case "virtual_ipaddress", "virtual_ipaddress_excluded":
			for _, v := range c.Children {
				if vip, ok := im.vip(v, in); ok {
					in.vips = append(in.vips, vip)
				}
			}
			if c.Key == "virtual_ipaddress_excluded" {
				im.note(c.Pos, Mapped, "virtual_ipaddress_excluded -> virtual IPs of the group (there is no separate kind here)")
			}
		case "unicast_src_ip", "mcast_src_ip":
			in.srcIP = c.Arg(0)
			if c.Key == "unicast_src_ip" || in.unicastPos.File == "" {
				in.unicastPos = c.Pos
			}
		case "unicast_peer":
			for _, p := range c.Children {
				in.peers = append(in.peers, p.Key)
				if len(p.Args) > 0 {
					im.note(p.Pos, NotMapped, "unicast_peer %s options %s: ignored", p.Key, strings.Join(p.Args, " "))
				}
			}
			in.unicastPos = c.Pos
		case "authentication":
			im.note(c.Pos, Warning, "authentication (%s): not carried over: keepalived's auth_pass is at most 8 characters of plain text; "+
				"authkeys has a new random sha256 key instead: copy the same authkeys to both nodes", summary(c, "auth_type"))
		case "garp_master_repeat", "garp_interval", "gna_interval", "garp_master_refresh":
			im.garpSetting(&in.garp, c, c.Key)
		case "garp_master_delay", "garp_master_refresh_repeat", "garp_lower_prio_delay", "garp_lower_prio_repeat", "garp_extra_if", "vrrp_garp_extra_if":
			im.note(c.Pos, NotMapped, "%s: no equivalent here (a taken address is announced in one burst of garp_count rounds, then every garp_refresh)", c.Key)
		case "track_script":
			in.tracks = append(in.tracks, im.trackScripts(c, "vrrp_instance "+in.name)...)
		case "track_interface":
			for _, s := range c.Children {
				im.note(s.Pos, NotMapped, "track_interface %s in vrrp_instance %s: %s", s.Text(), in.name, needIfaces)
			}
			if len(c.Children) == 0 {
				im.note(c.Pos, NotMapped, "track_interface in vrrp_instance %s: %s", in.name, needIfaces)
			}
		case "notify_master", "notify_backup", "notify_fault", "notify_stop", "notify":
			if h, ok := im.hookOf(f, c, "vrrp_instance "+in.name); ok {
				f.hooks = append(f.hooks, h)
			}
		case "notify_deleted", "notify_master_rx_lower_pri", "notify_priority_changes":
			im.note(c.Pos, NotMapped, "%s %s: no equivalent here", c.Key, strings.Join(c.Args, " "))
		case "smtp_alert":
			im.smtpAlert(f, c)
		case "track_process", "track_file", "track_bfd":
			im.note(c.Pos, NotMapped, "%s: no equivalent here", c.Key)
		case "dont_track_primary", "version", "native_ipv6", "accept", "no_accept", "strict_mode", "debug",
			"use_vmac", "vmac_xmit_base", "unicast_ttl", "mcast_dst_ip", "lvs_sync_daemon_interface", "check_unicast_src",
			"skip_check_adv_addr", "kernel_rx_buf_size", "virtual_routes", "virtual_rules", "higher_prio_send_advert", "unicast_fault_no_peer":
			im.note(c.Pos, NotMapped, "%s: VRRP detail with no equivalent here; ignored", c.Key)
		default:
			im.note(c.Pos, NotMapped, "unknown keyword %s in vrrp_instance %s: ignored", c.Key, in.name)
		}
	}
	if len(in.vips) == 0 {
		im.note(n.Pos, NotMapped, "vrrp_instance %s has no virtual_ipaddress: it makes no group", in.name)
	}
	f.instances = append(f.instances, in)
	f.byName[in.name] = in
}

// vip reads one virtual_ipaddress line: ADDR[/BITS] [dev D] [label L] [brd B] ...
func (im *importer) vip(v *keepalived.Node, in *kaInstance) (kaVIP, bool) {
	vip := kaVIP{pos: v.Pos, dev: in.iface}
	addrText, bitsText, hasBits := strings.Cut(v.Key, "/")
	a, err := netip.ParseAddr(addrText)
	if err != nil || a.Zone() != "" {
		im.note(v.Pos, NotMapped, "virtual_ipaddress %s: not an address; left out", v.Key)
		return vip, false
	}
	vip.addr = a.Unmap()
	vip.bits = vip.addr.BitLen() // keepalived's default is a host route
	if hasBits {
		b, err := strconv.Atoi(bitsText)
		if err != nil || b < 1 || b > vip.addr.BitLen() {
			im.note(v.Pos, NotMapped, "virtual_ipaddress %s: bad prefix length; left out", v.Key)
			return vip, false
		}
		vip.bits = b
	}
	var ignored []string
	for i := 0; i < len(v.Args); i++ {
		word, val := v.Args[i], ""
		if i+1 < len(v.Args) {
			val = v.Args[i+1]
		}
		switch word {
		case "dev":
			vip.dev, i = val, i+1
		case "label":
			vip.label, i = val, i+1
		case "brd", "broadcast":
			vip.brd, i = val, i+1
		case "scope", "peer", "metric", "preferred_lft", "track_group", "use_vmac":
			ignored, i = append(ignored, word+" "+val), i+1
		default:
			ignored = append(ignored, word)
		}
	}
	if len(ignored) > 0 {
		im.note(v.Pos, NotMapped, "virtual_ipaddress %s: %s: ignored", v.Key, strings.Join(ignored, " "))
	}
	if vip.label != "" && (vip.addr.Is6() || !strings.HasPrefix(vip.label, vip.dev+":") || len(vip.label) > 15) {
		im.note(v.Pos, NotMapped, "virtual_ipaddress %s label %s: a label must be DEV:NAME of an IPv4 address's device, at most 15 characters; left out", v.Key, vip.label)
		vip.label = ""
	}
	if vip.brd != "" {
		if b, err := netip.ParseAddr(vip.brd); err != nil || !b.Is4() || vip.addr.Is6() {
			im.note(v.Pos, NotMapped, "virtual_ipaddress %s brd %s: not an IPv4 broadcast address; left out", v.Key, vip.brd)
			vip.brd = ""
		}
	}
	if vip.dev != "" && !validIfName(vip.dev) {
		im.note(v.Pos, NotMapped, "virtual_ipaddress %s dev %q: not an interface name; left out", v.Key, vip.dev)
		return vip, false
	}
	// What haresources refuses (loopback, multicast, ...) is said here.
	if _, err := haresources.ParseResource(vip.token(), v.Pos); err != nil {
		msg := err.Error()
		var he *haresources.Error
		if errors.As(err, &he) {
			msg = he.Msg
		}
		im.note(v.Pos, NotMapped, "virtual_ipaddress %s: %s; left out", v.Key, msg)
		return vip, false
	}
	return vip, true
}

// validIfName is an interface name ha.cf and haresources accept.
func validIfName(s string) bool {
	if s == "" || len(s) > 15 || s == "." || s == ".." {
		return false
	}
	for _, r := range s {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '.' || r == '-' || r == '_') {
			return false
		}
	}
	return true
}

// token is the haresources resource for v.
func (v kaVIP) token() string {
	spec := fmt.Sprintf("%s/%d", v.addr, v.bits)
	if v.addr.Is6() {
		if v.dev != "" {
			spec += "/" + v.dev
		}
		return "IPv6addr::" + spec
	}
	dev := v.dev
	if v.label != "" {
		dev = v.label
	}
	if dev != "" {
		spec += "/" + dev
	}
	if v.brd != "" {
		spec += "/" + v.brd
	}
	return "IPaddr2::" + spec
}

// unit is one future group: a sync group or an instance outside any.
type unit struct {
	what      string // "vrrp_instance VI_1" or "vrrp_sync_group VG"
	name      string
	sync      bool
	pos       diag.Pos
	instances [2][]*kaInstance // per file
	tracks    [2][]kaTrack     // a sync group's own track_script, per file
}

func units(files []*kaFile) []*unit {
	var out []*unit
	add := func(f int, u *unit) {
		for _, o := range out {
			if o.sync == u.sync && o.name == u.name {
				o.instances[f] = u.instances[f]
				o.tracks[f] = u.tracks[f]
				return
			}
		}
		out = append(out, u)
	}
	for fi, f := range files {
		for _, g := range f.groups {
			u := &unit{what: "vrrp_sync_group " + g.name, name: g.name, sync: true, pos: g.pos}
			u.tracks[fi] = g.tracks
			for _, name := range g.instances {
				u.instances[fi] = append(u.instances[fi], f.byName[name])
			}
			add(fi, u)
		}
		for _, in := range f.instances {
			if in.syncGroup == "" {
				u := &unit{what: "vrrp_instance " + in.name, name: in.name, pos: in.pos}
				u.instances[fi] = []*kaInstance{in}
				add(fi, u)
			}
		}
	}
	return out
}

// preferred picks the preferred node of u: the higher priority, then the
// MASTER state, then the first file; with one file, MASTER (or priority
// 255) means this node, else the peer.
func (im *importer) preferred(u *unit, files []*kaFile) (int, string) {
	first := func(f int) *kaInstance {
		if len(u.instances[f]) == 0 {
			return nil
		}
		return u.instances[f][0]
	}
	a, b := first(0), first(1)
	switch {
	case a != nil && b != nil:
		switch {
		case a.priority > b.priority:
			return 0, fmt.Sprintf("priority %d over %d", a.priority, b.priority)
		case b.priority > a.priority:
			return 1, fmt.Sprintf("priority %d over %d", b.priority, a.priority)
		case b.state == "MASTER" && a.state != "MASTER":
			return 1, fmt.Sprintf("equal priority %d, state MASTER", a.priority)
		case a.state == "MASTER":
			return 0, fmt.Sprintf("equal priority %d, state MASTER", a.priority)
		}
		return 0, fmt.Sprintf("equal priority %d and state: the first file's node", a.priority)
	case a != nil:
		if len(files) == 2 {
			im.note(u.pos, Warning, "%s is not in %s", u.what, files[1].path)
		}
		if a.state == "MASTER" || a.priority == 255 {
			return 0, fmt.Sprintf("state %s priority %d", stateText(a.state), a.priority)
		}
		return 1, fmt.Sprintf("this node is state %s priority %d", stateText(a.state), a.priority)
	case b != nil:
		im.note(b.pos, Warning, "%s is not in %s", u.what, files[0].path)
		if b.state == "MASTER" || b.priority == 255 {
			return 1, fmt.Sprintf("state %s priority %d", stateText(b.state), b.priority)
		}
		return 0, fmt.Sprintf("the peer is state %s priority %d", stateText(b.state), b.priority)
	}
	return 0, ""
}

// stateText is an instance's state for the report.
func stateText(s string) string {
	if s == "" {
		return "(none)"
	}
	return s
}

func (im *importer) haresources(files []*kaFile, nodes, paths []string) string {
	var b strings.Builder
	fmt.Fprintf(&b, "# haresources.toml generated by hactl import keepalived from %s.\n", strings.Join(paths, " and "))
	b.WriteString("# One group per vrrp_sync_group and per vrrp_instance outside one; node is its preferred node.\n")
	seen := map[string]diag.Pos{}
	n := 0
	for _, u := range units(files) {
		fi, why := im.preferred(u, files)
		// The addresses come from the preferred node's file, else the other.
		srcFile := fi
		if len(u.instances[fi]) == 0 {
			srcFile = 1 - fi
		}
		src := u.instances[srcFile]
		var toks []string
		var opts []string
		for _, in := range src {
			g := files[0].garp
			if len(files) == 2 && slices.Contains(files[1].instances, in) {
				g = files[1].garp
			}
			if in.garp.count != 0 {
				g.count = in.garp.count
			}
			if in.garp.interval != 0 {
				g.interval = in.garp.interval
			}
			if in.garp.refresh != 0 {
				g.refresh = in.garp.refresh
			}
			for _, v := range in.vips {
				key := v.addr.String()
				if p, dup := seen[key]; dup {
					im.note(v.pos, NotMapped, "virtual_ipaddress %s: already in a group (%s); left out", key, p)
					continue
				}
				seen[key] = v.pos
				if g.set() {
					var o strings.Builder
					fmt.Fprintf(&o, "\n[[group.resource_options]]\nresource = %d\n", len(toks))
					if g.count != 0 {
						fmt.Fprintf(&o, "garp_count = %d\n", g.count)
					}
					if g.interval != 0 {
						fmt.Fprintf(&o, "garp_interval = %q\n", g.interval.String())
					}
					if g.refresh != 0 {
						fmt.Fprintf(&o, "garp_refresh = %q\n", g.refresh.String())
					}
					opts = append(opts, o.String())
				}
				toks = append(toks, v.token())
			}
		}
		im.compareVIPs(u, files)
		if len(toks) == 0 {
			continue
		}
		n++
		im.note(u.pos, Mapped, "%s -> group %d on %s (%s): %s", u.what, n, nodes[fi], why, strings.Join(toks, " "))
		fmt.Fprintf(&b, "\n# %s (%s)\n[[group]]\nnode = %s\nresources = [", u.what, u.pos, tomlString(nodes[fi]))
		for i, t := range toks {
			if i > 0 {
				b.WriteString(", ")
			}
			b.WriteString(tomlString(t))
		}
		b.WriteString("]\n")
		for _, o := range opts {
			b.WriteString(o)
		}
		b.WriteString(im.checks(u, files, srcFile, n))
	}
	return b.String()
}

// compareVIPs notes when the two files give a unit different addresses.
func (im *importer) compareVIPs(u *unit, files []*kaFile) {
	if len(files) < 2 || len(u.instances[0]) == 0 || len(u.instances[1]) == 0 {
		return
	}
	list := func(ins []*kaInstance) string {
		var s []string
		for _, in := range ins {
			for _, v := range in.vips {
				s = append(s, v.token())
			}
		}
		return strings.Join(s, " ")
	}
	if a, b := list(u.instances[0]), list(u.instances[1]); a != b {
		im.note(u.instances[1][0].pos, Warning, "%s: the addresses differ from %s (%s here, %s there); the preferred node's are used", u.what, u.instances[0][0].pos, b, a)
	}
}

// tomlString is s as a TOML basic string.
func tomlString(s string) string {
	var b strings.Builder
	b.WriteByte('"')
	for _, r := range s {
		switch {
		case r == '"' || r == '\\':
			b.WriteByte('\\')
			b.WriteRune(r)
		case r < 0x20 || r == 0x7f:
			fmt.Fprintf(&b, "\\u%04X", r)
		default:
			b.WriteRune(r)
		}
	}
	b.WriteByte('"')
	return b.String()
}

func ms(d time.Duration) string { return strconv.FormatInt(d.Milliseconds(), 10) + "ms" }

func (im *importer) hacf(files []*kaFile, nodes, paths []string) string {
	var b strings.Builder
	fmt.Fprintf(&b, "# ha.cf generated by hactl import keepalived from %s.\n", strings.Join(paths, " and "))
	b.WriteString("# Copy ha.cf, haresources.toml and authkeys to /etc/ha.d on both nodes; check with heartbeat -t.\n")
	fmt.Fprintf(&b, "node %s %s\n", nodes[0], nodes[1])

	// Timing: keepalive is the advert interval; a backup declares the
	// master dead after keepalived's master down interval, 3 x advert +
	// (256 - priority) x advert / 256, with the lowest priority (the
	// backup's, the longest).
	var all []*kaInstance
	for _, f := range files {
		all = append(all, f.instances...)
	}
	adv, advPos, minPrio := time.Duration(0), diag.Pos{}, 255
	for _, in := range all {
		if adv == 0 || in.advert < adv {
			adv, advPos = in.advert, in.advertPos
		}
		minPrio = min(minPrio, in.priority)
	}
	if advPos.File == "" {
		advPos = all[0].pos
	}
	for _, in := range all {
		if in.advert != adv {
			im.note(in.pos, Warning, "vrrp_instance %s: advert_int %v differs; the cluster has one keepalive, the shortest (%v)", in.name, in.advert, adv)
		}
	}
	if minPrio == 255 {
		minPrio = 254 // a 255 owner never waits; its peer does
	}
	skew := time.Duration(int64(256-minPrio) * int64(adv) / 256)
	dead := (3*adv + skew + time.Millisecond - 1).Truncate(time.Millisecond)
	keep := adv.Truncate(time.Millisecond)
	im.note(advPos, Mapped, "advert_int %v -> keepalive %s, deadtime and initdead %s (keepalived's master down interval: 3 x advert_int + (256 - priority %d) x advert_int / 256)",
		adv, ms(keep), ms(dead), minPrio)
	fmt.Fprintf(&b, "# advert_int %v (%s); deadtime = 3 x advert_int + (256 - priority %d) x advert_int / 256, keepalived's\n"+
		"# master down interval; initdead the same, as a keepalived backup waits that long at start.\n", adv, advPos, minPrio)
	fmt.Fprintf(&b, "keepalive %s\ndeadtime %s\ninitdead %s\n", ms(keep), ms(dead), ms(dead))

	// Links: unicast peers become ucast lines (both nodes' addresses: each
	// node skips its own), otherwise bcast on the VRRP interface.
	type ucast struct{ dev, addr string }
	var ucasts []ucast
	var bcasts []string
	var mediaPos diag.Pos
	addU := func(dev, addr string, pos diag.Pos) {
		a, err := netip.ParseAddr(addr)
		if err != nil || a.Zone() != "" || dev == "" {
			im.note(pos, NotMapped, "unicast address %s (interface %q): not usable for a ucast line", addr, dev)
			return
		}
		kind := "ucast"
		if !a.Unmap().Is4() {
			kind = "ucast6"
		}
		u := ucast{kind + " " + dev, a.Unmap().String()}
		if !slices.Contains(ucasts, u) {
			ucasts = append(ucasts, u)
		}
	}
	for _, in := range all {
		if len(in.peers) == 0 {
			continue
		}
		if in.iface == "" {
			im.note(in.unicastPos, NotMapped, "vrrp_instance %s: unicast peers without an interface: no ucast line", in.name)
			continue
		}
		if mediaPos.File == "" {
			mediaPos = in.unicastPos
		}
		if in.srcIP != "" {
			addU(in.iface, in.srcIP, in.unicastPos)
		}
		for _, p := range in.peers {
			addU(in.iface, p, in.unicastPos)
		}
	}
	if len(ucasts) > 0 {
		var lines []string
		for _, u := range ucasts {
			lines = append(lines, u.dev+" "+u.addr)
		}
		im.note(mediaPos, Mapped, "interface / unicast_src_ip / unicast_peer -> %s (each node skips the line to its own address)", strings.Join(lines, ", "))
		fmt.Fprintf(&b, "# interface, unicast_src_ip and unicast_peer (%s): each node skips the line to its own address\n", mediaPos)
		for _, l := range lines {
			b.WriteString(l + "\n")
		}
	} else {
		for _, in := range all {
			if in.iface != "" && !slices.Contains(bcasts, in.iface) {
				bcasts = append(bcasts, in.iface)
				im.note(in.pos, Mapped, "interface %s (VRRP multicast) -> bcast %s", in.iface, in.iface)
			}
		}
		if len(bcasts) == 0 {
			// Without an interface there is no link: the check will say so.
			im.note(all[0].pos, NotMapped, "no interface and no unicast peers: no heartbeat link could be made; add a ucast or bcast line to ha.cf")
		} else {
			b.WriteString("# interface (VRRP multicast on the same network): broadcast heartbeats there\n")
			fmt.Fprintf(&b, "bcast %s\n", strings.Join(bcasts, " "))
		}
	}

	// Failback: keepalived preempts unless nopreempt.
	var np *kaInstance
	preempt := false
	for _, in := range all {
		if in.nopreempt {
			if np == nil {
				np = in
			}
		} else {
			preempt = true
		}
	}
	if np != nil {
		im.note(np.nopreemptPos, Mapped, "nopreempt -> auto_failback off")
		if preempt {
			im.note(np.nopreemptPos, Warning, "nopreempt is set on some instances only; auto_failback is one setting for the whole cluster: off")
		}
		fmt.Fprintf(&b, "# nopreempt (%s): a group stays where it runs when its preferred node returns\nauto_failback off\n", np.nopreemptPos)
	} else {
		im.note(all[0].pos, Mapped, "preemption (keepalived's default) -> auto_failback on")
		b.WriteString("# keepalived preempts by default: a group moves back to its preferred node when it returns\nauto_failback on\n")
	}
	im.hooksAndMail(&b, files)
	return b.String()
}

// Report writes the notes: what was mapped, what was not, and warnings,
// each with file:line. It never includes the key.
func (im *Imported) Report(w io.Writer) {
	fmt.Fprintf(w, "nodes: %s\n", strings.Join(im.Nodes, ", "))
	for _, s := range []struct {
		k     NoteKind
		title string
	}{{Mapped, "mapped"}, {NotMapped, "not mapped"}, {Warning, "warnings"}} {
		ns := im.NotesOf(s.k)
		if len(ns) == 0 {
			continue
		}
		fmt.Fprintf(w, "%s:\n", s.title)
		for _, n := range ns {
			fmt.Fprintf(w, "  %s\n", n)
		}
	}
}
