package tomlpos

import (
	"reflect"
	"testing"

	"github.com/BurntSushi/toml"
)

type testValue struct{ v any }

func (t *testValue) UnmarshalTOML(v any) error { t.v = v; return nil }

type testDoc struct {
	Name  testValue   `toml:"name"`
	Items []testItem  `toml:"item"`
	Auth  *testAuth   `toml:"auth"`
	Plain int         // no tag: the field name
	Skip  int         `toml:"-"`
	Raw   []testValue `toml:"raw"`
}

type testItem struct {
	Kind    testValue `toml:"kind"`
	Timeout testValue `toml:"timeout,omitempty"`
}

type testAuth struct {
	Keys []struct {
		Index testValue `toml:"index"`
	} `toml:"keys"`
}

func TestSchemaOf(t *testing.T) {
	got := SchemaOf(testDoc{})
	want := Schema{
		"":          {"Plain", "auth", "item", "name", "raw"},
		"item":      {"kind", "timeout"},
		"auth":      {"keys"},
		"auth.keys": {"index"},
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("SchemaOf = %v, want %v", got, want)
	}
	for _, c := range []struct {
		key  toml.Key
		want string
	}{
		{toml.Key{"nmae"}, "name"},
		{toml.Key{"item", "timout"}, "item.timeout"},
		{toml.Key{"auth", "keys", "indx"}, "auth.keys.index"},
		{toml.Key{"unknown", "kind"}, ""},
		{toml.Key{"zzzzzz"}, ""},
		{nil, ""},
	} {
		if s := got.Suggest(c.key); s != c.want {
			t.Errorf("Suggest(%v) = %q, want %q", c.key, s, c.want)
		}
	}
}

func TestDecodeError(t *testing.T) {
	cases := []struct {
		name, src string
		line      int
		msg       string
	}{
		{"syntax", "a = 1\nb = = 2\n", 2, ""},
		{"array of tables wanted", "x = 1\nitem = 3\n", 2, "item: want [[item]] tables"},
		{"a table for an array of tables", "[item]\nkind = 1\n", 1, "item: want [[item]] tables"},
	}
	for _, c := range cases {
		var doc testDoc
		_, err := toml.Decode(c.src, &doc)
		if err == nil {
			t.Fatalf("%s: no error", c.name)
		}
		d := DecodeError("f.toml", err)
		if d.File != "f.toml" || d.Line != c.line || c.msg != "" && d.Msg != c.msg || d.Msg == "" {
			t.Errorf("%s: DecodeError = %#v (from %v), want line %d msg %q", c.name, d, err, c.line, c.msg)
		}
	}
}

func TestTypeName(t *testing.T) {
	var doc struct {
		D testValue `toml:"d"`
	}
	if _, err := toml.Decode("d = 1979-05-27\n", &doc); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		v    any
		want string
	}{
		{"x", "a string"}, {"", "an empty string"}, {int64(1), "an integer"}, {1.5, "a float"}, {true, "a boolean"},
		{[]any{1}, "an array"}, {[]any{}, "an empty array"}, {[]map[string]any{{}}, "an array of tables"},
		{map[string]any{}, "a table"}, {doc.D.v, "a date or time"},
	} {
		if got := TypeName(c.v); got != c.want {
			t.Errorf("TypeName(%#v) = %q, want %q", c.v, got, c.want)
		}
	}
}
