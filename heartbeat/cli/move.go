package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/hasuite/hasuite/heartbeat/api"
	"github.com/hasuite/hasuite/heartbeat/control"
)

// Mover asks the daemon to move groups; tests pass fakes.
type Mover interface {
	Move(ctx context.Context, runDir, cmd, which string) (*api.Move, error)
}

// Move implements Mover with the control socket.
func (APIClient) Move(ctx context.Context, runDir, cmd, which string) (*api.Move, error) {
	var m api.Move
	if err := api.Call(ctx, runDir, cmd, &m, which); err != nil {
		return nil, err
	}
	return &m, nil
}

// moveWait bounds how long hb_standby/hb_takeover wait for the groups to
// move; the daemon gives up earlier and says why.
const moveWait = 150 * time.Second

// HBStandby is hb_standby [all|foreign|local|failback]: move groups away
// from this node. Heartbeat's words and exit codes: usage errors exit 1.
// Unlike Heartbeat's, it waits for the move and reports what happened.
func HBStandby(ctx context.Context, args []string, stdout, stderr io.Writer, m Mover) int {
	return moveCmd(ctx, "hb_standby", api.CmdStandby, args, stdout, stderr, m)
}

// HBTakeover is hb_takeover [all|foreign|local|failback]: ask the peer to
// hand groups over to this node.
func HBTakeover(ctx context.Context, args []string, stdout, stderr io.Writer, m Mover) int {
	return moveCmd(ctx, "hb_takeover", api.CmdTakeover, args, stdout, stderr, m)
}

func moveCmd(ctx context.Context, name, cmd string, args []string, stdout, stderr io.Writer, m Mover) int {
	runDir := ""
	var rest []string
	for i := 0; i < len(args); i++ {
		switch a := args[i]; {
		case a == "--run-dir" && i+1 < len(args):
			runDir = args[i+1]
			i++
		case strings.HasPrefix(a, "--run-dir="):
			runDir = strings.TrimPrefix(a, "--run-dir=")
		default:
			rest = append(rest, a)
		}
	}
	which := "all"
	switch {
	case len(rest) > 1:
		fmt.Fprintf(stderr, "usage: %s [all|foreign|local|failback]\n", name)
		return 1
	case len(rest) == 1:
		which = rest[0]
	}
	switch which {
	case "all", "foreign", "local", "failback":
	default:
		fmt.Fprintf(stderr, "usage: %s [all|foreign|local|failback]\n", name)
		return 1
	}
	runDir = control.DefaultRunDir(runDir)
	ctx, cancel := context.WithTimeout(ctx, moveWait)
	defer cancel()
	verb := "Going standby"
	if cmd == api.CmdTakeover {
		verb = "Taking over"
	}
	fmt.Fprintf(stdout, "%s [%s].\n", verb, which)
	res, err := m.Move(ctx, runDir, cmd, which)
	if err != nil {
		if errors.Is(err, control.ErrNotRunning) {
			fmt.Fprintf(stderr, "%s: heartbeat is not running (no control socket in %s)\n", name, runDir)
		} else {
			fmt.Fprintf(stderr, "%s: %v\n", name, err)
		}
		return 1
	}
	fmt.Fprintf(stdout, "Done in %s: this node now holds %s resources.\n", res.Took, res.Holding)
	return 0
}
