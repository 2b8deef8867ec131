package haresources

import (
	"fmt"
	"io"
	"math"
	"strconv"
	"strings"
	"time"

	"github.com/BurntSushi/toml"

	"github.com/hasuite/hasuite/internal/tomlpos"
)

// maxTimeout bounds every configured timeout.
const maxTimeout = 24 * time.Hour

// tomlValue holds one raw TOML value; types are checked after decoding so
// that every mistake is reported with its line.
type tomlValue struct {
	v   any
	set bool
}

// UnmarshalTOML implements toml.Unmarshaler.
func (t *tomlValue) UnmarshalTOML(v any) error {
	t.v, t.set = v, true
	return nil
}

// tomlDoc is the schema of haresources.toml (see the package documentation).
type tomlDoc struct {
	Group []tomlGroup `toml:"group"`
}

type tomlGroup struct {
	Node      tomlValue    `toml:"node"`
	Resources tomlValue    `toml:"resources"`
	Timeout   tomlValue    `toml:"timeout"`
	Restarts  tomlValue    `toml:"restarts"`
	Window    tomlValue    `toml:"restart_window"`
	Options   []tomlOption `toml:"resource_options"`
	Checks    []tomlCheck  `toml:"check"`
}

type tomlCheck struct {
	Name     tomlValue `toml:"name"`
	Command  tomlValue `toml:"command"`
	Interval tomlValue `toml:"interval"`
	Timeout  tomlValue `toml:"timeout"`
	Fall     tomlValue `toml:"fall"`
	Rise     tomlValue `toml:"rise"`
	Weight   tomlValue `toml:"weight"`
	User     tomlValue `toml:"user"`
}

type tomlOption struct {
	Resource     tomlValue `toml:"resource"`
	Timeout      tomlValue `toml:"timeout"`
	GARPCount    tomlValue `toml:"garp_count"`
	GARPInterval tomlValue `toml:"garp_interval"`
	GARPRefresh  tomlValue `toml:"garp_refresh"`
	MonInterval  tomlValue `toml:"monitor_interval"`
	MonTimeout   tomlValue `toml:"monitor_timeout"`
}

// tomlKeys is the schema of haresources.toml, for suggestions.
var tomlKeys = tomlpos.SchemaOf(tomlDoc{})

// ParseTOML reads the TOML form of haresources (haresources.toml): the same
// groups as Parse, plus per-resource options. file and nodes are as for
// Parse.
func ParseTOML(r io.Reader, file string, nodes []string) ([]Group, error) {
	if file == "" {
		file = "haresources.toml"
	}
	data, err := readAll(r, file)
	if err != nil {
		return nil, err
	}
	src := string(data)
	var doc tomlDoc
	md, err := toml.Decode(src, &doc)
	if err != nil {
		d := tomlpos.DecodeError(file, err)
		return nil, &d
	}
	loc := tomlpos.Scan(src)
	b := newBuilder(file, nodes)
	at := func(path string) Pos { return Pos{File: file, Line: loc.Line(path)} }
	for _, k := range md.Undecoded() {
		hint := ""
		if s := tomlKeys.Suggest(k); s != "" {
			hint = fmt.Sprintf(" (did you mean %q?)", s)
		}
		b.errorf(Pos{File: file, Line: loc.PlainLine(strings.Join(k, "."))}, "unknown key %q%s", k.String(), hint)
	}
	for i, g := range doc.Group {
		gp := fmt.Sprintf("group[%d]", i)
		b.tomlGroup(g, gp, at)
	}
	return b.result()
}

func (b *builder) tomlGroup(g tomlGroup, gp string, at func(string) Pos) {
	pos := at(gp)
	node, nodeOK := g.Node.v.(string)
	switch {
	case !g.Node.set:
		b.errorf(pos, "%s: node is missing", gp)
	case !nodeOK:
		b.errorf(at(gp+".node"), "%s.node: want a string, have %s", gp, tomlpos.TypeName(g.Node.v))
	}
	// raw holds every resource string, "" where the element is not one,
	// so that option indices match the array.
	var toks []token
	var raw []string
	list, isList := g.Resources.v.([]any)
	switch {
	case !g.Resources.set:
		b.errorf(pos, "%s: resources is missing", gp)
	case !isList || len(list) == 0:
		b.errorf(at(gp+".resources"), "%s.resources: want a non-empty array of resource strings", gp)
	}
	ok := nodeOK && isList && len(list) > 0
	for j, e := range list {
		p := fmt.Sprintf("%s.resources[%d]", gp, j)
		s, isStr := e.(string)
		raw = append(raw, s)
		if !isStr {
			b.errorf(at(p), "%s: want a string, have %s", p, tomlpos.TypeName(e))
			ok = false
			continue
		}
		toks = append(toks, token{text: s, pos: at(p)})
	}
	idx := -1
	if nodeOK && len(toks) > 0 {
		idx = b.addGroup(pos, token{text: node, pos: at(gp + ".node")}, toks)
	} else {
		b.n++
	}
	if !ok {
		idx = -1
	}

	timeouts := make([]time.Duration, len(raw))
	if g.Timeout.set {
		d, msg := parseTimeout(g.Timeout.v)
		if msg != "" {
			b.errorf(at(gp+".timeout"), "%s.timeout: %s", gp, msg)
		}
		for j := range timeouts {
			timeouts[j] = d
		}
	}
	named := map[int]string{}
	for k, o := range g.Options {
		op := fmt.Sprintf("%s.resource_options[%d]", gp, k)
		j := -1
		switch v := o.Resource.v.(type) {
		case nil:
			b.errorf(at(op), "%s: resource is missing (give the resource as written, or its index from 0)", op)
		case string:
			for jj, t := range raw {
				if t == v && t != "" {
					j = jj
					break
				}
			}
			if j < 0 {
				b.errorf(at(op+".resource"), "%s.resource: the group has no resource %q", op, v)
			}
		case int64:
			if v < 0 || v >= int64(len(raw)) {
				b.errorf(at(op+".resource"), "%s.resource: index %d is out of range (the group has %d resources, counted from 0)", op, v, len(raw))
			} else {
				j = int(v)
			}
		default:
			b.errorf(at(op+".resource"), "%s.resource: want a resource string or an index, have %s", op, tomlpos.TypeName(v))
		}
		if j >= 0 {
			if prev, dup := named[j]; dup {
				b.errorf(at(op), "%s: resource %d (%q) already has options in %s", op, j, raw[j], prev)
				j = -1
			} else {
				named[j] = op
			}
		}
		if o.Timeout.set {
			d, msg := parseTimeout(o.Timeout.v)
			if msg != "" {
				b.errorf(at(op+".timeout"), "%s.timeout: %s", op, msg)
			} else if j >= 0 {
				timeouts[j] = d
			}
		}
		if j >= 0 && idx >= 0 {
			b.announceOptions(o, op, at, &b.groups[idx].Resources[j])
			b.monitorOptions(o, op, at, &b.groups[idx].Resources[j])
		} else {
			b.monitorOptions(o, op, at, &Resource{})
		}
	}
	rec := b.recoveryOptions(g, gp, at)
	checks := b.checkOptions(g, gp, at)
	if idx >= 0 {
		b.groups[idx].Checks = checks
		for j := range b.groups[idx].Resources {
			b.groups[idx].Resources[j].Timeout = timeouts[j]
		}
		b.groups[idx].Recovery = rec
	}
}

// monitorOptions applies monitor_interval and monitor_timeout (every kind
// of resource has a status). Errors are reported even when the resource
// itself is bad, so that one run shows every mistake.
func (b *builder) monitorOptions(o tomlOption, op string, at func(string) Pos, r *Resource) {
	b.durationOptions(op, at, []durationOption{
		{"monitor_interval", o.MonInterval, &r.MonitorInterval, 100 * time.Millisecond},
		{"monitor_timeout", o.MonTimeout, &r.MonitorTimeout, 10 * time.Millisecond},
	})
}

// recoveryOptions reads the group keys restarts and restart_window; nil
// when neither is given (the defaults).
func (b *builder) recoveryOptions(g tomlGroup, gp string, at func(string) Pos) *Recovery {
	if !g.Restarts.set && !g.Window.set {
		return nil
	}
	rec := Recovery{Restarts: DefaultRestarts, Window: DefaultRestartWindow}
	if g.Restarts.set {
		n, ok := g.Restarts.v.(int64)
		if !ok || n < 0 || n > 1000 {
			b.errorf(at(gp+".restarts"), "%s.restarts: want an integer from 0 to 1000 (restarts in place before the group moves)", gp)
		} else {
			rec.Restarts = int(n)
		}
	}
	if g.Window.set {
		v, msg := parseTimeout(g.Window.v)
		switch {
		case msg != "":
			b.errorf(at(gp+".restart_window"), "%s.restart_window: %s", gp, strings.Replace(msg, "timeout ", "", 1))
		case v < time.Second:
			b.errorf(at(gp+".restart_window"), "%s.restart_window: at least 1s", gp)
		default:
			rec.Window = v
		}
	}
	return &rec
}

// parseTimeout parses a timeout: a Go duration string ("30s", "1m30s"), or
// a number of seconds (as a number or a string).
func parseTimeout(v any) (time.Duration, string) {
	var secs float64
	switch x := v.(type) {
	case string:
		if d, err := time.ParseDuration(x); err == nil {
			return checkTimeout(d, x)
		}
		f, err := strconv.ParseFloat(x, 64)
		if err != nil || strings.ContainsAny(x, "xXpPeEnN") {
			return 0, fmt.Sprintf("%q is not a duration (want e.g. \"30s\", \"1m30s\", \"500ms\" or a number of seconds)", x)
		}
		secs = f
	case int64:
		secs = float64(x)
	case float64:
		secs = x
	default:
		return 0, fmt.Sprintf("want a duration string or a number of seconds, have %s", tomlpos.TypeName(v))
	}
	if math.IsNaN(secs) || secs <= 0 || secs > maxTimeout.Seconds() {
		return 0, fmt.Sprintf("%v seconds is out of range (more than 0, at most %s)", secs, maxTimeout)
	}
	return checkTimeout(time.Duration(secs*float64(time.Second)), fmt.Sprint(v))
}

func checkTimeout(d time.Duration, s string) (time.Duration, string) {
	if d <= 0 || d > maxTimeout {
		return 0, fmt.Sprintf("timeout %s is out of range (more than 0, at most %s)", s, maxTimeout)
	}
	return d, ""
}

// announceOptions applies garp_count, garp_interval and garp_refresh,
// which only virtual IPs have.
func (b *builder) announceOptions(o tomlOption, op string, at func(string) Pos, r *Resource) {
	if !o.GARPCount.set && !o.GARPInterval.set && !o.GARPRefresh.set {
		return
	}
	if r.Kind != KindIP {
		b.errorf(at(op), "%s: garp_count, garp_interval and garp_refresh apply to virtual IPs only, not %q", op, r.Raw)
		return
	}
	if o.GARPCount.set {
		n, ok := o.GARPCount.v.(int64)
		if !ok || n < 1 || n > 100 {
			b.errorf(at(op+".garp_count"), "%s.garp_count: want an integer from 1 to 100", op)
		} else {
			r.Announce.Count = int(n)
		}
	}
	b.durationOptions(op, at, []durationOption{
		{"garp_interval", o.GARPInterval, &r.Announce.Interval, time.Millisecond},
		{"garp_refresh", o.GARPRefresh, &r.Announce.Refresh, 100 * time.Millisecond},
	})
}

// durationOption is one time-valued resource option with its lower bound.
type durationOption struct {
	name string
	v    tomlValue
	dst  *time.Duration
	min  time.Duration
}

// durationOptions parses each set option into its destination, or reports
// it with its line (a bad time, or one below its bound).
func (b *builder) durationOptions(op string, at func(string) Pos, opts []durationOption) {
	for _, d := range opts {
		if !d.v.set {
			continue
		}
		v, msg := parseTimeout(d.v.v)
		switch {
		case msg != "":
			b.errorf(at(op+"."+d.name), "%s.%s: %s", op, d.name, strings.Replace(msg, "timeout ", "", 1))
		case v < d.min:
			b.errorf(at(op+"."+d.name), "%s.%s: at least %s", op, d.name, d.min)
		default:
			*d.dst = v
		}
	}
}
