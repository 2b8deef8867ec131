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
