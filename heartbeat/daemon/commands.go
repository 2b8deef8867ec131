package daemon

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"reflect"
	"sort"
	"strconv"
	"strings"
	"time"

	"go.uber.org/zap"

	"github.com/hasuite/hasuite/heartbeat/api"
	"github.com/hasuite/hasuite/heartbeat/config"
	"github.com/hasuite/hasuite/heartbeat/control"
	"github.com/hasuite/hasuite/watchdog/sdnotify"
)

// handle runs on a control connection's goroutine: it passes the request
// to the loop, which owns all state, and waits for the answer.
func (d *Daemon) handle(ctx context.Context, req control.Request) control.Response {
	r := ctrlReq{req: req, reply: make(chan control.Response, 1)}
	select {
	case d.ctrl <- r:
	case <-ctx.Done():
		return control.Response{Error: "daemon is shutting down"}
	}
	select {
	case resp := <-r.reply:
		return resp
	case <-ctx.Done():
		return control.Response{Error: "daemon is shutting down"}
	}
}

func ok(v any) control.Response {
	if v == nil {
		return control.Response{OK: true}
	}
	b, err := json.Marshal(v)
	if err != nil {
		return control.Response{Error: err.Error()}
	}
	return control.Response{OK: true, Data: b}
}

func fail(format string, a ...any) control.Response {
	return control.Response{Error: fmt.Sprintf(format, a...)}
}

// command executes one control request on the loop goroutine and answers
// it, now or (standby, takeover) once the move has finished.
func (d *Daemon) command(r ctrlReq) {
	if resp, later := d.execute(r); !later {
		r.reply <- resp
	}
}

func (d *Daemon) execute(r ctrlReq) (control.Response, bool) {
	req := r.req
	switch req.Cmd {
	case api.CmdStandby, api.CmdTakeover:
		return d.move(r)
	}
	return d.answer(req), false
}

func (d *Daemon) answer(req control.Request) control.Response {
	switch req.Cmd {
	case api.CmdStatus:
		return ok(d.status())
	case api.CmdParameter:
		if len(req.Args) != 1 {
			return fail("parameter needs exactly one name")
		}
		v, set := d.cfg.Parameter(req.Args[0])
		return ok(api.Parameter{Name: req.Args[0], Value: v, Set: set})
	case api.CmdStop:
		d.beginStop("stop command")
		return ok(nil)
	case api.CmdReload:
		if err := d.reload(); err != nil {
			return fail("%v", err)
		}
		return ok(nil)
	case api.CmdFenceConfirm:
		if len(req.Args) != 1 {
			return fail("fence-confirm needs the node that was reset by hand")
		}
		if err := d.confirmFence(req.Args[0]); err != nil {
			return fail("%v", err)
		}
		d.log.Warn("operator confirmed the manual reset of node "+req.Args[0], zap.String("node", req.Args[0]))
		return ok(nil)
	case api.CmdCleanup:
		if len(req.Args) != 1 {
			return fail("cleanup needs exactly one group")
		}
		if err := d.node.Cleanup(d.now(), req.Args[0]); err != nil {
			return fail("%v", err)
		}
		d.log.Warn("operator cleared the failures of group "+req.Args[0], zap.String("group", req.Args[0]))
		for _, g := range d.status().Groups {
			if g.Key == req.Args[0] {
				return ok(g)
			}
		}
		return ok(nil)
	case api.CmdDebug:
		if len(req.Args) != 1 {
			return fail("debug needs +1, -1 or a level")
		}
		switch a := req.Args[0]; a {
		case "+1":
			d.setDebug(d.debug + 1)
		case "-1":
			d.setDebug(d.debug - 1)
		default:
			n, err := strconv.Atoi(a)
			if err != nil {
				return fail("bad debug level %q", a)
			}
			d.setDebug(n)
		}
		return ok(api.Debug{Level: d.debug})
	}
	return fail("unknown command %q", req.Cmd)
}

func (d *Daemon) status() api.Status {
	host, _ := os.Hostname()
	s := api.Status{Version: api.Version, Pid: os.Getpid(), Hostname: host, Managed: "haresources",
		Resources: d.node.RscStatus(), Debug: d.debug, Core: apiSnapshot(d.node.Snapshot(d.now()))}
	health, _ := d.node.Health()
	advertised := d.node.PeerAdvertisesHealth()
	for i, g := range d.node.Groups() {
		ag := api.Group{Key: g.Key, PreferredNode: g.Node, State: g.State, Failed: g.Failed,
			Failures: g.Failures, LastFailure: g.LastFailure, FailedForGood: g.FailedForGood}
		if i < len(health) && (len(health[i].Checks) > 0 || advertised) {
			h := health[i]
			ah := &api.GroupHealth{Eligible: h.Here.Eligible, Score: h.Here.Score, PeerEligible: h.Peer.Eligible, PeerScore: h.Peer.Score}
			for _, c := range h.Checks {
				ah.Checks = append(ah.Checks, api.CheckStatus{Name: c.Name, Passing: c.Passing, Runs: c.Runs, LastOK: c.Last})
			}
			ag.Health = ah
		}
		if g.LastFailure != "" {
			ag.LastFailureAt = d.start.Add(g.LastFailureAt).Format(time.RFC3339)
		}
		s.Groups = append(s.Groups, ag)
	}
	for _, l := range d.links {
		target := l.medium.Peer
		if l.medium.Group != "" {
			target = l.medium.Group
		}
		if target == "" {
			target = l.medium.Dev
		}
		li := api.Link{Name: l.name, Kind: l.medium.Kind, Target: target, TxPackets: l.txPackets.Load(),
			TxErrors: l.txErrors.Load(), RxPackets: l.rxPackets.Load(), RxBad: l.rxBad.Load()}
		if e, okE := l.lastErr.Load().(string); okE {
			li.LastError = e
		}
		s.Links = append(s.Links, li)
	}
	s.Dropped = api.Dropped{Malformed: d.dropped.malformed.Load(), BadAuth: d.dropped.badAuth.Load(),
		NoAuth: d.dropped.noAuth.Load(), TooLarge: d.dropped.tooLarge.Load(), QueueFull: d.dropped.queueFull.Load(),
		FromOurself: s.Core.Counters.RxOwn}
	d.pingStatus(&s)
	return s
}

// reload re-reads the configuration. Keys, debug level and logging-free
// settings apply at once; changes that reshape the cluster (nodes, media,
// timings) need a restart, which is said, not silently ignored.
func (d *Daemon) reload() error {
	_ = sdnotify.Reloading()
	defer d.notifyStatus(true)
	cfg, warns, err := LoadConfig(d.opts)
	if err != nil {
		d.log.Error("reload failed; keeping the running configuration", zap.Error(err))
		return err
	}
	for _, w := range warns {
		d.log.Warn(w.Error())
	}
	var restart []string
	for name, pair := range map[string][2]any{
		"node": {d.cfg.Nodes, cfg.Nodes}, "media": {stripPos(d.cfg.Media), stripPos(cfg.Media)},
		"keepalive": {d.cfg.Keepalive, cfg.Keepalive}, "deadtime": {d.cfg.Deadtime, cfg.Deadtime},
		"warntime": {d.cfg.Warntime, cfg.Warntime}, "initdead": {d.cfg.Initdead, cfg.Initdead},
		"logfile": {d.cfg.LogFile, cfg.LogFile}, "debugfile": {d.cfg.DebugFile, cfg.DebugFile},
		"logfacility": {d.cfg.LogFacility, cfg.LogFacility}, "msgfmt": {d.cfg.MsgFmt, cfg.MsgFmt},
		"notify and mail": {notifyKey(d.cfg), notifyKey(cfg)},
		"metrics_listen":  {d.cfg.Metrics, cfg.Metrics},
		"ping":            {pingLines(d.cfg), pingLines(cfg)}, "deadping": {d.cfg.Deadping, cfg.Deadping},
		"ping_interval": {d.cfg.PingInterval, cfg.PingInterval},
		"respawn":       {respawnLines(d.cfg), respawnLines(cfg)}, "env": {d.cfg.Env, cfg.Env},
	} {
		if !reflect.DeepEqual(pair[0], pair[1]) {
			restart = append(restart, name)
		}
	}
	keysChanged := !d.keys.Equal(cfg.Keys)
	d.keys = cfg.Keys
	if cfg.Debug != d.cfg.Debug {
		d.setDebug(cfg.Debug)
	}
	if len(restart) > 0 {
		err = errors.New("changed settings need a restart to take effect: " + strings.Join(sorted(restart), ", "))
		d.log.Warn("reload: " + err.Error())
	}
	d.log.Info("configuration reloaded", zap.Bool("keys_changed", keysChanged))
	return err
}

func stripPos(ms []config.Medium) []config.Medium {
	out := make([]config.Medium, len(ms))
	for i, m := range ms {
		m.Pos = config.Pos{}
		out[i] = m
	}
	return out
}

// pingLines and respawnLines are the lines as written, without positions.
func pingLines(c *config.Config) []string {
	var out []string
	for _, p := range c.Ping {
		out = append(out, p.String())
	}
	return out
}

func respawnLines(c *config.Config) []string {
	var out []string
	for _, r := range c.Respawn {
		out = append(out, r.String())
	}
	return out
}

func sorted(s []string) []string {
	out := append([]string(nil), s...)
	sort.Strings(out)
	return out
}
