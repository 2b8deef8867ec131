package config

import (
	"bufio"
	"errors"
	"io"
	"strings"
)

// maxLine bounds one configuration line; anything longer is a mistake (or
// not a configuration file at all).
const maxLine = 64 << 10

// ParseHACF parses an ha.cf file. file names it in messages. The result has
// every default resolved and is validated, except for what needs the
// machine: the local node (LocalNode is empty), the ha-cluster port from
// /etc/services (udpport defaults to 694) and the keys (Keys is nil). Use
// Load for all of that. The error, if any, is an ErrorList.
func ParseHACF(r io.Reader, file string) (*Config, error) {
	return parseHACF(r, file, env{defaultPort: DefaultUDPPort})
}

func parseHACF(r io.Reader, file string, e env) (*Config, error) {
	b := newBuilder(file)
	b.c.Source = file
	readHACF(b, r)
	return b.finish(e)
}

// readHACF applies every line as Heartbeat's parse_config reads it:
// everything from '#' on is a comment, the line ends at the first CR or LF,
// the first blank-delimited word is the directive. Whole-line directives
// get the rest of the line; option directives get each token split on
// blanks and commas.
func readHACF(b *builder, r io.Reader) {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 0, 4096), maxLine)
	n := 0
	for sc.Scan() {
		n++
		pos := Pos{File: b.file, Line: n}
		line := sc.Text()
		if i := strings.IndexByte(line, '#'); i >= 0 {
			line = line[:i]
		}
		if i := strings.IndexAny(line, "\r\n"); i >= 0 {
			line = line[:i]
		}
		name, rest := cutField(line)
		if name == "" {
			continue
		}
		rest = strings.TrimLeft(rest, hbDelims)
		canon := name
		if a, ok := aliases[name]; ok {
			canon = a.canonical
		}
		if d, ok := directives[canon]; ok && d.wholeLine {
			b.option(name, pos, []string{strings.TrimRight(rest, hbWhitespace)})
			continue
		}
		b.option(name, pos, tokens(rest))
	}
	if err := sc.Err(); err != nil {
		if errors.Is(err, bufio.ErrTooLong) {
			b.errorf(Pos{File: b.file, Line: n + 1}, "line longer than %d bytes", maxLine)
			return
		}
		b.errorf(b.filePos(), "read: %v", err)
	}
}

func isWhitespace(r rune) bool { return strings.ContainsRune(hbWhitespace, r) }
func isDelim(r rune) bool      { return strings.ContainsRune(hbDelims, r) }

// fields splits s on Heartbeat's WHITESPACE.
func fields(s string) []string { return strings.FieldsFunc(s, isWhitespace) }

// tokens splits s on Heartbeat's DELIMS (blanks and commas).
func tokens(s string) []string { return strings.FieldsFunc(s, isDelim) }

// cutField returns the first blank-delimited word of s and the rest, with
// blanks trimmed from both ends of the rest.
func cutField(s string) (first, rest string) {
	s = strings.TrimLeft(s, hbWhitespace)
	i := strings.IndexFunc(s, isWhitespace)
	if i < 0 {
		return s, ""
	}
	return s[:i], strings.Trim(s[i:], hbWhitespace)
}
