package config

import (
	"fmt"
	"sort"
	"strconv"
)

// builder accumulates one configuration from either syntax. ha.cf lines and
// TOML keys are both turned into directive applications, so the two forms
// share every rule and every message.
type builder struct {
	c    *Config
	file string
	errs []Diag
	seen map[string]Pos // first application of each single-valued directive
	// niceFailback mirrors Heartbeat's nice_failback flag, which an
	// auto_failback on/off sets; the obsolete nice_failback directive
	// depends on it (set_nice_failback).
	niceFailback bool
}

func newBuilder(file string) *builder {
	return &builder{c: newConfig(), file: file, seen: map[string]Pos{}}
}

func (b *builder) errorf(pos Pos, format string, a ...any) {
	b.errs = append(b.errs, Diag{Pos: pos, Msg: fmt.Sprintf(format, a...)})
}

func (b *builder) warnf(pos Pos, format string, a ...any) {
	b.c.Warnings = append(b.c.Warnings, Diag{Pos: pos, Msg: fmt.Sprintf(format, a...)})
}

// filePos is the position for findings about the file as a whole.
func (b *builder) filePos() Pos { return Pos{File: b.file} }

// where names a position in a message: "line N" within the file being
// built, "file:N" elsewhere.
func (b *builder) where(p Pos) string {
	if p.File == b.file && p.Line > 0 {
		return "line " + strconv.Itoa(p.Line)
	}
	return p.String()
}

// posOf is where a directive was set, or the whole file when it was not.
func (b *builder) posOf(name string) Pos {
	if p, ok := b.c.Set[name]; ok {
		return p
	}
	return b.filePos()
}

// option applies a directive to each of its values, as Heartbeat's
// add_option does for option directives, or to the rest of the line for
// whole-line directives (then values holds exactly that one string).
func (b *builder) option(name string, pos Pos, values []string) {
	canon := name
	if a, ok := aliases[name]; ok {
		canon = a.canonical
		if a.warning != "" {
			b.warnf(pos, "%s", a.warning)
		}
	}
	d, ok := directives[canon]
	if !ok {
		b.errorf(pos, "unknown directive %q%s", name, suggest(name))
		return
	}
	if d.reject != "" {
		b.errorf(pos, "%s: %s", name, d.reject)
		return
	}
	if len(values) == 0 || d.wholeLine && values[0] == "" {
		b.errorf(pos, "%s needs a value", name)
		return
	}
	lineErrs := len(b.errs)
	for _, v := range values {
		if !d.wholeLine && !b.checkRepeat(canon, d, pos, v) {
			continue
		}
		before := len(b.errs)
		d.apply(b, pos, name, v)
		if len(b.errs) > before {
			continue
		}
		b.c.Set[canon] = pos
		if d.record {
			b.c.params[canon] = v
		}
	}
	if d.noEffect != "" && len(b.errs) == lineErrs {
		b.warnf(pos, "%s has no effect in this suite: %s", name, d.noEffect)
	}
}

// checkRepeat reports a directive given more than once: an error for those
// Heartbeat accepts only once, a warning for other single-valued ones
// (Heartbeat silently keeps the last value). It returns false when the
// value must not be applied.
func (b *builder) checkRepeat(name string, d directive, pos Pos, v string) bool {
	if d.repeats {
		return true
	}
	first, dup := b.seen[name]
	if !dup {
		b.seen[name] = pos
		return true
	}
	if d.once {
		b.errorf(pos, "%s may be given only once (first at %s)", name, b.where(first))
		return false
	}
	b.warnf(pos, "%s given more than once (first at %s); the last value, %s, is used", name, first, v)
	return true
}

// sortDiags orders findings by file (in order of first appearance) and
// line, keeping discovery order otherwise.
func sortDiags(ds []Diag) {
	order := map[string]int{}
	for _, d := range ds {
		if _, ok := order[d.File]; !ok {
			order[d.File] = len(order)
		}
	}
	sort.SliceStable(ds, func(i, j int) bool {
		if ds[i].File != ds[j].File {
			return order[ds[i].File] < order[ds[j].File]
		}
		return ds[i].Line < ds[j].Line
	})
}
