package config

import (
	"errors"
	"fmt"
	"net/netip"
	"slices"
	"strconv"
	"strings"

	"github.com/BurntSushi/toml"

	"github.com/hasuite/hasuite/internal/diag"
	"github.com/hasuite/hasuite/internal/tomlpos"
)

// valueKind says which TOML types a setting takes and how they read as
// the ha.cf word they stand for.
type valueKind int

const (
	kindString valueKind = iota // a string
	kindInt                     // an integer
	kindTime                    // a time string, or a number of seconds
	kindMillis                  // a time string with unit, or an integer of milliseconds
	kindOnOff                   // a string, or a boolean meaning on/off
	kindFlag                    // a boolean, or the integer 0 or 1
)

// tomlApply maps decoded TOML onto directive applications.
type tomlApply struct {
	b     *builder
	lines *tomlpos.Lines
}

func (t *tomlApply) pos(path string) Pos { return Pos{File: t.b.file, Line: t.lines.Line(path)} }

// tomlKeys is the schema of ha.toml, for suggestions.
var tomlKeys = tomlpos.SchemaOf(tomlDoc{})

// mediaKinds are the values of a [[media]] table's kind.
var mediaKinds = []string{"bcast", "mcast", "mcast6", "serial", "ucast", "ucast6"}

func (t *tomlApply) unknownKey(k toml.Key) {
	path := k.String()
	pos := Pos{File: t.b.file, Line: t.lines.PlainLine(path)}
	name := k[len(k)-1]
	if len(k) == 1 {
		if name == "node" {
			t.b.errorf(pos, "unknown key node (the list of nodes is \"nodes\")")
			return
		}
		if slices.Contains(mediaKinds, name) {
			t.b.errorf(pos, "unknown key %s: media are [[media]] tables, here with kind = %q", name, name)
			return
		}
		if d, ok := directives[name]; ok {
			switch {
			case d.reject != "":
				t.b.errorf(pos, "%s: %s", name, d.reject)
			case d.noEffect != "":
				t.b.errorf(pos, "unknown key %s: ha.toml takes only settings this suite implements (%s has no effect here: %s)", name, name, d.noEffect)
			default:
				t.b.errorf(pos, "unknown key %s", name)
			}
			return
		}
	}
	t.b.errorf(pos, "unknown key %s%s", path, suggestKey(k))
}

// suggestKey returns a hint for a misspelt ha.toml key: the nearest key of
// the same table ("keeplive": keepalive), or for a top-level name near a
// medium ("ucats") the [[media]] table it belongs in; else "".
func suggestKey(k toml.Key) string {
	if s := tomlKeys.Suggest(k); s != "" {
		return " (did you mean " + s + "?)"
	}
	if len(k) == 1 {
		if m := diag.Suggest(k[0], mediaKinds); m != "" {
			return fmt.Sprintf(" (did you mean a [[media]] table with kind = %q?)", m)
		}
	}
	return ""
}

// word reads v as the ha.cf word it stands for. It reports an error and
// returns ok=false for a wrong type or a value that is not one word.
func (t *tomlApply) word(path string, v tomlValue, kind valueKind) (string, bool) {
	var s string
	switch x := v.v.(type) {
	case string:
		if kind == kindInt {
			break
		}
		s = x
	case int64:
		if kind == kindString || kind == kindOnOff {
			break
		}
		s = strconv.FormatInt(x, 10)
		if kind == kindFlag && x != 0 && x != 1 {
			s = ""
		}
	case float64:
		if kind != kindTime {
			break
		}
		s = strconv.FormatFloat(x, 'f', -1, 64)
	case bool:
		switch kind {
		case kindOnOff:
			s = map[bool]string{true: "on", false: "off"}[x]
		case kindFlag:
			s = map[bool]string{true: "1", false: "0"}[x]
		}
	}
	if s == "" {
		t.b.errorf(t.pos(path), "%s: want %s, got %s", path, kindWant[kind], tomlpos.TypeName(v.v))
		return "", false
	}
	if err := checkWord(path, s); err != nil {
		t.b.errorf(t.pos(path), "%v", err)
		return "", false
	}
	return s, true
}

var kindWant = map[valueKind]string{
	kindString: "a string",
	kindInt:    "an integer",
	kindTime:   "a time such as \"500ms\" or a number of seconds",
	kindMillis: "a time such as \"250ms\" or an integer of milliseconds",
	kindOnOff:  "\"on\", \"off\", \"legacy\" or a boolean",
	kindFlag:   "a boolean (or 0 or 1)",
}

func (t *tomlApply) options(d *tomlDoc) {
	opts := []struct {
		name string
		v    tomlValue
		kind valueKind
	}{
		{"keepalive", d.Keepalive, kindTime},
		{"deadtime", d.Deadtime, kindTime},
		{"warntime", d.Warntime, kindTime},
		{"initdead", d.Initdead, kindTime},
		{"deadping", d.Deadping, kindTime},
		{"ping_interval", d.PingInterval, kindTime},
		{"udpport", d.UDPPort, kindInt},
		{"baud", d.Baud, kindInt},
		{"auto_failback", d.AutoFailback, kindOnOff},
		{"hopfudge", d.Hopfudge, kindInt},
		{"msgfmt", d.MsgFmt, kindString},
		{"max_rexmit_delay", d.MaxRexmitDelay, kindMillis},
		{"hbgenmethod", d.GenMethod, kindString},
		{"uuidfrom", d.UUIDFrom, kindString},
		{"logfile", d.LogFile, kindString},
		{"debugfile", d.DebugFile, kindString},
		{"logfacility", d.LogFacility, kindString},
		{"debug", d.Debug, kindInt},
		{"realtime", d.Realtime, kindOnOff},
		{"rtscts", d.RTSCTS, kindOnOff},
		{"stonith_fallback", d.StonithFB, kindString},
		{"fence_delay", d.FenceDelay, kindTime},
		{"monitor_interval", d.MonInterval, kindTime},
		{"stonith_plugin_dir", d.PluginDir, kindString},
		{"rtprio", d.RTPrio, kindInt},
		{"watchdog", d.Watchdog, kindString},
		{"metrics_listen", d.MetricsListen, kindString},
		{"metrics_required", d.MetricsReq, kindOnOff},
	}
	for _, o := range opts {
		if !o.v.set {
			continue
		}
		if w, ok := t.word(o.name, o.v, o.kind); ok {
			t.b.option(o.name, t.pos(o.name), []string{w})
		}
	}
	if d.Nodes.set {
		t.nodes(d.Nodes)
	}
}

func (t *tomlApply) nodes(v tomlValue) {
	list, ok := v.v.([]any)
	if !ok {
		t.b.errorf(t.pos("nodes"), "nodes: want an array of node names, got %s", tomlpos.TypeName(v.v))
		return
	}
	var names []string
	for i, x := range list {
		path := fmt.Sprintf("nodes[%d]", i)
		if w, ok := t.word(path, tomlValue{x, true}, kindString); ok {
			names = append(names, w)
		}
	}
	if len(names) > 0 {
		t.b.option("node", t.pos("nodes"), names)
	}
}

// wordList reads an array of one-word strings.
func (t *tomlApply) wordList(path string, v tomlValue) ([]string, bool) {
	list, ok := v.v.([]any)
	if !ok || len(list) == 0 {
		t.b.errorf(t.pos(path), "%s: want a non-empty array of strings, got %s", path, tomlpos.TypeName(v.v))
		return nil, false
	}
	out := make([]string, 0, len(list))
	for i, x := range list {
		w, ok := t.word(fmt.Sprintf("%s[%d]", path, i), tomlValue{x, true}, kindString)
		if !ok {
			return nil, false
		}
		out = append(out, w)
	}
	return out, true
}

// medium maps one [[media]] table onto the equivalent ha.cf line.
func (t *tomlApply) medium(i int, m tomlMedium) {
	base := fmt.Sprintf("media[%d]", i)
	pos := t.pos(base)
	if !m.Kind.set {
		t.b.errorf(pos, "%s: missing kind (ucast, ucast6, bcast, mcast, mcast6 or serial)", base)
		return
	}
	kind, ok := t.word(base+".kind", m.Kind, kindString)
	if !ok {
		return
	}
	want, known := mediumArgs[kind]
	if !known {
		hint := ""
		if m := diag.Suggest(kind, mediaKinds); m != "" {
			hint = fmt.Sprintf("; did you mean %q?", m)
		}
		t.b.errorf(pos, "%s: unknown kind %q (want ucast, ucast6, bcast, mcast, mcast6 or serial%s)", base, kind, hint)
		return
	}
	fields := []struct {
		name string
		v    tomlValue
		kind valueKind
	}{
		{"dev", m.Dev, kindString}, {"peer", m.Peer, kindString}, {"group", m.Group, kindString},
		{"port", m.Port, kindInt}, {"ttl", m.TTL, kindInt}, {"loop", m.Loop, kindFlag},
	}
	// The TOML field for each ha.cf argument, in argument order.
	argField := map[string]string{"device": "dev", "tty": "dev", "peer": "peer", "group": "group", "port": "port", "ttl": "ttl", "hops": "ttl", "loop": "loop"}
	wanted := map[string]bool{}
	for _, a := range want {
		wanted[argField[a]] = true
	}
	vals := map[string]string{}
	good := true
	for _, f := range fields {
		switch {
		case f.v.set && !wanted[f.name]:
			t.b.errorf(t.pos(base+"."+f.name), "%s: %s does not apply to %s", base, f.name, kind)
			good = false
		case !f.v.set && wanted[f.name]:
			t.b.errorf(pos, "%s: %s needs %s", base, kind, f.name)
			good = false
		case f.v.set:
			w, ok := t.word(base+"."+f.name, f.v, f.kind)
			good = good && ok
			vals[f.name] = w
		}
	}
	if !good {
		return
	}
	args := make([]string, len(want))
	for j, a := range want {
		args[j] = vals[argField[a]]
	}
	t.b.option(kind, pos, []string{strings.Join(args, " ")})
}

// ping maps one [[ping]] table: hosts alone are one ping node each (ping6
// for IPv6 addresses); with group they form one ping_group.
func (t *tomlApply) ping(i int, p tomlPing) {
	base := fmt.Sprintf("ping[%d]", i)
	pos := t.pos(base)
	if !p.Hosts.set {
		t.b.errorf(pos, "%s: missing hosts", base)
		return
	}
	hosts, ok := t.wordList(base+".hosts", p.Hosts)
	if !ok {
		return
	}
	if p.Group.set {
		if g, ok := t.word(base+".group", p.Group, kindString); ok {
			t.b.option("ping_group", pos, []string{g + " " + strings.Join(hosts, " ")})
		}
		return
	}
	for _, h := range hosts {
		name := "ping"
		if a, err := netip.ParseAddr(h); err == nil && a.Is6() && !a.Is4In6() {
			name = "ping6"
		}
		t.b.option(name, pos, []string{h})
	}
}

// stonith maps one [[stonith]] table: type and file make a stonith line,
// host, type and params a stonith_host line.
func (t *tomlApply) stonith(i int, s tomlStonith) {
	base := fmt.Sprintf("stonith[%d]", i)
	pos := t.pos(base)
	str := func(name string, v tomlValue) string {
		if !v.set {
			return ""
		}
		x, ok := v.v.(string)
		if !ok || strings.ContainsFunc(x, func(r rune) bool { return r < 0x20 && r != '\t' || r == 0x7f }) {
			t.b.errorf(t.pos(base+"."+name), "%s.%s: want a one-line string, got %s", base, name, tomlpos.TypeName(v.v))
			return ""
		}
		// ha.cf cannot hold a '#' in a file name; params are never
		// printed back, so they may (passwords do).
		if name == "file" && strings.Contains(x, "#") {
			t.b.errorf(t.pos(base+"."+name), "%s.file: a parameter file name cannot contain '#'", base)
			return ""
		}
		return strings.Trim(x, hbWhitespace)
	}
	host, typ, file, params := str("host", s.Host), str("type", s.Type), str("file", s.File), str("params", s.Params)
	switch {
	case s.File.set && (s.Host.set || s.Params.set):
		t.b.errorf(pos, "%s: give either file (a stonith line) or host and params (a stonith_host line), not both", base)
	case s.File.set:
		if typ == "" {
			t.b.errorf(pos, "%s: missing type", base)
			return
		}
		t.b.option("stonith", pos, []string{typ + " " + file})
	default:
		t.b.addStonithHost(pos, "stonith_host", host, typ, params)
		t.b.c.Set["stonith_host"] = pos
	}
}

// respawn maps one [[respawn]] table (user, argv, failfast) onto a
// respawn or failfast line.
func (t *tomlApply) respawn(i int, r tomlRespawn) {
	base := fmt.Sprintf("respawn[%d]", i)
	pos := t.pos(base)
	if !r.User.set || !r.Argv.set {
		t.b.errorf(pos, "%s: want user and argv", base)
		return
	}
	user, ok := t.word(base+".user", r.User, kindString)
	if !ok {
		return
	}
	argv, ok := t.wordList(base+".argv", r.Argv)
	if !ok {
		return
	}
	name := "respawn"
	if r.FailFast.set {
		ff, ok := r.FailFast.v.(bool)
		if !ok {
			t.b.errorf(t.pos(base+".failfast"), "%s.failfast: want a boolean, got %s", base, tomlpos.TypeName(r.FailFast.v))
			return
		}
		if ff {
			name = "failfast"
		}
	}
	t.b.option(name, pos, []string{user + " " + strings.Join(argv, " ")})
}

// auth maps [auth] onto the same checks as the authkeys file.
func (t *tomlApply) auth(a *tomlAuth) {
	ks := keySpec{file: t.b.file}
	var errs []Diag
	if a.Current.set {
		if w, ok := t.word("auth.current", a.Current, kindInt); ok {
			errs = ks.addAuthLine(t.pos("auth.current"), []string{"auth", w}, errs)
		}
	}
	ks.keyLines = len(a.Keys)
	for i, k := range a.Keys {
		base := fmt.Sprintf("auth.keys[%d]", i)
		pos := t.pos(base)
		idxWord, ok1 := t.word(base+".index", k.Index, kindInt)
		method, ok2 := t.word(base+".method", k.Method, kindString)
		if !ok1 || !ok2 {
			continue
		}
		idx, err := parseInt(idxWord, 0, 15)
		if err != nil {
			errs = append(errs, Diag{Pos: pos, Msg: fmt.Sprintf("%s.index: %v", base, err)})
			continue
		}
		secret := ""
		if k.Secret.set {
			s, ok := k.Secret.v.(string)
			if !ok {
				errs = append(errs, Diag{Pos: pos, Msg: fmt.Sprintf("%s.secret: want a string, got %s", base, tomlpos.TypeName(k.Secret.v))})
				continue
			}
			secret = s
		}
		errs = ks.addKey(pos, idx, method, secret, errs)
	}
	kr, warnings, err := ks.keyring(errs)
	if err != nil {
		var el ErrorList
		errors.As(err, &el)
		t.b.errs = append(t.b.errs, el...)
		return
	}
	t.b.c.Keys = kr
	t.b.c.Warnings = append(t.b.c.Warnings, warnings...)
}
