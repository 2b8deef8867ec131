// Package tomlpos maps the key paths of a TOML document to the lines that
// define them, so that errors found after decoding can name a line.
// BurntSushi/toml keeps key positions private, hence this small scanner,
// shared by ha.toml (heartbeat/config) and haresources.toml
// (resources/haresources).
//
// The scanner understands table and array-of-tables headers, key/value
// lines, dotted and quoted keys, one-line and multi-line strings, and
// values that span lines (arrays, inline tables). It records the line of
// every key, every table, and every element of an array value. It is
// meant for documents the decoder accepted; on anything else it still
// returns, but may record less. Anything it misses falls back to the
// nearest enclosing path, then to no line (0).
//
// Paths join keys with "." and index arrays of tables and array elements
// from 0, as the decoder does: "media[1].dev", "auth.keys[0]",
// "group[1].resources[2]".
//
// The package also holds what both TOML files share beyond lines
// (diag.go): the decoder's errors as findings with their line
// (DecodeError), the names of TOML types in messages (TypeName), and the
// known keys of a schema for "did you mean" hints (SchemaOf, Suggest).
package tomlpos

import (
	"strconv"
	"strings"
)

// Lines holds the line of each key path found by Scan.
type Lines struct {
	exact map[string]int
	plain map[string]int // the same paths without indices, first occurrence
}

// Scan scans src and returns the lines of its key paths. It never fails.
func Scan(src string) *Lines {
	s := &scanner{
		l:      &Lines{exact: map[string]int{}, plain: map[string]int{}},
		latest: map[string]int{},
	}
	for i, line := range strings.Split(src, "\n") {
		s.line(line, i+1)
	}
	return s.l
}

// Line returns the line of path ("media[1].dev"), or of its nearest
// enclosing path ("media[1]", then "media"), or 0.
func (l *Lines) Line(path string) int { return lookup(l.exact, path, ".[") }

// PlainLine is Line for a path without indices, such as a toml.Key from
// MetaData.Undecoded joined with ".": the first line that defines the
// path in any element, or the line of its nearest enclosing path, or 0.
func (l *Lines) PlainLine(path string) int { return lookup(l.plain, path, ".") }

// lookup finds path in m, cutting it at the last of seps until it is found.
func lookup(m map[string]int, path, seps string) int {
	for path != "" {
		if n, ok := m[path]; ok {
			return n
		}
		i := strings.LastIndexAny(path, seps)
		if i < 0 {
			break
		}
		path = path[:i]
	}
	return 0
}

// scanner is the state carried between lines.
type scanner struct {
	l          *Lines
	table      string         // indexed path of the current table
	tablePlain string         // the same without indices
	latest     map[string]int // current index of each array of tables, by indexed path
	str        string         // delimiter of an open string: " ' """ '''
	depth      int            // open brackets and braces of the current value
	array      bool           // the current value is an array
	expect     bool           // an element of that array may start here
	path       string         // indexed path of the current value's key
	plain      string         // the same without indices
	elem       int            // next element index of the current array
}

func (s *scanner) record(path, plain string, n int) {
	if _, ok := s.l.exact[path]; !ok {
		s.l.exact[path] = n
	}
	if _, ok := s.l.plain[plain]; !ok {
		s.l.plain[plain] = n
	}
}

func (s *scanner) line(line string, n int) {
	if s.str != "" || s.depth > 0 {
		s.value(line, n)
		return
	}
	t := strings.TrimLeft(line, " \t")
	switch {
	case t == "" || t[0] == '#':
	case strings.HasPrefix(t, "[["):
		s.header(t[2:], true, n)
	case t[0] == '[':
		s.header(t[1:], false, n)
	default:
		parts, rest, ok := keyParts(t)
		if !ok || !strings.HasPrefix(rest, "=") {
			return
		}
		key := strings.Join(parts, ".")
		s.path, s.plain = joinPath(s.table, key), joinPath(s.tablePlain, key)
		s.record(s.path, s.plain, n)
		s.array, s.expect, s.elem = false, false, 0
		s.value(rest[1:], n)
	}
}

// header handles "[a.b]" (array false) or "[[a.b]]" after the opening
// brackets. Each part that names an array of tables takes the index of
// its latest element; the last part of "[[a.b]]" starts a new one.
func (s *scanner) header(t string, array bool, n int) {
	parts, _, ok := keyParts(t)
	if !ok {
		return
	}
	path, plain := "", ""
	for i, p := range parts {
		path, plain = joinPath(path, p), joinPath(plain, p)
		idx, seen := s.latest[path]
		if i == len(parts)-1 && array {
			if seen {
				idx++
			}
			s.latest[path] = idx
			seen = true
		}
		if seen {
			path += "[" + strconv.Itoa(idx) + "]"
		}
	}
	s.table, s.tablePlain = path, plain
	s.record(path, plain, n)
}

// value scans (part of) a value, tracking strings and brackets so that a
// value spanning lines is skipped, and recording the line where each
// element of an array value starts.
func (s *scanner) value(text string, n int) {
	for i := 0; i < len(text); i++ {
		if s.str != "" {
			end := closeString(text[i:], s.str)
			if end < 0 {
				if len(s.str) == 1 { // unterminated one-line string: give up on it
					s.str = ""
				}
				return
			}
			i += end - 1
			s.str = ""
			continue
		}
		switch c := text[i]; c {
		case '#':
			return
		case ' ', '\t', '\r':
		case '"', '\'':
			s.element(n)
			s.str = string(c)
			if strings.HasPrefix(text[i:], strings.Repeat(s.str, 3)) {
				s.str = strings.Repeat(s.str, 3)
				i += 2
			}
		case '[', '{':
			s.element(n)
			if s.depth == 0 {
				s.array = c == '['
				s.expect = s.array
			}
			s.depth++
		case ']', '}':
			if s.depth > 0 {
				s.depth--
			}
		case ',':
			if s.depth == 1 {
				s.expect = true
			}
		default:
			s.element(n)
		}
	}
}

// element records the start of an element of the current array value.
func (s *scanner) element(n int) {
	if s.depth == 1 && s.array && s.expect {
		s.record(s.path+"["+strconv.Itoa(s.elem)+"]", s.plain, n)
		s.elem++
		s.expect = false
	}
}

// closeString returns the index just after the end of an open string
// delimited by delim in text, or -1 when it does not end in text.
// Escapes are skipped in basic strings.
func closeString(text, delim string) int {
	for i := 0; i < len(text); i++ {
		if text[i] == '\\' && delim[0] == '"' {
			i++
			continue
		}
		if strings.HasPrefix(text[i:], delim) {
			end := i + len(delim)
			// A multi-line string may end in up to two more quotes.
			for k := 0; len(delim) == 3 && k < 2 && end < len(text) && text[end] == delim[0]; k++ {
				end++
			}
			return end
		}
	}
	return -1
}

// keyParts reads a dotted key of bare and quoted parts from the start of
// t; rest is what follows it, blanks trimmed. Basic-string parts are
// unescaped.
func keyParts(t string) (parts []string, rest string, ok bool) {
	for {
		t = strings.TrimLeft(t, " \t")
		if t == "" {
			return nil, "", false
		}
		switch t[0] {
		case '"', '\'':
			end := closeString(t[1:], t[:1])
			if end < 0 {
				return nil, "", false
			}
			p := t[1:end]
			if t[0] == '"' {
				if u, err := strconv.Unquote(t[:end+1]); err == nil {
					p = u
				}
			}
			parts = append(parts, p)
			t = t[end+1:]
		default:
			end := 0
			for end < len(t) && isBare(t[end]) {
				end++
			}
			if end == 0 {
				return nil, "", false
			}
			parts = append(parts, t[:end])
			t = t[end:]
		}
		t = strings.TrimLeft(t, " \t")
		if !strings.HasPrefix(t, ".") {
			return parts, t, true
		}
		t = t[1:]
	}
}

// isBare reports whether c may appear in a bare key.
func isBare(c byte) bool {
	return c == '_' || c == '-' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9'
}

func joinPath(a, b string) string {
	if a == "" {
		return b
	}
	return a + "." + b
}
