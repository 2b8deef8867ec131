package daemon

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"go.uber.org/zap"
	"golang.org/x/sys/unix"

	"github.com/hasuite/hasuite/heartbeat/config"
	"github.com/hasuite/hasuite/internal/childproc"
	"github.com/hasuite/hasuite/resources/agent"
	"github.com/hasuite/hasuite/resources/agent/ipaddr"
	"github.com/hasuite/hasuite/resources/agent/mailto"
	"github.com/hasuite/hasuite/resources/agent/script"
	"github.com/hasuite/hasuite/resources/haresources"
	"github.com/hasuite/hasuite/resources/manager"
	"github.com/hasuite/hasuite/resources/runner"
)

// resourceLayer is the IO side of resource management: the groups of
// haresources and the runner of their agents. What runs where is the node
// layer's decision.
type resourceLayer struct {
	groups []haresources.Group
	run    *runner.Runner
	checks *runner.Checker
	cancel context.CancelFunc
	// checkOK is each check's last raw result ("group/index"), so that
	// only the first of a run of failures is logged.
	checkOK map[string]bool
}

// loadGroups reads haresources (or haresources.toml) next to ha.cf.
func loadGroups(dir string, nodes []string) ([]haresources.Group, error) {
	groups, err := haresources.Load(filepath.Join(dir, "haresources"), nodes)
	if err != nil {
		return nil, fmt.Errorf("%w:\n%w", ErrConfig, err)
	}
	if len(groups) > 0 && len(nodes) != 2 {
		return nil, fmt.Errorf("%w: haresources groups need a cluster of exactly two nodes (ha.cf lists %d)", ErrConfig, len(nodes))
	}
	return groups, nil
}

// CheckResources loads haresources and builds every agent without running
// anything, as the daemon does at start: for `heartbeat -t`.
func CheckResources(cfg *config.Config) ([]haresources.Group, error) {
	groups, err := loadGroups(cfg.Dir, cfg.Nodes)
	if err != nil {
		return nil, err
	}
	if _, err := buildAgents(cfg, groups, func(string, string) {}, context.Background(), nil); err != nil {
		return nil, err
	}
	if _, err := checkSpecs(groups); err != nil {
		return nil, err
	}
	return groups, nil
}

// checkSpecs resolves every [[group.check]]: its program must exist and
// be executable (a bare name is looked up in haresources.CheckPath), its
// user must exist. Errors name the check's file:line.
func checkSpecs(groups []haresources.Group) ([]runner.CheckSpec, error) {
	var specs []runner.CheckSpec
	var errs []error
	env := []string{"PATH=" + strings.Join(haresources.CheckPath, ":")}
	for _, g := range groups {
		for i, c := range g.Checks {
			path, err := resolveCheck(c.Command[0])
			if err != nil {
				errs = append(errs, config.Diag{Pos: c.Pos, Msg: fmt.Sprintf("check %s of group %s: %v", c.Name, g.Key, err)})
				continue
			}
			user, group := c.UserGroup()
			if _, err := childproc.LookupCredential(user, group); err != nil {
				errs = append(errs, config.Diag{Pos: c.Pos, Msg: fmt.Sprintf("check %s of group %s: %v", c.Name, g.Key, err)})
				continue
			}
			specs = append(specs, runner.CheckSpec{Group: g.Key, Index: i, Name: c.Name, Path: path, Args: c.Command[1:],
				Interval: c.Interval, Timeout: c.Timeout, User: user, UserGroup: group,
				Env: append(env, "HA_GROUP="+g.Key, "HA_CHECK="+c.Name)})
		}
	}
	if len(errs) > 0 {
		return nil, fmt.Errorf("%w:\n%w", ErrConfig, errors.Join(errs...))
	}
	return specs, nil
}

// resolveCheck finds a check's program: a path as given (relative paths
// are refused: the daemon runs in /), a bare name in CheckPath; it must be
// a regular file that can be executed.
func resolveCheck(prog string) (string, error) {
	cands := []string{prog}
	switch {
	case strings.HasPrefix(prog, "/"):
	case strings.Contains(prog, "/"):
		return "", fmt.Errorf("command %q: give an absolute path, or a bare name to look up in %s", prog, strings.Join(haresources.CheckPath, ":"))
	default:
		cands = nil
		for _, dir := range haresources.CheckPath {
			cands = append(cands, filepath.Join(dir, prog))
		}
	}
	var first error
	for _, p := range cands {
		st, err := os.Stat(p)
		switch {
		case err != nil:
			if first == nil {
				first = err
			}
		case !st.Mode().IsRegular():
			first = fmt.Errorf("%s is not a regular file", p)
		case unix.Access(p, unix.X_OK) != nil:
			first = fmt.Errorf("%s is not executable", p)
		default:
			return p, nil
		}
	}
	if !strings.HasPrefix(prog, "/") {
		return "", fmt.Errorf("command %q not found (or not executable) in %s", prog, strings.Join(haresources.CheckPath, ":"))
	}
	return "", first
}

// buildAgents makes an agent for every resource, so that a missing script is
// a start-up error, not a failover surprise.
func buildAgents(cfg *config.Config, groups []haresources.Group, logf agent.Logger, ctx context.Context, out mailto.Outbox) (map[string][]agent.Agent, error) {
	env := script.Env{ResourceDirs: []string{filepath.Join(cfg.Dir, "resource.d")}, Log: logf,
		ExtraEnv: []string{"HA_DIR=" + cfg.Dir}}
	agents := map[string][]agent.Agent{}
	var errs []error
	for _, g := range groups {
		for _, r := range g.Resources {
			var a agent.Agent
			var err error
			switch {
			case r.Kind == haresources.KindIP:
				a, err = ipaddr.New(*r.IP, ipaddr.Options{Log: logf, Context: ctx, GARPCount: r.Announce.Count,
					GARPInterval: r.Announce.Interval, Refresh: r.Announce.Refresh})
			case isMailTo(r):
				a, err = mailto.New(r.Args, cfg.LocalNode, out)
			default:
				a, err = script.New(r, env)
			}
			if err != nil {
				errs = append(errs, config.Diag{Pos: r.Pos, Msg: err.Error()})
				continue
			}
			agents[g.Key] = append(agents[g.Key], a)
		}
	}
	if len(errs) > 0 {
		return nil, fmt.Errorf("%w:\n%w", ErrConfig, errors.Join(errs...))
	}
	return agents, nil
}

// newResourceLayer builds the agents and the runner.
func (d *Daemon) newResourceLayer(groups []haresources.Group) (*resourceLayer, error) {
	cfg := d.cfg
	ctx, cancel := context.WithCancel(context.Background())
	rl := &resourceLayer{groups: groups, cancel: cancel}
	logf := func(res, line string) { d.log.Info(line, zap.String("resource", res)) }
	var out mailto.Outbox
	if d.notify != nil && d.notify.mail != nil {
		out = mailOutbox{d.notify.mail}
	}
	agents, err := buildAgents(cfg, groups, logf, ctx, out)
	if err != nil {
		cancel()
		return nil, err
	}
	isVIP := func(a agent.Agent) bool { _, ok := a.(*ipaddr.VIP); return ok }
	// Virtual IPs are cheap to check: one that disappears while its group
	// runs here (removed by hand, by another tool) is added back at once.
	// Scripts are asked their status before a start, as Heartbeat does: a
	// resource.d script may refuse to start twice.
	// Resource monitors (haresources.toml monitor_interval, else ha.cf's
	// monitor_interval; off unless set): findings go to the node layer.
	specs := monitorSpecs(groups, cfg.MonitorInterval)
	monitors := func(group string, idx int, _ agent.Agent) runner.MonitorSpec { return specs[group][idx] }
	// A VIP with a monitor of its own is not re-added silently.
	silentVIP := func(a agent.Agent) bool {
		if !isVIP(a) {
			return false
		}
		for key, as := range agents {
			for i, x := range as {
				if x == a {
					return specs[key][i].Interval == 0
				}
			}
		}
		return true
	}
	rl.run = runner.New(agents, runner.Options{Log: logf, MonitorInterval: time.Second, Monitor: silentVIP,
		CheckFirst: func(a agent.Agent) bool { return !isVIP(a) }, Monitors: monitors})
	checks, err := checkSpecs(groups)
	if err != nil {
		rl.run.Close()
		cancel()
		return nil, err
	}
	// Checks run on both nodes all the time, from now on.
	rl.checks = runner.StartChecks(checks)
	rl.checkOK = map[string]bool{}
	return rl, nil
}

// monitorSpecs is every resource's monitor: its own interval and timeout
// from haresources.toml, else the default interval (ha.cf
// monitor_interval; 0 = off); the timeout defaults to the resource's
// operation timeout, else the script agents' default.
func monitorSpecs(groups []haresources.Group, defInterval time.Duration) map[string][]runner.MonitorSpec {
	out := map[string][]runner.MonitorSpec{}
	for _, g := range groups {
		for _, r := range g.Resources {
			s := runner.MonitorSpec{Interval: r.MonitorInterval, Timeout: r.MonitorTimeout}
			if s.Interval == 0 {
				s.Interval = defInterval
			}
			if s.Timeout == 0 {
				s.Timeout = r.Timeout
			}
			if s.Timeout == 0 {
				s.Timeout = script.DefaultTimeout
			}
			out[g.Key] = append(out[g.Key], s)
		}
	}
	return out
}

// removeLeftovers removes every configured VIP still on this host, left by
// a crash, before any negotiation: what we hold must be what we say we hold.
func (d *Daemon) removeLeftovers() {
	var specs []haresources.IPSpec
	for _, g := range d.res.groups {
		for _, r := range g.Resources {
			if r.IP != nil {
				specs = append(specs, *r.IP)
			}
		}
	}
	if len(specs) == 0 {
		return
	}
	removed, err := ipaddr.RemoveAddrs(specs)
	for _, r := range removed {
		d.log.Warn("removed a virtual IP left behind by an earlier run", zap.String("address", r))
	}
	if err != nil {
		d.log.Warn("cannot remove leftover virtual IPs", zap.Error(err))
	}
}

func (rl *resourceLayer) close() {
	rl.checks.Close()
	rl.run.Close()
	rl.cancel()
}

// groupResult hands a runner result to the node layer.
func (d *Daemon) groupResult(r runner.Result) {
	f := []zap.Field{zap.String("group", r.Action.Group), zap.Duration("took", r.Duration)}
	if r.Err != nil {
		d.log.Error(r.Action.Kind.String()+" of group "+r.Action.Group+" failed", append(f, zap.Error(r.Err))...)
	} else {
		d.log.Info("group "+r.Action.Group+" "+map[manager.ActionKind]string{manager.Start: "started", manager.Stop: "stopped",
			manager.Restart: "restarted in place"}[r.Action.Kind], f...)
	}
	switch r.Action.Kind {
	case manager.Start:
		d.node.GroupStarted(d.now(), r.Action.Group, r.Err)
	case manager.Restart:
		d.node.GroupRestarted(d.now(), r.Action.Group, r.Err)
	default:
		d.node.GroupStopped(d.now(), r.Action.Group, r.Err)
	}
}

// resourceFailed hands a monitor's finding to the node layer, which
// decides (restart in place, or move); a resource whose status cannot be
// used is only logged.
func (d *Daemon) resourceFailed(f runner.Failure) {
	fields := []zap.Field{zap.String("group", f.Group), zap.String("resource", f.Name), zap.String("reason", f.Reason)}
	if f.Unusable {
		d.log.Error("resource not monitored: its status action cannot be used", fields...)
		return
	}
	d.log.Warn("monitor of "+f.Name+" failed: "+f.Reason, fields...)
	d.node.ResourceFailed(d.now(), f.Group, f.Resource, f.Reason)
}

// checkResult hands a check's run to the node layer, which counts fall
// and rise and decides; the first failure of a run of them is logged
// with its reason (state changes are the node layer's check-state events).
func (d *Daemon) checkResult(r runner.CheckResult) {
	key := fmt.Sprintf("%s/%d", r.Group, r.Index)
	last, seen := d.res.checkOK[key]
	d.res.checkOK[key] = r.OK
	if !r.OK && (last || !seen) {
		d.log.Warn("check "+r.Name+" of group "+r.Group+" failed: "+r.Reason,
			zap.String("group", r.Group), zap.String("check", r.Name), zap.Duration("took", r.Took))
	}
	d.node.CheckResult(d.now(), r.Group, r.Index, r.OK)
}

// monitorAlert reports a resource found gone while its group runs here.
func (d *Daemon) monitorAlert(a runner.Alert) {
	d.obs.metrics.MonitorCheck(a.Group, a.Err)
	if a.Err != nil {
		d.log.Error("resource vanished while its group runs here and could not be started again",
			zap.String("group", a.Group), zap.String("resource", a.Resource), zap.Error(a.Err))
		return
	}
	d.log.Error("resource vanished while its group runs here (removed behind our back): started again",
		zap.String("group", a.Group), zap.String("resource", a.Resource))
}

// stopFailed: a resource may still run here after its stop failed. The
// peer must never start a second copy, so this node fences itself: with
// self_fence, else by letting the watchdog reset it; with neither it stays
// in a clear fatal state, heartbeating so the peer does not take over.
func (d *Daemon) stopFailed() {
	if d.selfFencing {
		return
	}
	switch {
	case len(d.cfg.SelfFence) > 0:
		d.selfFencing = true
		go func() {
			ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
			defer cancel()
			if err := d.selfFence(ctx); err != nil {
				d.log.Error("self-fencing failed", zap.Error(err))
			}
		}()
	case d.abandonWatchdog():
		d.selfFencing = true
	default:
		d.log.Error("a resource could not be stopped: it may still run here, so this node keeps its heartbeat going " +
			"and the peer will not take it over (no self_fence or watchdog configured); stop it by hand, then run heartbeat -k again")
	}
}

// MonitorSummary is what heartbeat -t says about resource monitoring:
// each monitored resource with its interval and timeout, each group's
// restarts, or, when nothing is monitored, a suggestion to turn it on.
func MonitorSummary(cfg *config.Config, groups []haresources.Group) []string {
	specs := monitorSpecs(groups, cfg.MonitorInterval)
	var out []string
	for _, g := range groups {
		var mon []string
		for i, r := range g.Resources {
			if s := specs[g.Key][i]; s.Interval > 0 {
				mon = append(mon, fmt.Sprintf("%s every %s (timeout %s)", r.Raw, s.Interval, s.Timeout))
			}
		}
		if len(mon) > 0 {
			rec := haresources.RecoveryOf(g)
			out = append(out, fmt.Sprintf("monitored in %s: %s; %d restarts in place within %s, then the group moves",
				g.Key, strings.Join(mon, ", "), rec.Restarts, rec.Window))
		}
		for _, c := range g.Checks {
			out = append(out, fmt.Sprintf("check %s of %s: %q every %s (timeout %s), fall %d, rise %d, weight %d%s",
				c.Name, g.Key, c.Command, c.Interval, c.Timeout, c.Fall, c.Rise, c.Weight, map[bool]string{true: ", as " + c.User}[c.User != ""]))
		}
	}
	if len(out) == 0 && len(groups) > 0 {
		out = append(out, "resources are not monitored (as in Heartbeat): set monitor_interval in ha.cf, "+
			"or per resource in haresources.toml, to have failed services restarted in place and moved after their restarts")
	}
	return out
}
