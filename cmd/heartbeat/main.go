// Command heartbeat is the cluster daemon, with Heartbeat 3.0.6's flags.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"runtime"
	"runtime/debug"
	"runtime/pprof"
	"strconv"
	"syscall"
	"time"

	"github.com/hasuite/hasuite/heartbeat/api"
	"github.com/hasuite/hasuite/heartbeat/cli"
	"github.com/hasuite/hasuite/heartbeat/config"
	"github.com/hasuite/hasuite/heartbeat/control"
	"github.com/hasuite/hasuite/heartbeat/daemon"
)

// Exit codes: 6 is LSB's "not configured", used by Heartbeat for config errors.
const (
	exitOK     = 0
	exitFail   = 1
	exitUsage  = 2
	exitConfig = 6
)

type counter int

func (c *counter) String() string   { return strconv.Itoa(int(*c)) }
func (c *counter) Set(string) error { *c++; return nil }
func (c *counter) IsBoolFlag() bool { return true }

func main() { os.Exit(run(os.Args[1:])) }

func run(args []string) int {
	fs := flag.NewFlagSet("heartbeat", flag.ContinueOnError)
	var debug counter
	var (
		foreground = fs.Bool("f", false, "stay in the foreground (always the case; accepted for compatibility)")
		kill       = fs.Bool("k", false, "stop the running daemon gracefully and wait for it to exit")
		reload     = fs.Bool("r", false, "tell the running daemon to reload its configuration")
		status     = fs.Bool("s", false, "print the daemon's status (exit 0 running, 3 stopped, 1 stopped with its pid file left)")
		defaults   = fs.Bool("D", false, "print the default configuration values")
		version    = fs.Bool("V", false, "print the version")
		check      = fs.Bool("t", false, "check the configuration, print the effective values or the errors")
		confDir    = fs.String("c", config.DefaultDir, "configuration directory")
		nodeName   = fs.String("n", "", "local node name (default: nodeinfo, else lower-cased uname -n)")
		runDir     = fs.String("run-dir", "", "directory of the pid file and control socket (default $HA_RUNDIR or "+daemon.DefaultRunDir+")")
		stateDir   = fs.String("state-dir", daemon.DefaultStateDir, "directory of the generation, uuid and peer marks")
		stopWait   = fs.Duration("stop-timeout", 60*time.Second, "how long -k waits for the daemon to exit")
	)
	fs.Var(&debug, "d", "raise the debug level (repeatable)")
	if err := fs.Parse(args); err != nil {
		return exitUsage
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(os.Stderr, "heartbeat: unexpected argument %q\n", fs.Arg(0))
		return exitUsage
	}
	_ = foreground
	rd := control.DefaultRunDir(*runDir)
	opts := daemon.Options{ConfigDir: *confDir, NodeName: *nodeName, RunDir: rd, StateDir: *stateDir, Debug: int(debug)}
	switch {
	case *version:
		fmt.Printf("%s (hasuite %s)\n", api.HeartbeatVersion, api.Version)
		return exitOK
	case *defaults:
		fmt.Print(config.Defaults().Effective())
		return exitOK
	case *check:
		return checkConfig(opts)
	case *status:
		return cli.HeartbeatStatus(context.Background(), rd, os.Stdout, cli.APIClient{}, func() cli.PidFile { return cli.ReadPidFile(rd) })
	case *kill:
		return stop(rd, *stopWait)
	case *reload:
		return reloadDaemon(rd)
	}
	if path := os.Getenv("HASUITE_CPUPROFILE"); path != "" {
		// For developers measuring the daemon's own cost (docs/benchmarks.md).
		if f, err := os.Create(path); err == nil {
			if pprof.StartCPUProfile(f) == nil {
				defer pprof.StopCPUProfile()
			}
		}
	}
	tuneRuntime()
	err := daemon.Run(context.Background(), opts)
	switch {
	case err == nil:
		return exitOK
	case errors.Is(err, daemon.ErrConfig):
		fmt.Fprintln(os.Stderr, "heartbeat:", err)
		fmt.Fprintln(os.Stderr, "Configuration error, heartbeat not started.")
		return exitConfig
	default:
		fmt.Fprintln(os.Stderr, "heartbeat:", err)
		return exitFail
	}
}

func checkConfig(o daemon.Options) int {
	cfg, warns, err := daemon.LoadConfig(o)
	for _, w := range warns {
		fmt.Fprintln(os.Stderr, "warning:", w.Error())
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return exitConfig
	}
	groups, err := daemon.CheckResources(cfg)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return exitConfig
	}
	fmt.Print(cfg.Effective())
	fmt.Printf("# haresources: %d group(s)\n", len(groups))
	for _, g := range groups {
		fmt.Printf("#   %s\n", g)
	}
	for _, l := range daemon.MonitorSummary(cfg, groups) {
		fmt.Printf("# %s\n", l)
	}
	fmt.Fprintln(os.Stderr, "configuration OK")
	return exitOK
}

func stop(runDir string, wait time.Duration) int {
	pid, alive := control.ReadPid(runDir)
	ctx, cancel := context.WithTimeout(context.Background(), api.DefaultTimeout)
	defer cancel()
	if err := api.Call(ctx, runDir, api.CmdStop, nil); err != nil {
		if errors.Is(err, control.ErrNotRunning) {
			fmt.Fprintln(os.Stderr, "heartbeat: not running")
			return exitOK
		}
		fmt.Fprintln(os.Stderr, "heartbeat: stop:", err)
		return exitFail
	}
	if !alive {
		return exitOK
	}
	deadline := time.Now().Add(wait)
	for time.Now().Before(deadline) {
		if _, still := control.ReadPid(runDir); !still {
			return exitOK
		}
		if err := syscall.Kill(pid, 0); err != nil {
			return exitOK
		}
		time.Sleep(20 * time.Millisecond)
	}
	fmt.Fprintf(os.Stderr, "heartbeat: pid %d still running after %v\n", pid, wait)
	return exitFail
}

func reloadDaemon(runDir string) int {
	ctx, cancel := context.WithTimeout(context.Background(), api.DefaultTimeout)
	defer cancel()
	if err := api.Call(ctx, runDir, api.CmdReload, nil); err != nil {
		fmt.Fprintln(os.Stderr, "heartbeat: reload:", err)
		return exitFail
	}
	return exitOK
}

// tuneRuntime sets the Go runtime up for a small daemon that must stay
// cheap while idle; explicit GOMAXPROCS or GOGC settings in the
// environment still win.
func tuneRuntime() {
	// At most two processors. Not one: the loop must never wait behind
	// another goroutine's burst of work (a runner adding 100 VIPs, a
	// burst of log lines) until the scheduler preempts it, 10-20 ms, a
	// late heartbeat at keepalive 10ms. Not more: the daemon is one loop
	// plus goroutines that mostly wait, and every idle P is a thread the
	// runtime may wake to look for work.
	if os.Getenv("GOMAXPROCS") == "" && runtime.GOMAXPROCS(0) > 2 {
		runtime.GOMAXPROCS(2)
	}
	// The live heap is about 1 MiB; the default GOGC lets it grow to the
	// 4 MiB minimum between collections. Half that keeps the resident set
	// small, for a collection every second or so (docs/benchmarks.md).
	if os.Getenv("GOGC") == "" {
		debug.SetGCPercent(50)
	}
}
