package script

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
)

// Limits of instance files: they hold a handful of short assignments.
const (
	maxParamFileSize = 1 << 20
	maxParamLine     = 64 << 10
)

// Param is one NAME=value assignment of a Heartbeat OCF instance file
// (/etc/ha.d/conf/OCF/<agent>/<instance>).
type Param struct {
	Name  string
	Value string
	Line  int // where it was (last) assigned
}

// EnvName is the variable an agent sees. Heartbeat's resource.d/OCF wrapper
// sources the file and exports every name as written, so names beginning
// with "OCF_" (OCF_RESKEY_ip, OCF_CHECK_LEVEL) are kept as they are; any
// other name is taken as a parameter name and becomes OCF_RESKEY_<name>.
func (p Param) EnvName() string {
	if strings.HasPrefix(p.Name, "OCF_") {
		return p.Name
	}
	return "OCF_RESKEY_" + p.Name
}

// ReadParamFile reads an instance file with ParseParams.
func ReadParamFile(path string) ([]Param, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("OCF instance file: %w", err)
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return nil, fmt.Errorf("OCF instance file: %w", err)
	}
	if !fi.Mode().IsRegular() {
		return nil, fmt.Errorf("OCF instance file %s: not a regular file", path)
	}
	if fi.Size() > maxParamFileSize {
		return nil, fmt.Errorf("OCF instance file %s: larger than %d bytes", path, maxParamFileSize)
	}
	return ParseParams(io.LimitReader(f, maxParamFileSize+1), path)
}

// ParseParams reads shell "NAME=value" lines without a shell: blank lines
// and "#" comments are skipped, an "export " prefix is allowed, and the
// value may be unquoted, 'single quoted' or "double quoted" (with \" \\ \$
// \` escapes), or a concatenation of these, optionally followed by a
// comment. Anything a shell would expand or execute ($, `, ;, |, &, <, >,
// parentheses, a leading ~) is an error naming file:line, as are bad names
// and several assignments on one line. A name assigned twice keeps its last
// value (as in the shell), at the position of its first assignment.
func ParseParams(r io.Reader, file string) ([]Param, error) {
	var params []Param
	index := map[string]int{}
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 0, 4096), maxParamLine)
	line := 0
	total := 0
	for sc.Scan() {
		line++
		total += len(sc.Bytes()) + 1
		if total > maxParamFileSize+1 {
			return nil, fmt.Errorf("%s: larger than %d bytes", file, maxParamFileSize)
		}
		name, value, ok, err := parseParamLine(sc.Text())
		if err != nil {
			return nil, fmt.Errorf("%s:%d: %w", file, line, err)
		}
		if !ok {
			continue
		}
		if i, dup := index[name]; dup {
			params[i].Value, params[i].Line = value, line
			continue
		}
		index[name] = len(params)
		params = append(params, Param{Name: name, Value: value, Line: line})
	}
	if err := sc.Err(); err != nil {
		if errors.Is(err, bufio.ErrTooLong) {
			return nil, fmt.Errorf("%s:%d: line longer than %d bytes", file, line+1, maxParamLine)
		}
		return nil, fmt.Errorf("%s: %w", file, err)
	}
	return params, nil
}

// parseParamLine parses one line; ok is false for blank and comment lines.
func parseParamLine(s string) (name, value string, ok bool, err error) {
	if strings.IndexByte(s, 0) >= 0 {
		return "", "", false, errors.New("NUL byte in line")
	}
	s = strings.TrimRight(s, "\r")
	s = strings.Trim(s, " \t")
	if s == "" || s[0] == '#' {
		return "", "", false, nil
	}
	if rest, found := strings.CutPrefix(s, "export"); found && rest != "" && (rest[0] == ' ' || rest[0] == '\t') {
		s = strings.TrimLeft(rest, " \t")
	}
	eq := strings.IndexByte(s, '=')
	if eq < 0 {
		return "", "", false, fmt.Errorf("expected NAME=value, got %q", s)
	}
	name = s[:eq]
	if !validName(name) {
		return "", "", false, fmt.Errorf("invalid variable name %q (letters, digits and _, not starting with a digit)", name)
	}
	value, rest, err := parseShellWord(s[eq+1:])
	if err != nil {
		return "", "", false, fmt.Errorf("%s: %w", name, err)
	}
	rest = strings.TrimLeft(rest, " \t")
	if rest != "" && rest[0] != '#' {
		return "", "", false, fmt.Errorf("%s: unexpected %q after the value (one assignment per line; quote values with blanks)", name, rest)
	}
	return name, value, true, nil
}

// parseShellWord reads one shell word of literal text from s, up to the
// first unquoted blank, and returns it and what follows.
func parseShellWord(s string) (word, rest string, err error) {
	var b strings.Builder
	i := 0
	if strings.HasPrefix(s, "~") {
		return "", "", errors.New("tilde expansion is not supported (quote the value)")
	}
	for i < len(s) {
		c := s[i]
		switch c {
		case ' ', '\t':
			return b.String(), s[i:], nil
		case '\'':
			end := strings.IndexByte(s[i+1:], '\'')
			if end < 0 {
				return "", "", errors.New("unterminated single quote (values cannot span lines)")
			}
			b.WriteString(s[i+1 : i+1+end])
			i += end + 2
		case '"':
			i++
			closed := false
			for i < len(s) && !closed {
				switch d := s[i]; d {
				case '"':
					closed = true
					i++
				case '\\':
					if i+1 < len(s) && strings.IndexByte("$`\"\\", s[i+1]) >= 0 {
						b.WriteByte(s[i+1])
						i += 2
					} else if i+1 == len(s) {
						return "", "", errors.New("line continuation is not supported")
					} else {
						b.WriteByte(d)
						i++
					}
				case '$', '`':
					return "", "", fmt.Errorf("shell expansion (%c) is not supported; use single quotes or \\%c", d, d)
				default:
					b.WriteByte(d)
					i++
				}
			}
			if !closed {
				return "", "", errors.New("unterminated double quote (values cannot span lines)")
			}
		case '\\':
			if i+1 == len(s) {
				return "", "", errors.New("line continuation is not supported")
			}
			b.WriteByte(s[i+1])
			i += 2
		case '$', '`':
			return "", "", fmt.Errorf("shell expansion (%c) is not supported; use single quotes", c)
		case ';', '&', '|', '<', '>', '(', ')':
			return "", "", fmt.Errorf("shell syntax %q is not supported; quote the value", c)
		default:
			b.WriteByte(c)
			i++
		}
	}
	return b.String(), "", nil
}
