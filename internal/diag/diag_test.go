package diag

import (
	"errors"
	"fmt"
	"reflect"
	"testing"
)

func TestSuggest(t *testing.T) {
	known := []string{"keepalive", "deadtime", "deadping", "warntime", "ucast", "ucast6", "mcast", "bcast", "node", "debug", "udpport"}
	cases := []struct{ in, want string }{
		{"keeplive", "keepalive"}, // the tutorial's typo: one letter missing
		{"deadtme", "deadtime"},
		{"ucats", "ucast"}, // two neighbours swapped: one edit
		{"KeepAlive", "keepalive"},
		{"keepalive", "keepalive"},
		{"nodes", "node"},
		{"ucast7", "ucast6"}, // ucast and ucast6 are both one edit away; the one of the same length wins
		{"dedaping", "deadping"},
		{"xyz", ""},
		{"n", ""}, // one letter is never "near"
		{"", ""},  // nor nothing
		{"kepalve", "keepalive"},
		{"keepalivexxxx", ""},
		{"totally_unrelated", ""},
	}
	for _, c := range cases {
		if got := Suggest(c.in, known); got != c.want {
			t.Errorf("Suggest(%q) = %q, want %q", c.in, got, c.want)
		}
	}
}

func TestDistance(t *testing.T) {
	cases := []struct {
		a, b string
		want int
	}{
		{"", "", 0}, {"a", "", 1}, {"", "ab", 2}, {"ucats", "ucast", 1}, {"keeplive", "keepalive", 1},
		{"kitten", "sitting", 3}, {"ca", "abc", 3}, {"deadtme", "deadtime", 1},
	}
	for _, c := range cases {
		if got := distance([]rune(c.a), []rune(c.b)); got != c.want {
			t.Errorf("distance(%q, %q) = %d, want %d", c.a, c.b, got, c.want)
		}
	}
}

func TestDiagAndList(t *testing.T) {
	if got := At(Pos{"ha.cf", 3}, "bad").Error(); got != "ha.cf:3: bad" {
		t.Errorf("Error() = %q", got)
	}
	if got := At(Pos{File: "ha.cf"}, "bad").Error(); got != "ha.cf: bad" {
		t.Errorf("whole-file Error() = %q", got)
	}
	if got := At(Pos{}, "bad").Error(); got != "bad" {
		t.Errorf("no-position Error() = %q", got)
	}
	l := List{At(Pos{"a", 1}, "x"), At(Pos{"b", 2}, "y")}
	if got := l.Error(); got != "a:1: x\nb:2: y" {
		t.Errorf("List.Error() = %q", got)
	}
	var d Diag
	if !errors.As(fmt.Errorf("wrapped: %w", l), &d) || d.Msg != "x" {
		t.Errorf("errors.As through a List: %v", d)
	}
}

func TestFlatten(t *testing.T) {
	sentinel := errors.New("configuration error")
	a, b, c := At(Pos{"f", 1}, "a"), At(Pos{"f", 2}, "b"), At(Pos{"g", 0}, "c")
	cases := []struct {
		name string
		err  error
		want []Diag
	}{
		{"nil", nil, nil},
		{"one", a, []Diag{a}},
		{"pointer", &b, []Diag{b}},
		{"list", List{a, b}, []Diag{a, b}},
		{"wrapped list", fmt.Errorf("%w:\n%w", sentinel, List{a, b}), []Diag{a, b}},
		{"join", errors.Join(&a, fmt.Errorf("x: %w", b), c), []Diag{a, b, c}},
		{"plain", fmt.Errorf("%w: two nodes needed", sentinel), []Diag{{Msg: "configuration error: two nodes needed"}}},
	}
	for _, c := range cases {
		if got := Flatten(c.err); !reflect.DeepEqual(got, c.want) {
			t.Errorf("%s: Flatten = %#v, want %#v", c.name, got, c.want)
		}
	}
}
