package stonith

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
)

// Param is one named device parameter, passed to the device as the
// environment variable Name=Value.
type Param struct {
	Name  string
	Value string
}

// delims are the separators of positional parameters and of the name and
// host lists plugins print (cluster-glue's WHITESPACE).
const delims = " \t\n\r\f"

func isDelim(r rune) bool { return strings.ContainsRune(delims, r) }

// fields splits plugin output (getconfignames, gethosts) into words.
func fields(s string) []string { return strings.FieldsFunc(s, isDelim) }

// maxParamFile bounds the parameter file that is read.
const maxParamFile = 1 << 20

// ParseParams maps the positional parameters of a v1 configuration line to
// names, as cluster-glue's stonith1_compat_string_to_NVpair does: each name
// takes the next whitespace-separated word, and the last name takes the
// rest of the line with its inner white space (trailing white space is
// dropped). Fewer words than names is an error; with no names the line is
// ignored. Errors never quote values, which often are passwords.
func ParseParams(line string, names []string) ([]Param, error) {
	for _, n := range names {
		if !validParamName(n) {
			return nil, fmt.Errorf("invalid parameter name %q", n)
		}
	}
	params := make([]Param, 0, len(names))
	rest := line
	for i, n := range names {
		rest = strings.TrimLeft(rest, delims)
		if rest == "" {
			return nil, fmt.Errorf("%d parameter(s) given, %d expected (%s)",
				i, len(names), strings.Join(names, " "))
		}
		var v string
		if i == len(names)-1 {
			v = strings.TrimRight(rest, delims)
			rest = ""
		} else {
			end := strings.IndexAny(rest, delims)
			if end < 0 {
				end = len(rest)
			}
			v, rest = rest[:end], rest[end:]
		}
		if strings.IndexByte(v, 0) >= 0 {
			return nil, fmt.Errorf("parameter %s contains a NUL byte", n)
		}
		params = append(params, Param{Name: n, Value: v})
	}
	return params, nil
}

// validParamName reports whether n can be an environment variable name.
func validParamName(n string) bool {
	return n != "" && !strings.ContainsAny(n, "=\x00")
}

// FirstParamLine returns the first line of a `stonith <type> <file>`
// parameter file that is neither empty, white space only, nor a comment
// (starting with '#'), without its line ending.
func FirstParamLine(data []byte) (string, bool) {
	for len(data) > 0 {
		var line []byte
		if i := bytes.IndexByte(data, '\n'); i >= 0 {
			line, data = data[:i], data[i+1:]
		} else {
			line, data = data, nil
		}
		if len(line) == 0 || line[0] == '#' || len(bytes.Trim(line, delims)) == 0 {
			continue
		}
		return strings.TrimSuffix(string(line), "\r"), true
	}
	return "", false
}

// paramLine returns the positional parameter line of spec: the stonith_host
// parameters, or the first parameter line of a stonith line's file. A
// relative file name is relative to the directory of the file that holds
// the line (e.g. /etc/ha.d).
func paramLine(spec Spec, log func(string)) (string, error) {
	if spec.File == "" {
		return spec.Params, nil
	}
	path := spec.File
	if !filepath.IsAbs(path) && spec.Dir != "" {
		path = filepath.Join(spec.Dir, path)
	}
	f, err := os.Open(path)
	if err != nil {
		return "", err
	}
	defer f.Close()
	if fi, err := f.Stat(); err == nil {
		if !fi.Mode().IsRegular() {
			return "", fmt.Errorf("%s: not a regular file", path)
		}
		if fi.Mode().Perm()&0o044 != 0 {
			log(fmt.Sprintf("stonith: parameter file %s is readable by group/others; it may hold passwords", path))
		}
	}
	data, err := io.ReadAll(io.LimitReader(f, maxParamFile+1))
	if err != nil {
		return "", err
	}
	if len(data) > maxParamFile {
		return "", fmt.Errorf("%s: larger than %d bytes", path, maxParamFile)
	}
	line, ok := FirstParamLine(data)
	if !ok {
		return "", errors.New(path + ": no parameter line")
	}
	return line, nil
}

// env returns base with the parameters (and extra variables) set, later
// values replacing earlier ones of the same name.
func env(base []string, params []Param, extra ...string) []string {
	drop := make(map[string]bool, len(params)+len(extra))
	for _, p := range params {
		drop[p.Name] = true
	}
	for _, kv := range extra {
		k, _, _ := strings.Cut(kv, "=")
		drop[k] = true
	}
	out := make([]string, 0, len(base)+len(params)+len(extra))
	for _, kv := range base {
		k, _, _ := strings.Cut(kv, "=")
		if !drop[k] {
			out = append(out, kv)
		}
	}
	for _, p := range params {
		out = append(out, p.Name+"="+p.Value)
	}
	return append(out, extra...)
}
