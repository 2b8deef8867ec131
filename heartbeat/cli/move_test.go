package cli

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/hasuite/hasuite/heartbeat/api"
	"github.com/hasuite/hasuite/heartbeat/control"
)

type fakeMover struct {
	gotCmd, gotWhich, gotDir string
	res                      *api.Move
	err                      error
}

func (f *fakeMover) Move(_ context.Context, runDir, cmd, which string) (*api.Move, error) {
	f.gotDir, f.gotCmd, f.gotWhich = runDir, cmd, which
	return f.res, f.err
}

func TestMoveCommands(t *testing.T) {
	ok := &api.Move{Holding: "none", Took: "12ms"}
	tests := []struct {
		name      string
		standby   bool
		args      []string
		mover     *fakeMover
		code      int
		which     string
		out, errS string
	}{
		{"standby default all", true, nil, &fakeMover{res: ok}, 0, "all", "Going standby [all].\nDone in 12ms: this node now holds none resources.\n", ""},
		{"standby failback", true, []string{"failback"}, &fakeMover{res: ok}, 0, "failback", "Going standby [failback].", ""},
		{"takeover local", false, []string{"local", "--run-dir", "/x"}, &fakeMover{res: ok}, 0, "local", "Taking over [local].", ""},
		{"bad word", true, []string{"everything"}, &fakeMover{}, 1, "", "", "usage: hb_standby [all|foreign|local|failback]"},
		{"two words", false, []string{"all", "local"}, &fakeMover{}, 1, "", "", "usage: hb_takeover"},
		{"refused", true, nil, &fakeMover{err: errors.New("standby: the peer node2 is not up")}, 1, "all", "", "the peer node2 is not up"},
		{"not running", true, nil, &fakeMover{err: fmt.Errorf("x: %w", control.ErrNotRunning)}, 1, "all", "", "heartbeat is not running"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var out, errb bytes.Buffer
			f := HBTakeover
			if tt.standby {
				f = HBStandby
			}
			code := f(context.Background(), tt.args, &out, &errb, tt.mover)
			if code != tt.code || tt.mover.gotWhich != tt.which {
				t.Fatalf("code %d which %q, want %d %q (stderr %s)", code, tt.mover.gotWhich, tt.code, tt.which, errb.String())
			}
			if !strings.Contains(out.String(), tt.out) || !strings.Contains(errb.String(), tt.errS) {
				t.Fatalf("stdout %q stderr %q", out.String(), errb.String())
			}
		})
	}
}
