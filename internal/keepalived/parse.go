// Package keepalived reads keepalived.conf files as the field writes them
// into a tree of statements, each with its file and line, for `hactl import
// keepalived`. It does not interpret keywords; that is the mapper's job
// (heartbeat/migrate).
//
// The syntax is keepalived's: a statement is a keyword and its arguments on
// one line; a statement followed by '{' (on the same line or the next)
// opens a block that '}' closes. '{' and '}' are tokens of their own even
// when written against a word ("vrrp_instance VI_1{"), so blocks may be split
// over lines or joined on one ("virtual_ipaddress { 10.0.0.1/24 }"). '!' or
// '#' at the start of a word begins a comment that runs to the end of the
// line. Double quotes group a word with blanks ("killall -0 haproxy"); a
// line ending in '\' continues on the next. `include PATTERN` (a shell glob,
// relative to the including file's directory) inserts the matching files in
// name order, at any level, up to 8 deep; a pattern that matches nothing is
// reported, as keepalived does.
//
// Nothing in the input is fatal but an unreadable main file: every problem
// (an unmatched brace, an unterminated quote, a missing include, a cycle)
// is a Diag with file:line and the parse goes on. The parser never panics
// and bounds its work (file size, statements, nesting).
package keepalived

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/hasuite/hasuite/internal/diag"
)

// Limits on what one parse reads.
const (
	maxFileSize   = 4 << 20 // bytes of one file
	maxStatements = 200000  // statements of the whole tree
	maxDepth      = 64      // nested blocks
	maxInclude    = 8       // nested includes
)

// Node is one statement: a keyword, its arguments and, for a block, the
// statements inside it.
type Node struct {
	Key      string
	Args     []string
	Block    bool // followed by { ... }
	Children []*Node
	Pos      diag.Pos
}

// Arg returns argument i, or "" when there is none.
func (n *Node) Arg(i int) string {
	if i < 0 || i >= len(n.Args) {
		return ""
	}
	return n.Args[i]
}

// Text is the statement as one line: the keyword and its arguments.
func (n *Node) Text() string {
	return strings.Join(append([]string{n.Key}, n.Args...), " ")
}

// Config is a parsed file with its includes.
type Config struct {
	Nodes []*Node     // top-level statements in order
	Files []string    // every file read, the main one first
	Diags []diag.Diag // problems found, in the order met
}

// Source reads the files; OS is the real file system.
type Source interface {
	ReadFile(name string) ([]byte, error)
	Glob(pattern string) ([]string, error)
}

// OS is the operating system's file system.
type OS struct{}

// ReadFile implements Source.
func (OS) ReadFile(name string) ([]byte, error) {
	f, err := os.Open(name)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return nil, err
	}
	if !fi.Mode().IsRegular() {
		return nil, errors.New("not a regular file")
	}
	if fi.Size() > maxFileSize {
		return nil, fmt.Errorf("larger than %d bytes", maxFileSize)
	}
	return os.ReadFile(name)
}

// Glob implements Source.
func (OS) Glob(pattern string) ([]string, error) { return filepath.Glob(pattern) }

// MapFS is an in-memory Source (tests, fuzzing): file name to content.
type MapFS map[string]string

// ReadFile implements Source.
func (m MapFS) ReadFile(name string) ([]byte, error) {
	s, ok := m[filepath.Clean(name)]
	if !ok {
		return nil, fs.ErrNotExist
	}
	return []byte(s), nil
}

// Glob implements Source.
func (m MapFS) Glob(pattern string) ([]string, error) {
	if _, err := filepath.Match(pattern, ""); err != nil {
		return nil, err
	}
	var out []string
	for name := range m {
		if ok, _ := filepath.Match(pattern, name); ok {
			out = append(out, name)
		}
	}
	slices.Sort(out)
	return out, nil
}

// ParseFile reads path (and what it includes) from src (nil: OS). The error
// is only for an unreadable main file; everything else is in Diags.
func ParseFile(src Source, path string) (*Config, error) {
	if src == nil {
		src = OS{}
	}
	data, err := src.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return parse(src, path, data), nil
}

// Parse reads one file's content; includes are resolved with src (nil: OS)
// relative to file's directory.
func Parse(src Source, file string, data []byte) *Config {
	if src == nil {
		src = OS{}
	}
	return parse(src, file, data)
}

// token is one word of a line; brace marks a '{' or '}' token (a quoted
// "{" is a word).
type token struct {
	text  string
	brace bool
}

// line is the tokens of one logical line.
type line struct {
	toks []token
	pos  diag.Pos
}

type parser struct {
	src   Source
	c     *Config
	lines []line
	stack []string // files being read, for include cycles
}

func parse(src Source, file string, data []byte) *Config {
	p := &parser{src: src, c: &Config{}}
	p.readFile(file, data, 0)
	p.build()
	return p.c
}

func (p *parser) diag(pos diag.Pos, format string, a ...any) {
	if len(p.c.Diags) < 1000 {
		p.c.Diags = append(p.c.Diags, diag.At(pos, fmt.Sprintf(format, a...)))
	}
}

// readFile splits data into lines of tokens, expanding includes in place.
func (p *parser) readFile(file string, data []byte, depth int) {
	p.c.Files = append(p.c.Files, file)
	p.stack = append(p.stack, file)
	defer func() { p.stack = p.stack[:len(p.stack)-1] }()
	if len(data) > maxFileSize {
		p.diag(diag.Pos{File: file}, "file is larger than %d bytes; only its start is read", maxFileSize)
		data = data[:maxFileSize]
	}
	phys := strings.Split(strings.ReplaceAll(string(data), "\r\n", "\n"), "\n")
	for i := 0; i < len(phys); i++ {
		pos := diag.Pos{File: file, Line: i + 1}
		text := phys[i]
		// A '\' at the end of a line (after blanks) joins the next one.
		for {
			t := strings.TrimRight(text, " \t\r")
			if !strings.HasSuffix(t, "\\") || i+1 >= len(phys) {
				break
			}
			i++
			text = strings.TrimSuffix(t, "\\") + " " + phys[i]
		}
		toks := p.tokenize(text, pos)
		if len(toks) == 0 {
			continue
		}
		if !toks[0].brace && toks[0].text == "include" {
			p.include(toks, pos, depth)
			continue
		}
		if len(p.lines) >= maxStatements {
			p.diag(pos, "more than %d lines; the rest is not read", maxStatements)
			return
		}
		p.lines = append(p.lines, line{toks: toks, pos: pos})
	}
}

// tokenize splits one line into words, quoted strings and braces, up to a
// comment.
func (p *parser) tokenize(s string, pos diag.Pos) []token {
	var out []token
	i := 0
	for i < len(s) {
		c := s[i]
		switch {
		case c == ' ' || c == '\t' || c == '\r' || c == '\f' || c == '\v':
			i++
		case c == '!' || c == '#':
			return out
		case c == '{' || c == '}':
			out = append(out, token{text: string(c), brace: true})
			i++
		case c == '"':
			end := strings.IndexByte(s[i+1:], '"')
			if end < 0 {
				p.diag(pos, "unterminated quoted string; it runs to the end of the line")
				out = append(out, token{text: s[i+1:]})
				return out
			}
			out = append(out, token{text: s[i+1 : i+1+end]})
			i += end + 2
		default:
			j := i
			for j < len(s) && !strings.ContainsRune(" \t\r\f\v{}\"", rune(s[j])) {
				j++
			}
			out = append(out, token{text: s[i:j]})
			i = j
		}
	}
	return out
}

// include reads the files an include line names.
func (p *parser) include(toks []token, pos diag.Pos, depth int) {
	if len(toks) < 2 || toks[1].brace {
		p.diag(pos, "include without a file name")
		return
	}
	if len(toks) > 2 {
		p.diag(pos, "include takes one pattern; the rest of the line is ignored")
	}
	if depth >= maxInclude {
		p.diag(pos, "include nested more than %d deep: %s is not read", maxInclude, toks[1].text)
		return
	}
	pattern := toks[1].text
	if !filepath.IsAbs(pattern) {
		pattern = filepath.Join(filepath.Dir(pos.File), pattern)
	}
	names, err := p.src.Glob(pattern)
	if err != nil {
		p.diag(pos, "include %s: %v", toks[1].text, err)
		return
	}
	if len(names) == 0 {
		p.diag(pos, "include %s: no file matches", toks[1].text)
		return
	}
	slices.Sort(names)
	for _, name := range names {
		if slices.Contains(p.stack, name) {
			p.diag(pos, "include %s: %s includes itself; not read again", toks[1].text, name)
			continue
		}
		data, err := p.src.ReadFile(name)
		if err != nil {
			p.diag(pos, "include %s: %v", name, err)
			continue
		}
		p.readFile(name, data, depth+1)
	}
}

// build turns the lines into the statement tree.
func (p *parser) build() {
	type frame struct {
		node *Node // nil for the top level
		list *[]*Node
	}
	stack := []frame{{list: &p.c.Nodes}}
	// last is the statement just ended by a line break, which a '{' at the
	// start of the next line opens.
	var last *Node
	lastDepth := -1
	for _, ln := range p.lines {
		var cur *Node
		flush := func() *Node {
			n := cur
			if n != nil {
				top := stack[len(stack)-1]
				*top.list = append(*top.list, n)
			}
			cur = nil
			return n
		}
		for ti, t := range ln.toks {
			switch {
			case t.brace && t.text == "{":
				target := cur
				if target == nil && ti == 0 && last != nil && lastDepth == len(stack)-1 && !last.Block {
					target = last // the opening brace on its own line
				} else if target == nil {
					p.diag(ln.pos, "'{' without a keyword before it")
					target = &Node{Key: "{", Pos: ln.pos}
					cur = target
				}
				if cur != nil {
					flush()
				}
				target.Block = true
				if len(stack) > maxDepth {
					p.diag(ln.pos, "blocks nested more than %d deep", maxDepth)
				}
				stack = append(stack, frame{node: target, list: &target.Children})
			case t.brace:
				flush()
				if len(stack) == 1 {
					p.diag(ln.pos, "'}' without a block to close")
					continue
				}
				stack = stack[:len(stack)-1]
			case cur == nil:
				cur = &Node{Key: t.text, Pos: ln.pos}
			default:
				cur.Args = append(cur.Args, t.text)
			}
		}
		last, lastDepth = flush(), len(stack)-1
	}
	for len(stack) > 1 {
		n := stack[len(stack)-1].node
		p.diag(n.Pos, "block %s is not closed ('}' missing)", n.Key)
		stack = stack[:len(stack)-1]
	}
}
