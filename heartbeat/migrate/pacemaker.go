package migrate

import (
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/hasuite/hasuite/heartbeat/config"
	"github.com/hasuite/hasuite/resources/haresources"
)

// What the export assumes of hasuite's behaviour (heartbeat/daemon,
// resources/runner): virtual IPs are checked every second and re-added;
// other resources are not monitored; an operation's default limit is 2
// minutes.
const (
	vipMonitorInterval = time.Second
	vipMonitorTimeout  = 20 * time.Second
	defaultOpTimeout   = 2 * time.Minute
	// locationScore is a group's preference for its node; stickiness above
	// it keeps a group where it runs (auto_failback off).
	locationScore = 100
	stickyScore   = 200
)

// Export is a Pacemaker configuration made from a hasuite one.
type Export struct {
	CIB      []byte   // the CIB, indented XML with a final newline
	PCS      []string // the equivalent pcs commands, one per line
	Warnings []string // what was not carried over, each with file:line
}

// CIB XML model (the part written).
type (
	xCIB struct {
		XMLName       xml.Name       `xml:"cib"`
		ValidateWith  string         `xml:"validate-with,attr"`
		Epoch         int            `xml:"epoch,attr"`
		NumUpdates    int            `xml:"num_updates,attr"`
		AdminEpoch    int            `xml:"admin_epoch,attr"`
		Configuration xConfiguration `xml:"configuration"`
		Status        struct{}       `xml:"status"`
	}
	xConfiguration struct {
		CRMConfig   xPropertySet    `xml:"crm_config>cluster_property_set"`
		Nodes       []xNode         `xml:"nodes>node"`
		Resources   xResources      `xml:"resources"`
		Constraints []xLocation     `xml:"constraints>rsc_location"`
		RscDefaults xMetaAttributes `xml:"rsc_defaults>meta_attributes"`
	}
	xPropertySet struct {
		ID     string    `xml:"id,attr"`
		NVPair []xNVPair `xml:"nvpair"`
	}
	xNVPair struct {
		ID    string `xml:"id,attr"`
		Name  string `xml:"name,attr"`
		Value string `xml:"value,attr"`
	}
	xNode struct {
		ID    string `xml:"id,attr"`
		Uname string `xml:"uname,attr"`
	}
	xResources struct {
		Groups     []xGroup     `xml:"group"`
		Primitives []xPrimitive `xml:"primitive"`
	}
	xGroup struct {
		ID         string       `xml:"id,attr"`
		Primitives []xPrimitive `xml:"primitive"`
	}
	xPrimitive struct {
		ID         string          `xml:"id,attr"`
		Class      string          `xml:"class,attr"`
		Provider   string          `xml:"provider,attr,omitempty"`
		Type       string          `xml:"type,attr"`
		Attributes *xInstanceAttrs `xml:"instance_attributes,omitempty"`
		Operations *xOperations    `xml:"operations,omitempty"`
	}
	xInstanceAttrs struct {
		ID     string    `xml:"id,attr"`
		NVPair []xNVPair `xml:"nvpair"`
	}
	xOperations struct {
		Op []xOp `xml:"op"`
	}
	xOp struct {
		ID       string `xml:"id,attr"`
		Name     string `xml:"name,attr"`
		Interval string `xml:"interval,attr"`
		Timeout  string `xml:"timeout,attr,omitempty"`
	}
	xLocation struct {
		ID    string `xml:"id,attr"`
		Rsc   string `xml:"rsc,attr"`
		Node  string `xml:"node,attr"`
		Score string `xml:"score,attr"`
	}
	xMetaAttributes struct {
		ID     string    `xml:"id,attr"`
		NVPair []xNVPair `xml:"nvpair"`
	}
)

// ids hands out unique XML IDs.
type ids map[string]bool

// make returns a valid, unused ID made from the parts.
func (m ids) make(parts ...string) string {
	var b strings.Builder
	for i, p := range parts {
		if i > 0 {
			b.WriteByte('_')
		}
		for _, r := range p {
			if r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '_' || r == '-' || r == '.' {
				b.WriteRune(r)
			} else {
				b.WriteByte('_')
			}
		}
	}
	id := b.String()
	if id == "" || !(id[0] >= 'a' && id[0] <= 'z' || id[0] >= 'A' && id[0] <= 'Z' || id[0] == '_') {
		id = "r_" + id
	}
	base := id
	for n := 2; m[id]; n++ {
		id = base + "-" + strconv.Itoa(n)
	}
	m[id] = true
	return id
}

// prim is one primitive with its pcs spelling.
type prim struct {
	x      xPrimitive
	params [][2]string
	ops    []xOp
}

// pcsAgent is class:provider:type as pcs writes it.
func (p prim) pcsAgent() string {
	if p.x.Provider != "" {
		return p.x.Class + ":" + p.x.Provider + ":" + p.x.Type
	}
	return p.x.Class + ":" + p.x.Type
}

// LoadForExport reads the configuration directory as the export needs it:
// ha.cf (or ha.toml) and haresources (or haresources.toml), without the
// local node's checks (the export may run on any machine).
func LoadForExport(dir string) (*config.Config, []haresources.Group, error) {
	var cfg *config.Config
	var err error
	cf, tm := filepath.Join(dir, "ha.cf"), filepath.Join(dir, "ha.toml")
	f, ferr := os.Open(tm)
	if ferr == nil {
		cfg, err = config.ParseTOML(f, tm)
		f.Close()
	} else if f, ferr = os.Open(cf); ferr == nil {
		cfg, err = config.ParseHACF(f, cf)
		f.Close()
	} else {
		return nil, nil, fmt.Errorf("%s: no ha.cf or ha.toml found", dir)
	}
	if err != nil {
		return nil, nil, err
	}
	if len(cfg.Nodes) != 2 {
		return nil, nil, fmt.Errorf("%s: a cluster of two nodes is needed (it lists %d)", cfg.Source+cfgSourceFallback(cfg, cf, tm), len(cfg.Nodes))
	}
	groups, err := haresources.Load(filepath.Join(dir, "haresources"), cfg.Nodes)
	if err != nil {
		return nil, nil, err
	}
	cfg.Dir = dir
	return cfg, groups, nil
}

func cfgSourceFallback(cfg *config.Config, cf, tm string) string {
	if cfg.Source != "" {
		return ""
	}
	if _, err := os.Stat(tm); err == nil {
		return tm
	}
	return cf
}

// ExportPacemaker makes the CIB and pcs commands for cfg's nodes, groups
// and STONITH devices.
func ExportPacemaker(cfg *config.Config, groups []haresources.Group) (*Export, error) {
	if len(cfg.Nodes) != 2 {
		return nil, errors.New("a cluster of two nodes is needed")
	}
	ex := &Export{}
	warn := func(format string, a ...any) { ex.Warnings = append(ex.Warnings, fmt.Sprintf(format, a...)) }
	id := ids{}
	c := &xCIB{ValidateWith: "pacemaker-3.0", Epoch: 1}
	conf := &c.Configuration

	stonith := len(cfg.Stonith) > 0
	conf.CRMConfig = xPropertySet{ID: id.make("cib-bootstrap-options")}
	prop := func(name, value string) {
		conf.CRMConfig.NVPair = append(conf.CRMConfig.NVPair, xNVPair{ID: id.make("cib-bootstrap-options", name), Name: name, Value: value})
		ex.PCS = append(ex.PCS, "pcs property set "+shellQuote(name+"="+value))
	}
	prop("stonith-enabled", strconv.FormatBool(stonith))
	// Two nodes: the survivor of a peer's death must keep running (with
	// Corosync 3, votequorum's two_node: 1 does this better).
	prop("no-quorum-policy", "ignore")
	for i, n := range cfg.Nodes {
		conf.Nodes = append(conf.Nodes, xNode{ID: strconv.Itoa(i + 1), Uname: n})
	}

	// auto_failback on (and legacy, which behaves as on between nodes of
	// this suite): no stickiness, a group returns to its node; off: a
	// stickiness above the location score keeps it where it runs.
	stick := 0
	if cfg.AutoFailback == "off" {
		stick = stickyScore
	}
	conf.RscDefaults = xMetaAttributes{ID: id.make("rsc-options")}
	conf.RscDefaults.NVPair = []xNVPair{{ID: id.make("rsc-options", "resource-stickiness"), Name: "resource-stickiness", Value: strconv.Itoa(stick)}}
	ex.PCS = append(ex.PCS, "pcs resource defaults update resource-stickiness="+strconv.Itoa(stick))

	for _, g := range groups {
		var ps []prim
		for _, r := range g.Resources {
			p, w := primitive(cfg, r, id)
			if w != "" {
				warn("%s: %s", r.Pos, w)
			}
			ps = append(ps, p)
		}
		if len(ps) == 0 {
			continue
		}
		gid := id.make("grp", ps[0].x.ID)
		xg := xGroup{ID: gid}
		for _, p := range ps {
			xg.Primitives = append(xg.Primitives, p.x)
			ex.PCS = append(ex.PCS, pcsCreate("resource", p, gid))
		}
		conf.Resources.Groups = append(conf.Resources.Groups, xg)
		conf.Constraints = append(conf.Constraints, xLocation{ID: id.make("loc", gid, g.Node), Rsc: gid, Node: g.Node, Score: strconv.Itoa(locationScore)})
		ex.PCS = append(ex.PCS, fmt.Sprintf("pcs constraint location %s prefers %s=%d", gid, shellQuote(g.Node), locationScore))
	}

	for _, s := range cfg.Stonith {
		p := prim{x: xPrimitive{Class: "stonith", Type: s.Type}}
		var avoid string
		if s.Host == "" || s.Host == "*" {
			// One device for both nodes.
			p.x.ID = id.make("fence", s.Type)
		} else {
			// stonith_host HOST: the device HOST uses to fence its peer; it
			// never runs on the node it fences.
			avoid = cfg.Nodes[0]
			if avoid == s.Host {
				avoid = cfg.Nodes[1]
			}
			p.params = append(p.params, [2]string{"pcmk_host_list", avoid})
			p.x.ID = id.make("fence", avoid)
		}
		what := "the parameter file " + s.File
		if s.File == "" {
			what = "the parameters of the stonith_host line"
		}
		warn("%s: STONITH %s: %s are not exported (they often hold passwords): add them with pcs stonith update %s", s.Pos, s.Type, what, p.x.ID)
		p.x.Attributes = attrs(p.x.ID, p.params, id)
		p.x.Operations = &xOperations{Op: []xOp{{ID: id.make(p.x.ID, "monitor", "60s"), Name: "monitor", Interval: "60s"}}}
		p.ops = p.x.Operations.Op
		conf.Resources.Primitives = append(conf.Resources.Primitives, p.x)
		ex.PCS = append(ex.PCS, pcsCreate("stonith", p, ""))
		if avoid != "" {
			conf.Constraints = append(conf.Constraints, xLocation{ID: id.make("loc", p.x.ID, avoid), Rsc: p.x.ID, Node: avoid, Score: "-INFINITY"})
			ex.PCS = append(ex.PCS, fmt.Sprintf("pcs constraint location %s avoids %s", p.x.ID, shellQuote(avoid)))
		}
	}
	out, err := xml.MarshalIndent(c, "", "  ")
	if err != nil {
		return nil, err
	}
	ex.CIB = append(out, '\n')
	return ex, nil
}

// attrs is the instance_attributes of a primitive, nil without parameters.
func attrs(pid string, params [][2]string, id ids) *xInstanceAttrs {
	if len(params) == 0 {
		return nil
	}
	a := &xInstanceAttrs{ID: id.make(pid, "instance_attributes")}
	for _, kv := range params {
		a.NVPair = append(a.NVPair, xNVPair{ID: id.make(pid, "instance_attributes", kv[0]), Name: kv[0], Value: kv[1]})
	}
	return a
}

// primitive maps one haresources resource; w is a warning ("" if none).
func primitive(cfg *config.Config, r haresources.Resource, id ids) (p prim, w string) {
	timeout := r.Timeout
	if timeout == 0 {
		timeout = defaultOpTimeout
	}
	var name string
	switch r.Kind {
	case haresources.KindIP:
		ip := r.IP
		p.x.Class, p.x.Provider = "ocf", "heartbeat"
		name = "vip_" + ip.Addr
		nic, label, _ := strings.Cut(ip.Iface, ":")
		if strings.Contains(ip.Addr, ":") {
			p.x.Type = "IPv6addr"
			p.params = append(p.params, [2]string{"ipv6addr", ip.Addr})
		} else {
			p.x.Type = "IPaddr2"
			p.params = append(p.params, [2]string{"ip", ip.Addr})
		}
		if ip.Bits != 0 {
			p.params = append(p.params, [2]string{"cidr_netmask", strconv.Itoa(ip.Bits)})
		}
		if nic != "" {
			p.params = append(p.params, [2]string{"nic", nic})
		}
		if label != "" {
			p.params = append(p.params, [2]string{"iflabel", label})
		}
		if ip.Broadcast != "" {
			p.params = append(p.params, [2]string{"broadcast", ip.Broadcast})
		}
		if r.Announce.Refresh != 0 {
			w = fmt.Sprintf("%s: garp_refresh (re-announcing while held) has no IPaddr2 equivalent", r.Raw)
		}
		p.ops = append(p.ops, xOp{Name: "monitor", Interval: durationText(vipMonitorInterval), Timeout: durationText(vipMonitorTimeout)})
	case haresources.KindOCF:
		o := r.OCF
		p.x.Class, p.x.Provider, p.x.Type = "ocf", o.Provider, o.Agent
		name = o.Instance
		keys := make([]string, 0, len(o.Params))
		for k := range o.Params {
			keys = append(keys, k)
		}
		slices.Sort(keys)
		for _, k := range keys {
			p.params = append(p.params, [2]string{k, o.Params[k]})
		}
		if o.ParamFile != "" {
			w = fmt.Sprintf("%s: the parameters in %s are not exported: add them with pcs resource update", r.Raw, o.ParamFile)
		}
	default: // KindScript
		name = r.Type
		switch {
		case r.Type == "Filesystem" && len(r.Args) >= 2:
			p.x.Class, p.x.Provider, p.x.Type = "ocf", "heartbeat", "Filesystem"
			p.params = append(p.params, [2]string{"device", r.Args[0]}, [2]string{"directory", r.Args[1]})
			if len(r.Args) > 2 {
				p.params = append(p.params, [2]string{"fstype", r.Args[2]})
			}
			if len(r.Args) > 3 {
				p.params = append(p.params, [2]string{"options", r.Args[3]})
			}
		case r.Type == "MailTo" && len(r.Args) >= 1:
			p.x.Class, p.x.Provider, p.x.Type = "ocf", "heartbeat", "MailTo"
			p.params = append(p.params, [2]string{"email", r.Args[0]})
			if len(r.Args) > 1 {
				p.params = append(p.params, [2]string{"subject", r.Args[1]})
			}
		case r.Type == "IPsrcaddr" && len(r.Args) >= 1:
			p.x.Class, p.x.Provider, p.x.Type = "ocf", "heartbeat", "IPsrcaddr"
			p.params = append(p.params, [2]string{"ipaddress", r.Args[0]})
		case len(r.Args) == 0:
			p.x.Class, p.x.Type = "lsb", r.Type
			if _, err := os.Stat(filepath.Join(cfg.Dir, "resource.d", r.Type)); err == nil && cfg.Dir != "" {
				w = fmt.Sprintf("%s is a Heartbeat resource.d script: exported as lsb:%s; install it as /etc/init.d/%s (it must answer status as LSB says) or pick an OCF agent", r.Raw, r.Type, r.Type)
			}
		default:
			p.x.Class, p.x.Type = "lsb", r.Type
			w = fmt.Sprintf("%s: a Heartbeat resource.d script with arguments has no Pacemaker class (Pacemaker 2 dropped the heartbeat class): exported as lsb:%s without its arguments; replace it by an OCF agent", r.Raw, r.Type)
		}
	}
	p.x.ID = id.make(name)
	p.ops = append(p.ops,
		xOp{Name: "start", Interval: "0s", Timeout: durationText(timeout)},
		xOp{Name: "stop", Interval: "0s", Timeout: durationText(timeout)})
	for i := range p.ops {
		p.ops[i].ID = id.make(p.x.ID, p.ops[i].Name, p.ops[i].Interval)
	}
	p.x.Attributes = attrs(p.x.ID, p.params, id)
	p.x.Operations = &xOperations{Op: p.ops}
	return p, w
}

// durationText is d as Pacemaker writes it: whole seconds ("120s") or ms.
func durationText(d time.Duration) string {
	if d%time.Second == 0 {
		return strconv.FormatInt(int64(d/time.Second), 10) + "s"
	}
	return strconv.FormatInt(d.Milliseconds(), 10) + "ms"
}

// pcsCreate is "pcs resource create" (or "pcs stonith create") for p.
func pcsCreate(what string, p prim, group string) string {
	parts := []string{"pcs", what, "create", p.x.ID}
	if what == "stonith" {
		parts = append(parts, p.x.Type)
	} else {
		parts = append(parts, p.pcsAgent())
	}
	for _, kv := range p.params {
		parts = append(parts, shellQuote(kv[0]+"="+kv[1]))
	}
	if len(p.ops) > 0 {
		parts = append(parts, "op")
		for _, o := range p.ops {
			parts = append(parts, o.Name)
			if o.Name == "monitor" {
				parts = append(parts, "interval="+o.Interval)
			}
			if o.Timeout != "" {
				parts = append(parts, "timeout="+o.Timeout)
			}
		}
	}
	if group != "" {
		parts = append(parts, "--group", group)
	}
	return strings.Join(parts, " ")
}

// shellQuote quotes s for a POSIX shell when it needs it.
func shellQuote(s string) string {
	if s != "" && strings.IndexFunc(s, func(r rune) bool {
		return !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || strings.ContainsRune("_-.,:/=@%+", r))
	}) < 0 {
		return s
	}
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}

// WritePCS writes the pcs commands as a script.
func (ex *Export) WritePCS(w io.Writer) {
	fmt.Fprintln(w, "# pcs commands generated by hactl export pacemaker; run them on one node of a Pacemaker cluster")
	fmt.Fprintln(w, "# whose nodes are named as in ha.cf (pcs cluster setup ... first).")
	for _, l := range ex.PCS {
		fmt.Fprintln(w, l)
	}
}
