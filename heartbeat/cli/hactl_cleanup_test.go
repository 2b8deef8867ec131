package cli

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/hasuite/hasuite/heartbeat/api"
)

// cleaner is a fake daemon with hactl cleanup.
type cleaner struct {
	*fakeDaemon
	asked string
	err   error
}

func (c *cleaner) Cleanup(_ context.Context, _ string, group string) (api.Group, error) {
	c.asked = group
	if c.err != nil {
		return api.Group{}, c.err
	}
	return api.Group{Key: group, State: "starting"}, nil
}

func TestHactlCleanup(t *testing.T) {
	for _, tt := range []struct {
		name      string
		args      []string
		err       error
		out, errw string
		code      int
	}{
		{name: "ok", args: []string{"cleanup", "198.18.0.100"}, out: "cleaned up 198.18.0.100: starting here\n"},
		{name: "no group", args: []string{"cleanup"}, errw: "usage: hactl cleanup GROUP\n", code: HactlUsage},
		{name: "two groups", args: []string{"cleanup", "a", "b"}, errw: "usage: hactl cleanup GROUP\n", code: HactlUsage},
		{name: "unknown group", args: []string{"cleanup", "x"}, err: errors.New(`no group "x" (hactl status lists the groups)`),
			errw: `no group "x"`, code: HactlFail},
	} {
		t.Run(tt.name, func(t *testing.T) {
			c := &cleaner{fakeDaemon: newFake(t, nil), err: tt.err}
			var out, errw strings.Builder
			code := Hactl(context.Background(), tt.args, &out, &errw, c)
			if code != tt.code || out.String() != tt.out || !strings.Contains(errw.String(), tt.errw) {
				t.Fatalf("code %d out %q err %q", code, out.String(), errw.String())
			}
		})
	}
}

func TestStatusShowsGroupFailures(t *testing.T) {
	st := twoNodes()
	st.Groups = []api.Group{
		{Key: "198.18.0.100/24/eth0", PreferredNode: "alpha", State: "running", Failures: 1,
			LastFailure: "httpd: not running", LastFailureAt: "2026-12-07T21:54:20Z"},
		{Key: "198.18.0.200/24/eth0", PreferredNode: "beta", State: "stopped", Failed: true, FailedForGood: true, Failures: 4,
			LastFailure: "restart failed: boom", LastFailureAt: "2026-12-07T21:55:00Z"},
		{Key: "198.18.0.201", PreferredNode: "beta", State: "stopped", Failed: true},
	}
	var b strings.Builder
	if err := WriteStatus(&b, st); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{
		"running, failures: 1 (last at 2026-12-07T21:54:20Z: httpd: not running)",
		"stopped (FAILED here: restarts used up; hactl cleanup 198.18.0.200/24/eth0), failures: 4 (last at 2026-12-07T21:55:00Z: restart failed: boom)",
		"stopped (last start failed here)\n",
	} {
		if !strings.Contains(b.String(), want) {
			t.Errorf("hactl status lacks %q:\n%s", want, b.String())
		}
	}
}
