package config

import (
	"strconv"
	"strings"
)

// tomlLines maps TOML key paths to the line that defines them, so that
// errors found after decoding can name a line. BurntSushi/toml keeps key
// positions private, hence this small scanner. It understands headers,
// key/value lines, dotted and quoted keys, multi-line strings and arrays,
// and inline tables inside arrays; anything it misses falls back to the
// nearest enclosing key, or to the whole file.
//
// Paths index arrays of tables and inline-table array elements from 0:
// "media[1].dev", "auth.keys[0]".
type tomlLines struct {
	exact map[string]int
	plain map[string]int // the same paths without indices, first occurrence
}

// tomlScan is the scanner's state between lines.
type tomlScan struct {
	t      *tomlLines
	table  string         // indexed path of the current table
	arrIdx map[string]int // current index of each array of tables, by plain name
	multi  string         // closing delimiter of an open multi-line string
	depth  int            // open brackets and braces of a value spanning lines
	path   string         // key whose value spans lines
	elem   int            // index of the last inline table seen in that value
}

func locateTOML(src string) *tomlLines {
	s := &tomlScan{t: &tomlLines{exact: map[string]int{}, plain: map[string]int{}}, arrIdx: map[string]int{}}
	for i, line := range strings.Split(src, "\n") {
		s.line(line, i+1)
	}
	return s.t
}

func (s *tomlScan) line(line string, n int) {
	if s.multi != "" {
		end := strings.Index(line, s.multi)
		if end < 0 {
			return
		}
		line = line[end+len(s.multi):]
		s.multi = ""
		if s.depth > 0 {
			s.value(line, n)
		}
		return
	}
	if s.depth > 0 {
		s.value(line, n)
		return
	}
	t := strings.TrimSpace(line)
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
		s.path = joinPath(s.table, strings.Join(parts, "."))
		s.record(s.path, n)
		s.elem = -1
		s.value(rest[1:], n)
	}
}

func (s *tomlScan) header(t string, array bool, n int) {
	parts, _, ok := keyParts(t)
	if !ok {
		return
	}
	full := strings.Join(parts, ".")
	if array {
		if i, seen := s.arrIdx[full]; seen {
			s.arrIdx[full] = i + 1
		} else {
			s.arrIdx[full] = 0
		}
	}
	path := ""
	for i, p := range parts {
		path = joinPath(path, p)
		if idx, ok := s.arrIdx[strings.Join(parts[:i+1], ".")]; ok {
			path += "[" + strconv.Itoa(idx) + "]"
		}
	}
	s.table = path
	s.record(path, n)
}

// value scans (part of) a value, tracking brackets so that a value spanning
// lines is skipped, and recording the line of each inline table directly
// inside an array.
func (s *tomlScan) value(v string, n int) {
	for i := 0; i < len(v); i++ {
		switch c := v[i]; c {
		case '#':
			return
		case '"', '\'':
			delim := string(c)
			if strings.HasPrefix(v[i:], strings.Repeat(delim, 3)) {
				delim = strings.Repeat(delim, 3)
			}
			end := closing(v[i+len(delim):], delim)
			if end < 0 {
				if len(delim) == 3 {
					s.multi = delim
				}
				return
			}
			i += len(delim) + end + len(delim) - 1
		case '[':
			s.depth++
		case '{':
			if s.depth == 1 {
				s.elem++
				s.record(s.path+"["+strconv.Itoa(s.elem)+"]", n)
			}
			s.depth++
		case ']', '}':
			if s.depth > 0 {
				s.depth--
			}
		}
	}
}

// closing finds the end delimiter of a string body, skipping escapes in
// basic strings.
func closing(body, delim string) int {
	for i := 0; i < len(body); i++ {
		if delim[0] == '"' && body[i] == '\\' {
			i++
			continue
		}
		if strings.HasPrefix(body[i:], delim) {
			return i
		}
	}
	return -1
}

func (s *tomlScan) record(path string, n int) {
	if _, ok := s.t.exact[path]; !ok {
		s.t.exact[path] = n
	}
	p := stripIndices(path)
	if _, ok := s.t.plain[p]; !ok {
		s.t.plain[p] = n
	}
}

// keyParts reads a dotted key of bare and quoted parts from the start of
// t; rest is what follows it, blanks trimmed.
func keyParts(t string) (parts []string, rest string, ok bool) {
	for {
		t = strings.TrimLeft(t, " \t")
		if t == "" {
			return nil, "", false
		}
		var part string
		switch t[0] {
		case '"', '\'':
			end := closing(t[1:], t[:1])
			if end < 0 {
				return nil, "", false
			}
			part, t = t[1:1+end], t[end+2:]
		default:
			end := strings.IndexFunc(t, func(r rune) bool {
				return !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '_' || r == '-')
			})
			if end == 0 {
				return nil, "", false
			}
			if end < 0 {
				end = len(t)
			}
			part, t = t[:end], t[end:]
		}
		parts = append(parts, part)
		t = strings.TrimLeft(t, " \t")
		if !strings.HasPrefix(t, ".") {
			return parts, t, true
		}
		t = t[1:]
	}
}

func joinPath(a, b string) string {
	if a == "" {
		return b
	}
	return a + "." + b
}

// stripIndices removes "[n]" parts from a path.
func stripIndices(p string) string {
	var b strings.Builder
	depth := 0
	for _, r := range p {
		switch {
		case r == '[':
			depth++
		case r == ']':
			depth--
		case depth == 0:
			b.WriteRune(r)
		}
	}
	return b.String()
}

// line returns the line of path, or of its nearest recorded parent, or 0.
func (t *tomlLines) line(path string) int {
	for path != "" {
		if n, ok := t.exact[path]; ok {
			return n
		}
		i := strings.LastIndexAny(path, ".[")
		if i < 0 {
			break
		}
		path = path[:i]
	}
	return 0
}

// plainLine is line for paths without indices (toml.Key from Undecoded).
func (t *tomlLines) plainLine(path string) int {
	for path != "" {
		if n, ok := t.plain[path]; ok {
			return n
		}
		i := strings.LastIndexByte(path, '.')
		if i < 0 {
			break
		}
		path = path[:i]
	}
	return 0
}
