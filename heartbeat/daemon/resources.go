package daemon

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"time"

	"go.uber.org/zap"

	"github.com/hasuite/hasuite/heartbeat/config"
	"github.com/hasuite/hasuite/resources/agent"
	"github.com/hasuite/hasuite/resources/agent/ipaddr"
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
	cancel context.CancelFunc
}

// loadGroups reads haresources (or haresources.toml) next to ha.cf.
func loadGroups(dir string, nodes []string) ([]haresources.Group, error) {
	groups, err := haresources.Load(filepath.Join(dir, "haresources"), nodes)
	if err != nil {
		return nil, fmt.Errorf("%w:\n%v", ErrConfig, err)
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
	if _, err := buildAgents(cfg, groups, func(string, string) {}, context.Background()); err != nil {
		return nil, err
	}
	return groups, nil
}

// buildAgents makes an agent for every resource, so that a missing script is
// a start-up error, not a failover surprise.
func buildAgents(cfg *config.Config, groups []haresources.Group, logf agent.Logger, ctx context.Context) (map[string][]agent.Agent, error) {
	env := script.Env{ResourceDirs: []string{filepath.Join(cfg.Dir, "resource.d")}, Log: logf,
		ExtraEnv: []string{"HA_DIR=" + cfg.Dir}}
	agents := map[string][]agent.Agent{}
	var errs []error
	for _, g := range groups {
		for _, r := range g.Resources {
			var a agent.Agent
			var err error
			if r.Kind == haresources.KindIP {
				a, err = ipaddr.New(*r.IP, ipaddr.Options{Log: logf, Context: ctx, GARPCount: r.Announce.Count,
					GARPInterval: r.Announce.Interval, Refresh: r.Announce.Refresh})
			} else {
				a, err = script.New(r, env)
			}
			if err != nil {
				errs = append(errs, fmt.Errorf("%s: %w", r.Pos, err))
				continue
			}
			agents[g.Key] = append(agents[g.Key], a)
		}
	}
	if len(errs) > 0 {
		return nil, fmt.Errorf("%w:\n%v", ErrConfig, errors.Join(errs...))
	}
	return agents, nil
}

// newResourceLayer builds the agents and the runner.
func (d *Daemon) newResourceLayer(groups []haresources.Group) (*resourceLayer, error) {
	cfg := d.cfg
	ctx, cancel := context.WithCancel(context.Background())
	rl := &resourceLayer{groups: groups, cancel: cancel}
	logf := func(res, line string) { d.log.Info(line, zap.String("resource", res)) }
	agents, err := buildAgents(cfg, groups, logf, ctx)
	if err != nil {
		cancel()
		return nil, err
	}
	isVIP := func(a agent.Agent) bool { _, ok := a.(*ipaddr.VIP); return ok }
	// Virtual IPs are cheap to check: one that disappears while its group
	// runs here (removed by hand, by another tool) is added back at once.
	// Scripts are asked their status before a start, as Heartbeat does: a
	// resource.d script may refuse to start twice.
	rl.run = runner.New(agents, runner.Options{Log: logf, MonitorInterval: time.Second, Monitor: isVIP,
		CheckFirst: func(a agent.Agent) bool { return !isVIP(a) }})
	return rl, nil
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
	rl.run.Close()
	rl.cancel()
}

// groupResult hands a runner result to the node layer.
func (d *Daemon) groupResult(r runner.Result) {
	f := []zap.Field{zap.String("group", r.Action.Group), zap.Duration("took", r.Duration)}
	if r.Err != nil {
		d.log.Error(r.Action.Kind.String()+" of group "+r.Action.Group+" failed", append(f, zap.Error(r.Err))...)
	} else {
		d.log.Info("group "+r.Action.Group+" "+map[manager.ActionKind]string{manager.Start: "started", manager.Stop: "stopped"}[r.Action.Kind], f...)
	}
	if r.Action.Kind == manager.Start {
		d.node.GroupStarted(d.now(), r.Action.Group, r.Err)
	} else {
		d.node.GroupStopped(d.now(), r.Action.Group, r.Err)
	}
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
