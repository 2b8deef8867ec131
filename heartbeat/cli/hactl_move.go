package cli

import (
	"encoding/json"
	"fmt"

	"github.com/hasuite/hasuite/heartbeat/api"
	"github.com/hasuite/hasuite/heartbeat/control"
)

// moveDetail is the help text of hactl standby and takeover.
const moveDetail = `  WHICH, in this node's terms (as hb_standby and hb_takeover take it):
    all       every group (the default)
    local     the groups whose haresources line names this node
    foreign   the others
    failback  standby: foreign (give the peer its groups back);
              takeover: local (take back the groups preferred here)

  --json  print the outcome as JSON: command, which, holding, took

  Waits until the groups have moved (at most --timeout, default %v), then
  prints what this node holds; exit 1 if the move could not be done (no
  daemon, the peer down or in transition, legacy auto_failback).
`

// MoveResult is what "hactl standby|takeover --json" prints: the request
// and the daemon's answer. Its field names are stable.
type MoveResult struct {
	Command string `json:"command"` // standby or takeover
	Which   string `json:"which"`   // all, foreign, local or failback, as asked
	api.Move
}

func hactlStandby(r *hactlRun, args []string) int  { return r.move("standby", api.CmdStandby, args) }
func hactlTakeover(r *hactlRun, args []string) int { return r.move("takeover", api.CmdTakeover, args) }

// move runs hactl standby or takeover: the same request as hb_standby and
// hb_takeover, with hactl's conventions (result on stdout, usage errors
// exit 2).
func (r *hactlRun) move(name, cmd string, args []string) int {
	fs := r.flagSet("hactl " + name)
	jsonOut := fs.Bool("json", false, "print the outcome as JSON")
	// Options may follow the word too: "hactl standby local --json".
	var ops []string
	for {
		if code, ok := r.parse(fs, args, name); !ok {
			return code
		}
		if fs.NArg() == 0 {
			break
		}
		ops, args = append(ops, fs.Arg(0)), fs.Args()[1:]
	}
	which := "all"
	switch len(ops) {
	case 0:
	case 1:
		which = ops[0]
	default:
		fmt.Fprintf(r.h.Stderr, "hactl %s: too many arguments\nRun 'hactl help %s' for usage.\n", name, name)
		return HactlUsage
	}
	if !isMoveWord(which) {
		fmt.Fprintf(r.h.Stderr, "hactl %s: wrong resources(%s): want all, foreign, local or failback\n", name, which)
		return HactlUsage
	}
	m, ok := r.h.Daemon.(Mover)
	if !ok {
		fmt.Fprintf(r.h.Stderr, "hactl: %s is not available\n", name)
		return HactlFail
	}
	if !r.g.timeoutSet {
		r.g.timeout = moveWait
	}
	res, err := move(r.ctx, m, control.DefaultRunDir(r.g.runDir), cmd, which, r.g.timeout)
	if err != nil {
		return r.daemonError(name, err)
	}
	if *jsonOut {
		b, err := json.MarshalIndent(MoveResult{Command: name, Which: which, Move: *res}, "", "  ")
		if err == nil {
			_, err = r.h.Stdout.Write(append(b, '\n'))
		}
		if err != nil {
			fmt.Fprintf(r.h.Stderr, "hactl: %s: write output: %v\n", name, err)
			return HactlFail
		}
		return HactlOK
	}
	fmt.Fprintf(r.h.Stdout, "Done in %s: this node now holds %s resources.\n", res.Took, res.Holding)
	return HactlOK
}
