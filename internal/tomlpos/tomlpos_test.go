package tomlpos

import (
	"strings"
	"testing"
)

func TestScan(t *testing.T) {
	tests := []struct {
		name  string
		src   string
		lines map[string]int // Line
		plain map[string]int // PlainLine
	}{
		{
			name: "ha.toml shapes",
			src: `# comment
top = 1
"quoted key" = 'x' # comment
multi = """
not = "a key"
"""
arr = [
  "a",
  { inner = 1 },
  {inner = 2},
]
[auth]
current = 1
keys = [{index = 1}, {index = 2}]
[[media]]
kind = "a"
[[media]]
kind = "b"
dotted.key = 3
[media.sub]
x = 1
`,
			lines: map[string]int{
				"top": 2, "quoted key": 3, "multi": 4, "not": 0,
				"arr": 7, "arr[0]": 8, "arr[1]": 9, "arr[2]": 10, "arr[2].inner": 10, "arr[3]": 7,
				"auth": 12, "auth.current": 13, "auth.keys[1]": 14, "auth.keys[1].index": 14,
				"media[0]": 15, "media[0].kind": 16, "media[1].kind": 18,
				"media[1].dotted.key": 19, "media[1].sub.x": 21,
				"media[7].kind": 0, "nothing": 0,
			},
			plain: map[string]int{
				"media.kind": 16, "media.unknown": 15, "auth.keys": 14, "media.sub.x": 21, "nothing": 0,
			},
		},
		{
			name: "haresources.toml shapes",
			src: `a = 1
"quoted.key" = 'x'   # comment [[not]] a header
[[group]]
resources = [ "x", 'y',
  """multi
line ] " ' string""", ['nested'], {a = 1},
  5 ]
[[group]]
[group.sub]
k = "v"
[[group.resource_options]]
[[group.resource_options]]
timeout = '''
]
'''
after = 1
`,
			lines: map[string]int{
				"a": 1, "quoted.key": 2, "group[0]": 3, "group[0].resources": 4,
				"group[0].resources[0]": 4, "group[0].resources[1]": 4, "group[0].resources[2]": 5,
				"group[0].resources[3]": 6, "group[0].resources[4]": 6, "group[0].resources[5]": 7,
				"group[1]": 8, "group[1].sub": 9, "group[1].sub.k": 10,
				"group[1].resource_options[0]": 11, "group[1].resource_options[1]": 12,
				"group[1].resource_options[1].timeout": 13, "group[1].resource_options[1].after": 16,
				"group[1].resource_options[1].nothing": 12, "nothing": 0,
			},
			plain: map[string]int{"group.resource_options.after": 16, "group.resources": 4},
		},
		{
			name: "nested arrays of tables restart per parent",
			src: `[[group]]
[[group.resources]]
[[group.resources]]
[[group]]
[[group.resources]]
name = "r"
`,
			lines: map[string]int{
				"group[0].resources[0]": 2, "group[0].resources[1]": 3,
				"group[1]": 4, "group[1].resources[0]": 5, "group[1].resources[0].name": 6,
				"group[1].resources[1]": 4,
			},
			plain: map[string]int{"group.resources": 2, "group.resources.name": 6},
		},
		{
			name: "strings, escapes and line endings",
			src: "nodes = [\r\n  \"a\", # one\r\n  \"b\\\"]\", 'c'\r\n]\r\n" +
				"\"esc\\u0041\" = 1\n" +
				"\"k[0]\".x = 2\n" +
				"s = \"\"\"ends in quotes\"\"\"\"\"\n" +
				"after = \"unterminated\n" +
				"last = 3\n",
			lines: map[string]int{
				"nodes": 1, "nodes[0]": 2, "nodes[1]": 3, "nodes[2]": 3,
				"escA": 5, "k[0].x": 6, "s": 7, "after": 8, "last": 9,
			},
			plain: map[string]int{"escA": 5, "k[0].x": 6, "last": 9},
		},
		{
			name:  "empty",
			src:   "",
			lines: map[string]int{"": 0, "a": 0, "a[0]": 0},
			plain: map[string]int{"": 0, "a": 0},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			l := Scan(tc.src)
			for path, want := range tc.lines {
				if got := l.Line(path); got != want {
					t.Errorf("Line(%q) = %d, want %d", path, got, want)
				}
			}
			for path, want := range tc.plain {
				if got := l.PlainLine(path); got != want {
					t.Errorf("PlainLine(%q) = %d, want %d", path, got, want)
				}
			}
		})
	}
}

func FuzzScan(f *testing.F) {
	for _, s := range []string{
		"",
		"a = 1\n[t]\nb = [1, {c = 2},\n 3]\n[[arr]]\n[[arr.sub]]\nx = '''\n]\n'''\n",
		"\"q\\\"k\".'l' = \"\"\"\n\"\"\"\"\"\n[ \"a.b\" . c ]\n",
		"[[\n[\n\"\n'\n= [\n{\n#\n",
		"k = [[[[\n]]]]]]]\n",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, src string) {
		l := Scan(src)
		lines := strings.Count(src, "\n") + 1
		for _, m := range []map[string]int{l.exact, l.plain} {
			for path, n := range m {
				if n < 1 || n > lines {
					t.Fatalf("path %q on line %d of %d", path, n, lines)
				}
				if l.Line(path) < 0 || l.PlainLine(path) < 0 {
					t.Fatalf("negative line for %q", path)
				}
			}
		}
	})
}
