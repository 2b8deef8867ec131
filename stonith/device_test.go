package stonith

import (
	"context"
	"errors"
	"fmt"
	"testing"
)

func TestApplies(t *testing.T) {
	tests := []struct {
		host string
		want bool
	}{{"", true}, {"*", true}, {"node1", true}, {"NODE1", true}, {"node2", false}}
	for _, tt := range tests {
		if got := Applies(Spec{Host: tt.host, Type: "null"}, "node1"); got != tt.want {
			t.Errorf("Applies(%q) = %v", tt.host, got)
		}
	}
}

func TestNewDispatch(t *testing.T) {
	self := func(context.Context) error { return nil }
	tests := []struct {
		spec Spec
		want string // %T of the device, or "" for an error
	}{
		{Spec{Host: "*", Type: "null", Params: "a"}, "*stonith.Null"},
		{Spec{Host: "node1", Type: "meatware", Params: "node2"}, "*stonith.Meatware"},
		{Spec{Host: "*", Type: "suicide"}, "*stonith.Suicide"},
		{Spec{Host: "node2", Type: "null", Params: "a"}, ""},
		{Spec{Host: "*", Type: "-x"}, ""},
		{Spec{Host: "*", Type: ""}, ""},
		{Spec{Host: "*", Type: "external/x", Params: "a"}, ""}, // no such plugin in the empty dir
	}
	for _, tt := range tests {
		d, err := New(tt.spec, "node1", Options{SelfFence: self, PluginDir: t.TempDir()})
		got := ""
		if err == nil {
			got = fmt.Sprintf("%T", d)
		} else if ResultOf(err) != BadConfig {
			t.Errorf("%+v: error %v is not BadConfig", tt.spec, err)
		}
		if got != tt.want {
			t.Errorf("%+v: got %q (%v), want %q", tt.spec, got, err, tt.want)
		}
	}
}

func TestResult(t *testing.T) {
	tests := []struct {
		err  error
		want Result
	}{
		{nil, OK},
		{newError("d", "reset", "n", BadHost, nil), BadHost},
		{fmt.Errorf("wrapped: %w", newError("d", "reset", "n", IsOff, nil)), IsOff},
		{errors.Join(errors.New("x"), newError("d", "reset", "n", Access, nil)), Access},
		{context.DeadlineExceeded, Timeout},
		{errors.New("other"), Oops},
		{ResetFail, ResetFail},
		{newError("d", "reset", "n", OK, nil), Oops}, // an Error never carries OK
	}
	for _, tt := range tests {
		if got := ResultOf(tt.err); got != tt.want {
			t.Errorf("ResultOf(%v) = %v, want %v", tt.err, got, tt.want)
		}
	}
	if BadHost.String() != "S_BADHOST" || Result(42).String() != "S_42" || Oops.String() != "S_OOPS" {
		t.Error("String")
	}
	e := newError("external/ssh", "reset", "node2", ResetFail, errors.New("exit status 1"))
	if got := e.Error(); got != "stonith external/ssh reset node2: S_RESETFAIL: exit status 1" {
		t.Errorf("Error() = %q", got)
	}
	if !errors.Is(e, ResetFail) || errors.Is(e, BadHost) {
		t.Error("errors.Is on Result")
	}
	for r := OK; r <= Oops; r++ {
		if resultFromExit(int(r)) != r {
			t.Errorf("resultFromExit(%d)", r)
		}
	}
	for _, c := range []int{-1, 9, 255} {
		if resultFromExit(c) != Oops {
			t.Errorf("resultFromExit(%d) != Oops", c)
		}
	}
}
