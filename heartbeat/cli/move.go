package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"path/filepath"
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

// moveWait bounds how long hb_standby/hb_takeover (and hactl standby and
// takeover) wait for the groups to move; the daemon gives up earlier and
// says why.
const moveWait = 150 * time.Second

// moveWords are the words hb_standby and hb_takeover accept; both default
// to all.
var moveWords = []string{"all", "foreign", "local", "failback"}

func isMoveWord(w string) bool {
	for _, m := range moveWords {
		if w == m {
			return true
		}
	}
	return false
}

// HBStandby is hb_standby [all|foreign|local|failback]: move groups away
// from this node. prog is argv[0], which Heartbeat's script prints ($0) in
// its complaints. Heartbeat's words, streams and exit codes (see moveCmd);
// unlike Heartbeat's, it waits for the move and exits 1 if it was not done.
func HBStandby(ctx context.Context, prog string, args []string, stdout, stderr io.Writer, m Mover) int {
	return moveCmd(ctx, orName(prog, "hb_standby"), api.CmdStandby, args, stdout, stderr, m)
}

// HBTakeover is hb_takeover [all|foreign|local|failback]: ask the peer to
// hand groups over to this node; see HBStandby.
func HBTakeover(ctx context.Context, prog string, args []string, stdout, stderr io.Writer, m Mover) int {
	return moveCmd(ctx, orName(prog, "hb_takeover"), api.CmdTakeover, args, stdout, stderr, m)
}

func orName(prog, name string) string {
	if prog == "" {
		return name
	}
	return prog
}

// moveCmd is Heartbeat 3.0.6's hb_standby and hb_takeover scripts, word for
// word and stream for stream, plus our --run-dir option and the wait:
//
//   - a good word: nothing on stdout; hb_standby logs "Going standby
//     [<word>]." on stderr (failback logged as foreign), hb_takeover
//     nothing; then we add "Done in <d>: this node now holds <x>
//     resources." on stderr and exit 0, or say why not and exit 1;
//   - two or more words: "<prog>: too many arguments" and "usage:" on
//     stdout, "<prog> [all|foreign|local|failback]" on stderr, exit 1;
//   - an unknown word: "<prog>: wrong resources(<word>)." then the same
//     usage, exit 1; --help: the usage alone, exit 1.
func moveCmd(ctx context.Context, prog, cmd string, args []string, stdout, stderr io.Writer, m Mover) int {
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
	usage := func() int {
		fmt.Fprintln(stdout, "usage:")
		fmt.Fprintf(stderr, "%s [%s]\n", prog, strings.Join(moveWords, "|"))
		return 1
	}
	which := "all"
	switch {
	case len(rest) > 1:
		fmt.Fprintf(stdout, "%s: too many arguments\n", prog)
		return usage()
	case len(rest) == 1:
		which = rest[0]
	}
	switch {
	case which == "--help":
		return usage()
	case !isMoveWord(which):
		fmt.Fprintf(stdout, "%s: wrong resources(%s).\n", prog, which)
		return usage()
	}
	if cmd == api.CmdStandby {
		logged := which
		if logged == "failback" {
			logged = "foreign"
		}
		fmt.Fprintf(stderr, "Going standby [%s].\n", logged)
	}
	runDir = control.DefaultRunDir(runDir)
	res, err := move(ctx, m, runDir, cmd, which, moveWait)
	if err != nil {
		fmt.Fprintf(stderr, "%s: %s\n", filepath.Base(prog), moveError(err, runDir, moveWait))
		return 1
	}
	fmt.Fprintf(stderr, "Done in %s: this node now holds %s resources.\n", res.Took, res.Holding)
	return 0
}

// move asks the daemon for a standby or takeover and waits for its answer,
// at most wait.
func move(ctx context.Context, m Mover, runDir, cmd, which string, wait time.Duration) (*api.Move, error) {
	ctx, cancel := context.WithTimeout(ctx, wait)
	defer cancel()
	return within(ctx, func(ctx context.Context) (*api.Move, error) { return m.Move(ctx, runDir, cmd, which) })
}

// moveError words a failed move for the operator.
func moveError(err error, runDir string, wait time.Duration) string {
	switch {
	case errors.Is(err, control.ErrNotRunning):
		return fmt.Sprintf("heartbeat is not running (no control socket in %s)", runDir)
	case errors.Is(err, errNoAnswer) && errors.Is(err, context.DeadlineExceeded):
		return fmt.Sprintf("no answer from heartbeat in %s within %v", runDir, wait)
	}
	return err.Error()
}
