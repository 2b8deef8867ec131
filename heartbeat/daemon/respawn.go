package daemon

import (
	"fmt"
	"os"
	"strconv"

	"go.uber.org/zap"

	"github.com/hasuite/hasuite/heartbeat/config"
	"github.com/hasuite/hasuite/heartbeat/respawn"
	"github.com/hasuite/hasuite/internal/childproc"
)

// checkRespawn checks the respawn and failfast lines as the daemon will
// run them: the user exists, the program is an executable file, a
// failfast line has a way to fence this node, and ipfail is refused until
// its built-in equivalent exists.
func checkRespawn(cfg *config.Config) (errs []config.Diag) {
	for _, r := range cfg.Respawn {
		bad := func(format string, a ...any) {
			errs = append(errs, config.Diag{Pos: r.Pos, Msg: fmt.Sprintf(format, a...)})
		}
		if r.IPFail() {
			bad("%s: ipfail is not supported by this version: the built-in equivalent (failover on ping node reachability) is not implemented yet, and Heartbeat's ipfail needs Heartbeat's client API, which this suite does not have; remove the line", r.Path)
			continue
		}
		if _, err := childproc.LookupCredential(r.User, ""); err != nil {
			bad("%s: %v", r.Path, err)
		}
		fi, err := os.Stat(r.Path)
		switch {
		case err != nil:
			bad("%s: %v", r.Path, err)
		case !fi.Mode().IsRegular() || fi.Mode().Perm()&0o111 == 0:
			bad("%s: not an executable file", r.Path)
		}
		if r.FailFast && len(cfg.SelfFence) == 0 && cfg.Watchdog == "" {
			bad("failfast %s: fencing this node when it dies needs self_fence or watchdog; configure one, or use respawn", r.Path)
		}
	}
	return errs
}

// respawnPrograms turns the respawn lines into programs with their
// environment: Heartbeat's HA_ variables for clients and the env lines.
func (d *Daemon) respawnPrograms() []respawn.Program {
	cfg := d.cfg
	base := []string{
		"PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
		"HA_DIR=" + cfg.Dir,
		"HA_RUNDIR=" + d.opts.RunDir, // where cl_status finds this daemon
		"HA_CURHOST=" + cfg.LocalNode,
		"HA_debug=" + strconv.Itoa(d.debug),
	}
	if cfg.LogFacility != "" {
		base = append(base, "HA_LOGFACILITY="+cfg.LogFacility)
	}
	if cfg.LogFile != "" {
		base = append(base, "HA_LOGFILE="+cfg.LogFile)
	}
	if cfg.DebugFile != "" {
		base = append(base, "HA_DEBUGLOG="+cfg.DebugFile)
	}
	base = append(base, cfg.Env...)
	var out []respawn.Program
	for _, r := range cfg.Respawn {
		out = append(out, respawn.Program{User: r.User, Path: r.Path, Args: r.Args, FailFast: r.FailFast,
			Env: append([]string(nil), base...)})
	}
	return out
}

// clientEvent logs what happened to a respawned program, in Heartbeat's
// words where it has some. It runs on the program's goroutine; a failfast
// death is posted to the loop, which fences this node.
func (d *Daemon) clientEvent(e respawn.Event) {
	name := e.Program.Name()
	f := []zap.Field{zap.String("client", name), zap.Int("pid", e.Pid)}
	switch e.Kind {
	case respawn.Started:
		if e.Runs > 0 {
			d.log.Warn("Respawning client \""+name+"\"", append(f, zap.Int("restarts", e.Runs))...)
			return
		}
		d.log.Info("Starting \""+name+"\" as user "+userOrDaemon(e.Program.User), f...)
	case respawn.Output:
		d.log.Info("client \""+name+"\": "+e.Line.Text, zap.String("client", name), zap.Stringer("stream", e.Line.Stream))
	case respawn.Exited:
		f = append(f, zap.Stringer("verdict", e.Verdict))
		switch e.Verdict {
		case respawn.Stopped:
			d.log.Info("client \""+name+"\" stopped: "+e.Exit.String(), f...)
		case respawn.Restart:
			d.log.Warn("client \""+name+"\" "+e.Exit.String(), f...)
		case respawn.NoRespawn:
			d.log.Info("client \""+name+"\" exited with return code 100: not respawned", f...)
		case respawn.TooFast:
			d.log.Error("Client \""+name+"\" respawning too fast: "+e.Exit.String()+"; not restarted", f...)
		case respawn.Fenced:
			d.log.Error("failfast client \""+name+"\" "+e.Exit.String()+": fencing this node", f...)
			d.loop.Post(d.stopFailed)
		}
	}
}

func userOrDaemon(u string) string {
	if u == "" {
		return "of the daemon"
	}
	return u
}
