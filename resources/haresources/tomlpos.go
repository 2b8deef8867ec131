package haresources

import (
	"regexp"
	"strconv"
	"strings"
)

// tomlLines maps the key paths of a TOML document to the lines that
// define them, so that errors found after decoding can name a line
// (BurntSushi/toml keeps key positions private). Paths index arrays of
// tables and array elements from 0: "group[1].resources[2]". It is only
// used on documents the decoder accepted; anything it misses falls back
// to the nearest enclosing path, then to no line.
type tomlLines struct {
	exact map[string]int
	plain map[string]int // paths without indices, first occurrence
}

// tomlScan is the scanner's state between lines.
type tomlScan struct {
	t      *tomlLines
	table  string         // indexed path of the current table
	latest map[string]int // current index of each array of tables, by indexed path
	str    string         // delimiter of an open string: " ' """ '''
	depth  int            // open brackets and braces of the current value
	array  bool           // the current value is an array
	expect bool           // an array element may start here
	path   string         // key of the current value
	elem   int            // next element index of the current array
}

func locateTOML(src string) *tomlLines {
	s := &tomlScan{t: &tomlLines{exact: map[string]int{}, plain: map[string]int{}}, latest: map[string]int{}}
	for i, line := range strings.Split(src, "\n") {
		s.line(line, i+1)
	}
	return s.t
}

// indexRe matches the array indices of a path.
var indexRe = regexp.MustCompile(`\[[0-9]+\]`)

func (t *tomlLines) record(path string, n int) {
	if _, ok := t.exact[path]; !ok {
		t.exact[path] = n
	}
	p := indexRe.ReplaceAllString(path, "")
	if _, ok := t.plain[p]; !ok {
		t.plain[p] = n
	}
}

// line is the line of path, or of its nearest enclosing path, or 0.
func (t *tomlLines) line(path string) int {
	return lookup(t.exact, path)
}

// linePlain is line for a path without indices.
func (t *tomlLines) linePlain(path string) int {
	return lookup(t.plain, path)
}

func lookup(m map[string]int, path string) int {
	for path != "" {
		if n, ok := m[path]; ok {
			return n
		}
		i := strings.LastIndexAny(path, ".[")
		if i < 0 {
			return 0
		}
		path = path[:i]
	}
	return 0
}

func joinPath(a, b string) string {
	if a == "" {
		return b
	}
	return a + "." + b
}

func (s *tomlScan) line(line string, n int) {
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
		s.path = joinPath(s.table, strings.Join(parts, "."))
		s.t.record(s.path, n)
		s.array, s.expect, s.elem = false, false, 0
		s.value(rest[1:], n)
	}
}

// header handles "[a.b]" (array false) or "[[a.b]]" after the brackets.
func (s *tomlScan) header(t string, array bool, n int) {
	parts, _, ok := keyParts(t)
	if !ok || len(parts) == 0 {
		return
	}
	path := ""
	for i, p := range parts {
		path = joinPath(path, p)
		if i == len(parts)-1 && array {
			idx, seen := s.latest[path]
			if seen {
				idx++
			}
			s.latest[path] = idx
			path += "[" + strconv.Itoa(idx) + "]"
		} else if idx, seen := s.latest[path]; seen {
			path += "[" + strconv.Itoa(idx) + "]"
		}
	}
	s.table = path
	s.t.record(path, n)
}

// value scans (part of) a value, tracking strings, brackets and the
// starts of the outer array's elements.
func (s *tomlScan) value(text string, n int) {
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
		c := text[i]
		switch c {
		case '#':
			return
		case ' ', '\t', '\r':
		case '"', '\'':
			s.element(n)
			s.str = string(c)
			if strings.HasPrefix(text[i:], strings.Repeat(string(c), 3)) {
				s.str = strings.Repeat(string(c), 3)
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

// element records the start of an element of the current array.
func (s *tomlScan) element(n int) {
	if s.depth == 1 && s.array && s.expect {
		s.t.record(s.path+"["+strconv.Itoa(s.elem)+"]", n)
		s.elem++
		s.expect = false
	}
}

// closeString returns the index just after the end of an open string
// delimited by delim in text, or -1 when it does not end in text.
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

// keyParts splits a (dotted, maybe quoted) key at the start of t and
// returns the parts and what follows, blanks trimmed.
func keyParts(t string) ([]string, string, bool) {
	var parts []string
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
			for end < len(t) && (t[end] == '_' || t[end] == '-' || t[end] >= 'a' && t[end] <= 'z' ||
				t[end] >= 'A' && t[end] <= 'Z' || t[end] >= '0' && t[end] <= '9') {
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
