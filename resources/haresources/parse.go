package haresources

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"strconv"
	"strings"
)

// maxFile bounds the size of a haresources file.
const maxFile = 1 << 20

// maxErrors bounds how many errors one parse reports.
const maxErrors = 50

// blanks separate words. Heartbeat collapses spaces and tabs; a carriage
// return (a file edited on Windows) or form feed is a blank here too.
const blanks = " \t\r\v\f"

// Parse reads a haresources file: one group per logical line,
// "<node> <resource> [<resource>...]" (see the package documentation).
// file names errors ("file:line: ..."). nodes are the cluster's node names;
// every group's node must be one of them (case-insensitively). With no
// nodes, any well-formed node name is accepted. Every error found is
// reported (up to 50), joined; on error no groups are returned.
func Parse(r io.Reader, file string, nodes []string) ([]Group, error) {
	if file == "" {
		file = "haresources"
	}
	data, err := readAll(r, file)
	if err != nil {
		return nil, err
	}
	b := newBuilder(file, nodes)
	for _, l := range logicalLines(string(data)) {
		toks := l.words(file)
		if len(toks) == 0 {
			continue
		}
		b.addGroup(toks[0].pos, toks[0], toks[1:])
	}
	return b.result()
}

// readAll reads at most maxFile bytes.
func readAll(r io.Reader, file string) ([]byte, error) {
	data, err := io.ReadAll(io.LimitReader(r, maxFile+1))
	if err != nil {
		return nil, &Error{Pos: Pos{File: file}, Msg: err.Error()}
	}
	if len(data) > maxFile {
		return nil, errAt(Pos{File: file}, "file is larger than %d bytes", maxFile)
	}
	return data, nil
}

// Load reads the resource groups from path (normally
// /etc/ha.d/haresources) or from its TOML form path+".toml". A path ending
// in ".toml" names the TOML form, and the file without the suffix is the
// plain form. Having both is an error; having neither means no groups.
func Load(path string, nodes []string) ([]Group, error) {
	plain, tomlPath := path, path+".toml"
	if strings.HasSuffix(path, ".toml") {
		plain, tomlPath = strings.TrimSuffix(path, ".toml"), path
	}
	havePlain, err := exists(plain)
	if err != nil {
		return nil, err
	}
	haveTOML, err := exists(tomlPath)
	if err != nil {
		return nil, err
	}
	switch {
	case havePlain && haveTOML:
		return nil, errAt(Pos{File: tomlPath}, "both %s and %s exist; keep only one of them", plain, tomlPath)
	case havePlain:
		return loadFile(plain, nodes, Parse)
	case haveTOML:
		return loadFile(tomlPath, nodes, ParseTOML)
	}
	return nil, nil
}

func exists(path string) (bool, error) {
	st, err := os.Stat(path)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return false, nil
	case err != nil:
		return false, &Error{Pos: Pos{File: path}, Msg: err.Error()}
	case st.IsDir():
		return false, errAt(Pos{File: path}, "is a directory")
	}
	return true, nil
}

func loadFile(path string, nodes []string, parse func(io.Reader, string, []string) ([]Group, error)) ([]Group, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, &Error{Pos: Pos{File: path}, Msg: err.Error()}
	}
	defer f.Close()
	return parse(f, path, nodes)
}

// String is the group's haresources line: the node and each resource as
// written, separated by one blank.
func (g Group) String() string {
	var sb strings.Builder
	sb.WriteString(g.Node)
	for _, r := range g.Resources {
		sb.WriteByte(' ')
		sb.WriteString(r.Raw)
	}
	return sb.String()
}

// segment is one physical line's contribution to a logical line.
type segment struct {
	text string
	line int
}

// logical is one logical line: physical lines joined by trailing '\'.
type logical []segment

// logicalLines strips comments ('#' to the end of each physical line) and
// joins lines ending in '\' (blanks after it are ignored) with the next
// one, as ResourceManager does: the backslash and the line break are
// removed and nothing is put in their place.
func logicalLines(src string) []logical {
	var out []logical
	var cur logical
	for i, line := range strings.Split(src, "\n") {
		if c := strings.IndexByte(line, '#'); c >= 0 {
			line = line[:c]
		}
		line = strings.TrimRight(line, blanks)
		cont := strings.HasSuffix(line, `\`)
		if cont {
			line = line[:len(line)-1]
		}
		cur = append(cur, segment{text: line, line: i + 1})
		if !cont {
			out = append(out, cur)
			cur = nil
		}
	}
	if cur != nil {
		out = append(out, cur)
	}
	return out
}

// token is a word and where it starts.
type token struct {
	text string
	pos  Pos
}

// words splits a logical line at runs of blanks. A word continued over a
// line break is placed on the line where it starts.
func (l logical) words(file string) []token {
	var toks []token
	var cur strings.Builder
	start := 0
	for _, seg := range l {
		for i := 0; i < len(seg.text); i++ {
			c := seg.text[i]
			if strings.IndexByte(blanks, c) >= 0 {
				if cur.Len() > 0 {
					toks = append(toks, token{text: cur.String(), pos: Pos{File: file, Line: start}})
					cur.Reset()
				}
				continue
			}
			if cur.Len() == 0 {
				start = seg.line
			}
			cur.WriteByte(c)
		}
	}
	if cur.Len() > 0 {
		toks = append(toks, token{text: cur.String(), pos: Pos{File: file, Line: start}})
	}
	return toks
}

// builder turns node and resource words into checked groups; both file
// forms use it.
type builder struct {
	file   string
	nodes  map[string]bool
	known  string // the node names for messages
	groups []Group
	n      int // groups attempted, for OCF instance names
	seen   map[string]owner
	errs   []error
}

// owner records where a resource identity was first used.
type owner struct {
	key   string
	group int // b.n of the group
	pos   Pos
}

func newBuilder(file string, nodes []string) *builder {
	b := &builder{file: file, seen: map[string]owner{}}
	if len(nodes) > 0 {
		b.nodes = map[string]bool{}
		names := make([]string, 0, len(nodes))
		for _, n := range nodes {
			n = strings.ToLower(n)
			if !b.nodes[n] {
				names = append(names, n)
			}
			b.nodes[n] = true
		}
		b.known = strings.Join(names, ", ")
	}
	return b
}

func (b *builder) errorf(pos Pos, format string, args ...any) {
	if len(b.errs) == maxErrors {
		b.errs = append(b.errs, errAt(pos, "too many errors"))
	}
	if len(b.errs) > maxErrors {
		return
	}
	b.errs = append(b.errs, errAt(pos, format, args...))
}

func (b *builder) add(err error) {
	var e *Error
	if errors.As(err, &e) {
		b.errorf(e.Pos, "%s", e.Msg)
		return
	}
	b.errorf(Pos{File: b.file}, "%s", err)
}

func (b *builder) result() ([]Group, error) {
	switch len(b.errs) {
	case 0:
		return b.groups, nil
	case 1:
		return nil, b.errs[0]
	}
	return nil, errors.Join(b.errs...)
}

// checkNode validates a node name and returns it in lower case.
func (b *builder) checkNode(t token) (string, bool) {
	for _, c := range []byte(t.text) {
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '.' || c == '_') {
			b.errorf(t.pos, "node name %q: want letters, digits, '-', '.' or '_'", t.text)
			return "", false
		}
	}
	if t.text == "" {
		b.errorf(t.pos, "empty node name")
		return "", false
	}
	n := strings.ToLower(t.text)
	if b.nodes != nil && !b.nodes[n] {
		b.errorf(t.pos, "unknown node %q (the cluster's nodes are %s)", t.text, b.known)
		return "", false
	}
	return n, true
}

// addGroup checks one group and appends it; it returns the new group's
// index, or -1 when the group has errors.
func (b *builder) addGroup(pos Pos, node token, toks []token) int {
	b.n++
	name, ok := b.checkNode(node)
	if len(toks) == 0 {
		b.errorf(node.pos, "node %q has no resources: want <node> <resource> [<resource>...]", node.text)
		return -1
	}
	res := make([]Resource, 0, len(toks))
	for _, t := range toks {
		r, err := ParseResource(t.text, t.pos)
		if err != nil {
			b.add(err)
			ok = false
			continue
		}
		res = append(res, r)
	}
	if !ok {
		return -1
	}
	key := toks[0].text
	for i := range res {
		r := &res[i]
		id := identity(r)
		if o, dup := b.seen[id]; dup {
			what := fmt.Sprintf("resource %q", r.Raw)
			if r.Kind == KindIP {
				what = fmt.Sprintf("address %s (resource %q)", r.IP.Addr, r.Raw)
			}
			if o.group == b.n {
				b.errorf(r.Pos, "%s appears twice in group %q (also at %s)", what, key, o.pos)
			} else {
				b.errorf(r.Pos, "%s is already in group %q at %s: a resource may belong to one group only", what, o.key, o.pos)
			}
			ok = false
			continue
		}
		b.seen[id] = owner{key: key, group: b.n, pos: r.Pos}
	}
	if !ok {
		return -1
	}
	nameOCFInstances(res, b.n)
	b.groups = append(b.groups, Group{Key: key, Node: name, Resources: res, Pos: pos})
	return len(b.groups) - 1
}

// nameOCFInstances gives each ocf:provider:agent resource of group number
// g (from 1) the instance name "<agent>_<g>", or "<agent>_<g>_<k>" for the
// k-th (k >= 2) resource of the same agent in that group.
func nameOCFInstances(res []Resource, g int) {
	count := map[string]int{}
	for i := range res {
		o := res[i].OCF
		if o == nil || o.ParamFile != "" {
			continue
		}
		count[o.Agent]++
		o.Instance = o.Agent + "_" + strconv.Itoa(g)
		if k := count[o.Agent]; k > 1 {
			o.Instance += "_" + strconv.Itoa(k)
		}
	}
}
