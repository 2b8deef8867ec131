package keepalived

import (
	"slices"
	"testing"
)

func TestSplitCommand(t *testing.T) {
	for _, tc := range []struct {
		in        string
		want      []string
		shell, ok bool
	}{
		{"killall -0 haproxy", []string{"killall", "-0", "haproxy"}, false, true},
		{"  /usr/bin/curl  -fsS\thttp://x/ ", []string{"/usr/bin/curl", "-fsS", "http://x/"}, false, true},
		{`/bin/sh -c 'test -e /run/x && exit 1'`, []string{"/bin/sh", "-c", "test -e /run/x && exit 1"}, false, true},
		{`/x "a b" c\ d`, []string{"/x", "a b", "c d"}, false, true},
		{`/x "a\"b"`, []string{"/x", `a"b`}, false, true},
		{"pidof nginx || exit 1", []string{"pidof", "nginx", "||", "exit", "1"}, true, true},
		{`/x "$HOME"`, []string{"/x", "$HOME"}, true, true},
		{`/x '$HOME'`, []string{"/x", "$HOME"}, false, true},
		{`/x 'a`, nil, false, false},
		{`/x "a`, nil, false, false},
		{`/x \`, nil, false, false},
		{"", nil, false, true},
	} {
		got, shell, ok := SplitCommand(tc.in)
		if ok != tc.ok || (ok && (!slices.Equal(got, tc.want) || shell != tc.shell)) {
			t.Errorf("SplitCommand(%q) = %q %v %v, want %q %v %v", tc.in, got, shell, ok, tc.want, tc.shell, tc.ok)
		}
	}
}
