package tomlpos

import (
	"errors"
	"fmt"
	"reflect"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/BurntSushi/toml"

	"github.com/hasuite/hasuite/internal/diag"
)

// What ha.toml and haresources.toml share beyond line numbers: the
// decoder's errors as findings with a line, the names of TOML types in
// messages, and the known keys of a schema for "did you mean" hints.

// decodeLineRe matches the position the decoder writes into the errors
// that are not ParseErrors (type mismatches of the document's shape).
var decodeLineRe = regexp.MustCompile(`^toml: line ([0-9]+) ?(.*)$`)

// lastKeyRe matches the key the decoder names in those errors.
var lastKeyRe = regexp.MustCompile(`^\(last key "([^"]*)"\): (.*)$`)

// DecodeError turns an error of toml.Decode into a finding in file with
// the line it names. Syntax errors carry their line; a shape mismatch
// ("media = 3" where [[media]] tables are expected) is said as
// `media: want [[media]] tables`; other mismatches as "key: message".
func DecodeError(file string, err error) diag.Diag {
	var pe toml.ParseError
	if errors.As(err, &pe) {
		return diag.At(diag.Pos{File: file, Line: pe.Position.Line}, pe.Message)
	}
	msg := err.Error()
	m := decodeLineRe.FindStringSubmatch(msg)
	if m == nil {
		return diag.At(diag.Pos{File: file}, strings.TrimPrefix(msg, "toml: "))
	}
	line, _ := strconv.Atoi(m[1])
	msg = m[2]
	if k := lastKeyRe.FindStringSubmatch(msg); k != nil {
		key, rest := k[1], k[2]
		if strings.HasPrefix(rest, "incompatible types:") && strings.HasSuffix(rest, "destination has type slice") {
			rest = fmt.Sprintf("want [[%s]] tables", key)
		}
		msg = key + ": " + rest
	}
	return diag.At(diag.Pos{File: file, Line: line}, msg)
}

// TypeName names the TOML type of a decoded value for messages: "a
// string", "an empty string", "an integer", "a float", "a boolean", "an
// array", "an empty array", "an array of tables", "a table", "a date or
// time".
func TypeName(v any) string {
	switch x := v.(type) {
	case string:
		if x == "" {
			return "an empty string"
		}
		return "a string"
	case int64:
		return "an integer"
	case float64:
		return "a float"
	case bool:
		return "a boolean"
	case []any:
		if len(x) == 0 {
			return "an empty array"
		}
		return "an array"
	case []map[string]any:
		return "an array of tables"
	case map[string]any:
		return "a table"
	case time.Time:
		return "a date or time"
	}
	return fmt.Sprintf("%T", v)
}

// Schema is the keys a document type knows, by table path without
// indices ("" for the top level, "media", "auth.keys").
type Schema map[string][]string

// unmarshaler is toml.Unmarshaler; a field of such a type is one value,
// whatever its Go type.
var unmarshaler = reflect.TypeFor[toml.Unmarshaler]()

// SchemaOf lists the keys of doc's type (a struct, or a pointer to one):
// the toml tags (or field names) of its fields, and for fields that are
// structs, pointers to structs or slices of structs, the keys of those
// tables under the field's key. A type that implements toml.Unmarshaler
// is a value, not a table.
func SchemaOf(doc any) Schema {
	s := Schema{}
	var walk func(t reflect.Type, path string)
	walk = func(t reflect.Type, path string) {
		for t.Kind() == reflect.Pointer || t.Kind() == reflect.Slice {
			t = t.Elem()
		}
		if t.Kind() != reflect.Struct || reflect.PointerTo(t).Implements(unmarshaler) {
			return
		}
		for i := range t.NumField() {
			f := t.Field(i)
			if !f.IsExported() {
				continue
			}
			name, _, _ := strings.Cut(f.Tag.Get("toml"), ",")
			if name == "-" {
				continue
			}
			if name == "" {
				name = f.Name
			}
			s[path] = append(s[path], name)
			sub := name
			if path != "" {
				sub = path + "." + name
			}
			walk(f.Type, sub)
		}
	}
	walk(reflect.TypeOf(doc), "")
	for _, keys := range s {
		slices.Sort(keys)
	}
	return s
}

// Suggest returns the known key nearest to the last part of an unknown
// key (a toml.Key from MetaData.Undecoded) in the same table, as a full
// dotted path ("group.timeout" for "group.timout"), or "" when none is
// near (diag.Suggest decides).
func (s Schema) Suggest(key toml.Key) string {
	if len(key) == 0 {
		return ""
	}
	parent := strings.Join(key[:len(key)-1], ".")
	known, ok := s[parent]
	if !ok {
		return ""
	}
	best := diag.Suggest(key[len(key)-1], known)
	if best == "" {
		return ""
	}
	k := append(toml.Key{}, key[:len(key)-1]...)
	return append(k, best).String()
}
