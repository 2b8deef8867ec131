package cli

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"runtime"
	"strings"
	"time"

	"github.com/hasuite/hasuite/heartbeat/api"
	"github.com/hasuite/hasuite/heartbeat/control"
)

// hactl exit codes.
const (
	HactlOK    = 0
	HactlFail  = 1 // heartbeat not running, or the request failed
	HactlUsage = 2 // bad command line
)

// HactlCmd runs hactl, the suite's own CLI.
type HactlCmd struct {
	Stdout, Stderr io.Writer
	Daemon         Daemon
}

// Hactl runs hactl with args (os.Args[1:]) and returns its exit code.
func Hactl(ctx context.Context, args []string, stdout, stderr io.Writer, d Daemon) int {
	h := &HactlCmd{Stdout: stdout, Stderr: stderr, Daemon: d}
	return h.Run(ctx, args)
}

// hactlCommand is one entry of the command table. New sub-commands are
// added here and get help and dispatch for free.
type hactlCommand struct {
	name    string
	usage   string // arguments after the name
	summary string
	detail  string // options and notes for "hactl help <command>"
	run     func(r *hactlRun, args []string) int
}

// hactlCommands is a function, not a variable, because "help" walks the
// table it is part of.
func hactlCommands() []hactlCommand {
	return []hactlCommand{
		{"status", "[--json]", "show the cluster as this node sees it",
			"  --json  print the daemon's whole status as indented JSON; its field names are stable\n", hactlStatus},
		{"standby", "[WHICH]", "move resource groups away from this node (hb_standby)",
			fmt.Sprintf(moveDetail, moveWait), hactlStandby},
		{"takeover", "[WHICH]", "have the peer hand resource groups to this node (hb_takeover)",
			fmt.Sprintf(moveDetail, moveWait), hactlTakeover},
		{"fence-confirm", "NODE", "confirm that NODE was reset by hand (meatware STONITH)",
			"  Only after you have really powered NODE off or reset it: its resources are then taken over.\n", hactlFenceConfirm},
		hactlCheckCommand(),
		{"cleanup", "GROUP", "clear a resource group's failures on this node", cleanupDetail, hactlCleanup},
		{"events", "[--json]", "print the daemon's events as they happen", eventsDetail, hactlEvents},
		hactlImportCommand(),
		hactlExportCommand(),
		{"version", "", "print the version", "", hactlVersion},
		{"help", "[command]", "show this help, or a command's", "", hactlHelp},
	}
}

func findHactlCommand(name string) *hactlCommand {
	for _, c := range hactlCommands() {
		if c.name == name {
			return &c
		}
	}
	return nil
}

// hactlGlobals are the options every command accepts, before or after its
// name.
type hactlGlobals struct {
	runDir  string
	timeout time.Duration
	// timeoutSet: --timeout was given (standby and takeover have a
	// longer default).
	timeoutSet bool
}

func (g *hactlGlobals) register(fs *flag.FlagSet) {
	fs.StringVar(&g.runDir, "run-dir", g.runDir, "the daemon's run directory")
	fs.Var(timeoutFlag{g}, "timeout", "how long to wait for the daemon")
}

// timeoutFlag is --timeout: a duration that records it was given.
type timeoutFlag struct{ g *hactlGlobals }

func (f timeoutFlag) String() string {
	if f.g == nil {
		return ""
	}
	return f.g.timeout.String()
}

func (f timeoutFlag) Set(s string) error {
	d, err := time.ParseDuration(s)
	if err != nil {
		return errors.New("parse error")
	}
	f.g.timeout, f.g.timeoutSet = d, true
	return nil
}

// hactlRun is one invocation after the global options.
type hactlRun struct {
	h   *HactlCmd
	ctx context.Context
	g   hactlGlobals
}

// Run executes hactl with args (without the program name).
func (h *HactlCmd) Run(ctx context.Context, args []string) int {
	r := &hactlRun{h: h, ctx: ctx, g: hactlGlobals{timeout: api.DefaultTimeout}}
	fs := r.flagSet("hactl")
	if code, ok := r.parse(fs, args, ""); !ok {
		return code
	}
	if fs.NArg() == 0 {
		r.usage(h.Stderr)
		return HactlUsage
	}
	c := findHactlCommand(fs.Arg(0))
	if c == nil {
		fmt.Fprintf(h.Stderr, "hactl: unknown command %q\nRun 'hactl help' for usage.\n", fs.Arg(0))
		return HactlUsage
	}
	return c.run(r, fs.Args()[1:])
}

// flagSet returns a flag set with the global options, whose errors go to
// stderr and whose -h is left to parse.
func (r *hactlRun) flagSet(name string) *flag.FlagSet {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(r.h.Stderr)
	fs.Usage = func() {}
	r.g.register(fs)
	return fs
}

// parse parses args into fs. ok is false when the command must end with
// code: -h prints help on stdout (exit 0); a bad option is a usage error.
// command is "" for the global level.
func (r *hactlRun) parse(fs *flag.FlagSet, args []string, command string) (code int, ok bool) {
	err := fs.Parse(args)
	switch {
	case err == nil:
	case errors.Is(err, flag.ErrHelp):
		if command == "" {
			r.usage(r.h.Stdout)
		} else {
			r.commandUsage(r.h.Stdout, findHactlCommand(command))
		}
		return HactlOK, false
	default:
		// flag has printed the error itself.
		fmt.Fprintln(r.h.Stderr, "Run 'hactl help' for usage.")
		return HactlUsage, false
	}
	if r.g.timeout <= 0 {
		fmt.Fprintf(r.h.Stderr, "hactl: --timeout must be positive, not %v\n", r.g.timeout)
		return HactlUsage, false
	}
	return 0, true
}

func (r *hactlRun) usage(w io.Writer) {
	var b strings.Builder
	b.WriteString("Usage: hactl [--run-dir DIR] [--timeout D] <command> [arguments]\n\nCommands:\n")
	cmds := hactlCommands()
	width := 0
	for _, c := range cmds {
		width = max(width, len(strings.TrimSpace(c.name+" "+c.usage)))
	}
	for _, c := range cmds {
		fmt.Fprintf(&b, "  %-*s  %s\n", width, strings.TrimSpace(c.name+" "+c.usage), c.summary)
	}
	fmt.Fprintf(&b, `
Options (also accepted after the command):
  --run-dir DIR  the daemon's run directory (default $%s, else %s)
  --timeout D    how long to wait for the daemon (default %v; standby and takeover: %v)

Exit status: 0 ok, 1 heartbeat not running or the request failed, 2 usage error.
`, control.RunDirEnv, control.DefaultRunDirPath, api.DefaultTimeout, moveWait)
	_, _ = io.WriteString(w, b.String())
}

func (r *hactlRun) commandUsage(w io.Writer, c *hactlCommand) {
	fmt.Fprintf(w, "Usage: hactl %s\n\n%s.\n", strings.TrimSpace(c.name+" "+c.usage), strings.ToUpper(c.summary[:1])+c.summary[1:])
	if c.detail != "" {
		fmt.Fprintf(w, "\n%s", c.detail)
	}
}

// noArgs rejects operands for commands that take none.
func (r *hactlRun) noArgs(fs *flag.FlagSet) bool {
	if fs.NArg() > 0 {
		fmt.Fprintf(r.h.Stderr, "%s: unexpected argument %q\nRun 'hactl help' for usage.\n", fs.Name(), fs.Arg(0))
		return false
	}
	return true
}

// daemonError reports a failed request and returns the exit code.
func (r *hactlRun) daemonError(what string, err error) int {
	runDir := control.DefaultRunDir(r.g.runDir)
	switch {
	case errors.Is(err, control.ErrNotRunning):
		fmt.Fprintf(r.h.Stderr, "heartbeat is not running (no control socket in %s)\n", runDir)
	case errors.Is(err, errNoAnswer) && errors.Is(err, context.DeadlineExceeded):
		fmt.Fprintf(r.h.Stderr, "hactl: %s: no answer from heartbeat in %s within %v\n", what, runDir, r.g.timeout)
	default:
		fmt.Fprintf(r.h.Stderr, "hactl: %s: %v\n", what, err)
	}
	return HactlFail
}

func hactlStatus(r *hactlRun, args []string) int {
	fs := r.flagSet("hactl status")
	jsonOut := fs.Bool("json", false, "print the full status as JSON")
	if code, ok := r.parse(fs, args, "status"); !ok {
		return code
	}
	if !r.noArgs(fs) {
		return HactlUsage
	}
	ctx, cancel := context.WithTimeout(r.ctx, r.g.timeout)
	defer cancel()
	runDir := control.DefaultRunDir(r.g.runDir)
	st, err := within(ctx, func(ctx context.Context) (*api.Status, error) { return r.h.Daemon.Status(ctx, runDir) })
	if err != nil {
		return r.daemonError("status", err)
	}
	if *jsonOut {
		err = WriteStatusJSON(r.h.Stdout, st)
	} else {
		err = WriteStatus(r.h.Stdout, st)
	}
	if err != nil {
		fmt.Fprintf(r.h.Stderr, "hactl: status: write output: %v\n", err)
		return HactlFail
	}
	return HactlOK
}

func hactlVersion(r *hactlRun, args []string) int {
	fs := r.flagSet("hactl version")
	if code, ok := r.parse(fs, args, "version"); !ok {
		return code
	}
	if !r.noArgs(fs) {
		return HactlUsage
	}
	fmt.Fprintf(r.h.Stdout, "hactl %s (Heartbeat %s compatible, %s)\n", api.Version, api.HeartbeatVersion, runtime.Version())
	return HactlOK
}

func hactlHelp(r *hactlRun, args []string) int {
	fs := r.flagSet("hactl help")
	if code, ok := r.parse(fs, args, "help"); !ok {
		return code
	}
	switch fs.NArg() {
	case 0:
		r.usage(r.h.Stdout)
		return HactlOK
	case 1:
		c := findHactlCommand(fs.Arg(0))
		if c == nil {
			fmt.Fprintf(r.h.Stderr, "hactl help: unknown command %q\n", fs.Arg(0))
			return HactlUsage
		}
		r.commandUsage(r.h.Stdout, c)
		return HactlOK
	}
	fmt.Fprintln(r.h.Stderr, "hactl help: at most one command")
	return HactlUsage
}

// FenceConfirmer is the daemon call behind hactl fence-confirm.
type FenceConfirmer interface {
	FenceConfirm(ctx context.Context, runDir, node string) error
}

// FenceConfirm implements FenceConfirmer.
func (APIClient) FenceConfirm(ctx context.Context, runDir, node string) error {
	return api.Call(ctx, runDir, api.CmdFenceConfirm, nil, node)
}

func hactlFenceConfirm(r *hactlRun, args []string) int {
	node, _, code, ok := oneOperand(r, args, "fence-confirm", "NODE",
		func(fc FenceConfirmer, ctx context.Context, runDir, node string) (struct{}, error) {
			return struct{}{}, fc.FenceConfirm(ctx, runDir, node)
		})
	if !ok {
		return code
	}
	fmt.Fprintf(r.h.Stdout, "confirmed: %s was reset by hand\n", node)
	return HactlOK
}

// oneOperand runs a command that takes one operand (named in its usage)
// and asks the daemon through the capability D of the client: the
// options, the operand, the capability, the call within --timeout and the
// daemon's errors. ok is false when the command ends with code.
func oneOperand[D, T any](r *hactlRun, args []string, name, operand string,
	call func(d D, ctx context.Context, runDir, arg string) (T, error)) (arg string, v T, code int, ok bool) {
	fs := r.flagSet("hactl " + name)
	if code, ok := r.parse(fs, args, name); !ok {
		return "", v, code, false
	}
	if fs.NArg() != 1 {
		fmt.Fprintf(r.h.Stderr, "usage: hactl %s %s\n", name, operand)
		return "", v, HactlUsage, false
	}
	d, found := r.h.Daemon.(D)
	if !found {
		fmt.Fprintf(r.h.Stderr, "hactl: %s is not available\n", name)
		return "", v, HactlFail, false
	}
	ctx, cancel := context.WithTimeout(r.ctx, r.g.timeout)
	defer cancel()
	runDir := control.DefaultRunDir(r.g.runDir)
	arg = fs.Arg(0)
	v, err := within(ctx, func(ctx context.Context) (T, error) { return call(d, ctx, runDir, arg) })
	if err != nil {
		return arg, v, r.daemonError(name, err), false
	}
	return arg, v, HactlOK, true
}
