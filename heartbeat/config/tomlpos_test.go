package config

import "testing"

func TestLocateTOML(t *testing.T) {
	const src = `# comment
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
`
	l := locateTOML(src)
	tests := []struct {
		path string
		line int
	}{
		{"top", 2},
		{"quoted key", 3},
		{"multi", 4},
		{"not", 0},
		{"arr", 7},
		{"arr[0]", 9},
		{"arr[1]", 10},
		{"arr[1].inner", 10},
		{"auth", 12},
		{"auth.current", 13},
		{"auth.keys[1]", 14},
		{"auth.keys[1].index", 14},
		{"media[0]", 15},
		{"media[0].kind", 16},
		{"media[1].kind", 18},
		{"media[1].dotted.key", 19},
		{"media[1].sub.x", 21},
		{"media[7].kind", 0},
		{"nothing", 0},
	}
	for _, tc := range tests {
		if got := l.line(tc.path); got != tc.line {
			t.Errorf("line(%q) = %d, want %d", tc.path, got, tc.line)
		}
	}
	if got := l.plainLine("media.kind"); got != 16 {
		t.Errorf("plainLine(media.kind) = %d, want 16", got)
	}
	if got := l.plainLine("media.unknown"); got != 15 {
		t.Errorf("plainLine(media.unknown) = %d, want 15 (the table)", got)
	}
}
