// Package diag holds what the configuration parsers share to report a
// finding at its place: a position (file and line), a finding (Diag), a
// list of them that is one error (List), and the suggestion of the nearest
// known name for a misspelt one (Suggest). heartbeat/config (ha.cf,
// ha.toml, authkeys) and resources/haresources (haresources,
// haresources.toml) both use it, so their messages read alike.
package diag

import (
	"errors"
	"strconv"
	"strings"
)

// Pos is a place in a file. Line 0 means the file as a whole.
type Pos struct {
	File string
	Line int
}

// String returns "file:line", or "file" for line 0.
func (p Pos) String() string {
	if p.Line <= 0 {
		return p.File
	}
	return p.File + ":" + strconv.Itoa(p.Line)
}

// Diag is one finding (an error or a warning), tied to where it was found.
type Diag struct {
	Pos
	Msg string
}

// At returns a finding at pos.
func At(pos Pos, msg string) Diag { return Diag{Pos: pos, Msg: msg} }

// Error returns "file:line: msg", "file: msg" for whole-file findings, or
// just msg when there is no position at all.
func (d Diag) Error() string {
	if p := d.Pos.String(); p != "" {
		return p + ": " + d.Msg
	}
	return d.Msg
}

// List is every error found, one per line; it is itself an error.
type List []Diag

func (l List) Error() string {
	s := make([]string, len(l))
	for i, d := range l {
		s[i] = d.Error()
	}
	return strings.Join(s, "\n")
}

// Unwrap lets errors.As find the individual Diags.
func (l List) Unwrap() []error {
	errs := make([]error, len(l))
	for i, d := range l {
		errs[i] = d
	}
	return errs
}

// Flatten returns the Diags held in err, in order, found through wrapping
// (fmt.Errorf with %w), Lists and errors.Join; text wrapped around them
// and errors beside them that hold no Diag are left out, as each Diag says
// itself what is wrong. An err that holds no Diag at all becomes one Diag
// without a position, with its whole text. nil gives nil.
func Flatten(err error) []Diag {
	if err == nil {
		return nil
	}
	var out []Diag
	var walk func(error)
	walk = func(err error) {
		switch e := err.(type) {
		case Diag:
			out = append(out, e)
		case *Diag:
			if e != nil {
				out = append(out, *e)
			}
		case interface{ Unwrap() []error }:
			for _, x := range e.Unwrap() {
				if x != nil {
					walk(x)
				}
			}
		default:
			if inner := errors.Unwrap(err); inner != nil {
				walk(inner)
			}
		}
	}
	walk(err)
	if len(out) == 0 {
		return []Diag{{Msg: err.Error()}}
	}
	return out
}
