// Package check is the configuration check of `heartbeat -t` and `hactl
// check`: it loads the configuration directory exactly as the daemon does
// (ha.cf or ha.toml, authkeys, haresources, every resource agent), adds the
// warnings about set-ups that invite a split brain or fail on this machine
// (config.Advise) and the firewall openings (config.Firewall), and writes
// the result as text or JSON.
package check

import (
	"cmp"
	"encoding/json"
	"fmt"
	"io"
	"slices"

	"github.com/hasuite/hasuite/heartbeat/cli"
	"github.com/hasuite/hasuite/heartbeat/config"
	"github.com/hasuite/hasuite/heartbeat/daemon"
	"github.com/hasuite/hasuite/internal/diag"
	"github.com/hasuite/hasuite/resources/haresources"
)

// ExitConfig is the exit code for a configuration with errors (LSB's "not
// configured", as Heartbeat).
const ExitConfig = 6

// Report is the result of one check.
type Report struct {
	Config   *config.Config // nil when the configuration did not load
	Groups   []haresources.Group
	Firewall []config.Opening
	// Monitoring says which resources are monitored, or suggests turning
	// monitoring on (one line each).
	Monitoring []string
	Warnings   []diag.Diag
	Errors     []diag.Diag // each error found; empty when the configuration is good
	Err        error       // the errors as the daemon reports them; nil when good
}

// Run checks the configuration in req.ConfigDir for node req.NodeName, as
// the daemon would load it on machine m (nil: this machine).
func Run(req cli.CheckRequest, m config.Machine) *Report {
	if m == nil {
		m = config.LocalMachine{}
	}
	r := &Report{}
	cfg, warns, err := daemon.LoadConfig(daemon.Options{ConfigDir: req.ConfigDir, NodeName: req.NodeName})
	r.Warnings = warns
	if err != nil {
		r.Err, r.Errors = err, diag.Flatten(err)
		return r
	}
	r.Config = cfg
	r.Warnings = sortByPlace(append(r.Warnings, cfg.Advise(m)...))
	r.Firewall = cfg.Firewall(m)
	groups, err := daemon.CheckResources(cfg)
	if err != nil {
		r.Err, r.Errors = err, diag.Flatten(err)
		return r
	}
	r.Groups = groups
	r.Monitoring = daemon.MonitorSummary(cfg, groups)
	return r
}

// sortByPlace orders findings by file, in order of first appearance, then
// by line; otherwise they keep their order.
func sortByPlace(ds []diag.Diag) []diag.Diag {
	order := map[string]int{}
	for _, d := range ds {
		if _, ok := order[d.File]; !ok {
			order[d.File] = len(order)
		}
	}
	slices.SortStableFunc(ds, func(a, b diag.Diag) int {
		return cmp.Or(cmp.Compare(order[a.File], order[b.File]), cmp.Compare(a.Line, b.Line))
	})
	return ds
}

// Checker implements cli.ConfigChecker with Run.
type Checker struct {
	Machine config.Machine // nil: this machine
}

// CheckConfig runs the check and writes it: text (the effective
// configuration on stdout; warnings, errors and "configuration OK" on
// stderr; at debug level 1 or more the firewall openings) or one JSON
// document on stdout. It returns 0, or ExitConfig for errors.
func (c Checker) CheckConfig(req cli.CheckRequest, stdout, stderr io.Writer) int {
	r := Run(req, c.Machine)
	var err error
	if req.JSON {
		err = r.WriteJSON(stdout)
	} else {
		debug := req.Debug
		if r.Config != nil {
			debug = max(debug, r.Config.Debug)
		}
		r.WriteText(stdout, stderr, debug)
	}
	if err != nil {
		fmt.Fprintf(stderr, "check: write output: %v\n", err)
		return 1
	}
	if r.Err != nil {
		return ExitConfig
	}
	return 0
}

// WriteText writes the report as `heartbeat -t` does: each warning on
// stderr ("warning: file:line: ..."), then the errors on stderr, or the
// effective configuration and the resource groups on stdout (and with
// debug >= 1 the firewall openings, as comments) and "configuration OK"
// on stderr.
func (r *Report) WriteText(stdout, stderr io.Writer, debug int) {
	for _, w := range r.Warnings {
		fmt.Fprintln(stderr, "warning:", w.Error())
	}
	if r.Err != nil {
		fmt.Fprintln(stderr, r.Err)
		return
	}
	fmt.Fprint(stdout, r.Config.Effective())
	fmt.Fprintf(stdout, "# haresources: %d group(s)\n", len(r.Groups))
	for _, g := range r.Groups {
		fmt.Fprintf(stdout, "#   %s\n", g)
	}
	for _, l := range r.Monitoring {
		fmt.Fprintf(stdout, "# %s\n", l)
	}
	if debug >= 1 {
		fmt.Fprint(stdout, FirewallText(r.Firewall))
	}
	fmt.Fprintln(stderr, "configuration OK")
}

// FirewallText renders the openings as ha.cf comments, one a line with the
// directive and line they come from.
func FirewallText(os []config.Opening) string {
	if len(os) == 0 {
		return "# firewall: nothing to open (no UDP medium, no ping node)\n"
	}
	width := 0
	for _, o := range os {
		width = max(width, len(o.String()))
	}
	s := "# firewall: let through (see \"Firewall\" in docs/operations.md):\n"
	for _, o := range os {
		s += fmt.Sprintf("#   %-*s  (%s, %s)\n", width, o.String(), o.Medium, o.Pos)
	}
	return s
}

// The JSON document of hactl check --json. Field names are stable.
type jsonReport struct {
	OK         bool             `json:"ok"`
	Source     string           `json:"source,omitempty"`
	Node       string           `json:"node,omitempty"`
	Effective  []config.Setting `json:"effective,omitempty"`
	Keys       *jsonKeys        `json:"keys,omitempty"`
	Groups     []string         `json:"groups"`
	Monitoring []string         `json:"monitoring"`
	Firewall   []jsonOpening    `json:"firewall"`
	Warnings   []jsonDiag       `json:"warnings"`
	Errors     []jsonDiag       `json:"errors"`
}

type jsonDiag struct {
	File    string `json:"file,omitempty"`
	Line    int    `json:"line,omitempty"`
	Message string `json:"message"`
}

type jsonKeys struct {
	Current int       `json:"current"`
	Keys    []jsonKey `json:"keys"`
}

type jsonKey struct {
	Index  int    `json:"index"`
	Method string `json:"method"`
}

type jsonOpening struct {
	Text   string `json:"text"`
	Proto  string `json:"proto"`
	Iface  string `json:"iface,omitempty"`
	Port   int    `json:"port,omitempty"`
	From   string `json:"from,omitempty"`
	Group  string `json:"group,omitempty"`
	Host   string `json:"host,omitempty"`
	Medium string `json:"medium"`
	File   string `json:"file,omitempty"`
	Line   int    `json:"line,omitempty"`
}

func jsonDiags(ds []diag.Diag) []jsonDiag {
	out := make([]jsonDiag, 0, len(ds))
	for _, d := range ds {
		out = append(out, jsonDiag{File: d.File, Line: d.Line, Message: d.Msg})
	}
	return out
}

// WriteJSON writes the report as one indented JSON document: ok, the
// effective settings, key indices and methods (never key material),
// resource groups, firewall openings, and warnings and errors with file
// and line.
func (r *Report) WriteJSON(w io.Writer) error {
	j := jsonReport{OK: r.Err == nil, Groups: []string{}, Monitoring: append([]string{}, r.Monitoring...), Firewall: []jsonOpening{},
		Warnings: jsonDiags(r.Warnings), Errors: jsonDiags(r.Errors)}
	if c := r.Config; c != nil {
		j.Source, j.Node, j.Effective = c.Source, c.LocalNode, c.Settings()
		if c.Keys != nil {
			j.Keys = &jsonKeys{Current: c.Keys.Current, Keys: []jsonKey{}}
			for i, k := range c.Keys.Keys {
				j.Keys.Keys = append(j.Keys.Keys, jsonKey{Index: i, Method: k.Method.String()})
			}
			slices.SortFunc(j.Keys.Keys, func(a, b jsonKey) int { return cmp.Compare(a.Index, b.Index) })
		}
	}
	for _, g := range r.Groups {
		j.Groups = append(j.Groups, g.String())
	}
	for _, o := range r.Firewall {
		j.Firewall = append(j.Firewall, jsonOpening{Text: o.String(), Proto: o.Proto, Iface: o.Iface, Port: o.Port,
			From: o.From, Group: o.Group, Host: o.Host, Medium: o.Medium, File: o.File, Line: o.Line})
	}
	b, err := json.MarshalIndent(j, "", "  ")
	if err != nil {
		return err
	}
	_, err = w.Write(append(b, '\n'))
	return err
}
