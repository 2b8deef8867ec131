package daemon

import (
	"time"

	"go.uber.org/zap"

	"github.com/hasuite/hasuite/heartbeat/core"
	"github.com/hasuite/hasuite/heartbeat/msg"
)

// event logs one core event and acts on the messages meant for layers the
// daemon does not have yet.
func (d *Daemon) event(e core.Event) {
	defer d.resourceEvent(e)
	l := d.log
	switch e.Kind {
	case core.EvNodeState:
		f := []zap.Field{zap.String("node", e.Node), zap.String("from", e.From), zap.String("to", e.To)}
		if e.To == core.Dead.String() {
			l.Warn("node "+e.Node+" is dead", append(f, zap.String("reason", e.Detail),
				zap.Duration("silence", e.Interval.Round(time.Millisecond)))...)
			d.saveMarks()
			return
		}
		l.Info("node "+e.Node+" status "+e.To, f...)
		defer d.notifyStatus(false)
	case core.EvLinkState:
		f := []zap.Field{zap.String("node", e.Node), zap.String("link", e.Link), zap.String("paths", e.Detail)}
		if e.To == core.LinkDead.String() {
			l.Warn("link "+e.Link+" to "+e.Node+" dead, "+e.Detail, f...)
		} else {
			l.Info("link "+e.Link+" to "+e.Node+" up, "+e.Detail, f...)
		}
	case core.EvLateHeartbeat:
		// Two kinds: the silence passing warntime (still waiting) and the
		// late packet arriving; the detail says which.
		l.Warn("late heartbeat from "+e.Node+": "+e.Detail, zap.String("node", e.Node),
			zap.Duration("interval", e.Interval.Round(time.Millisecond)))
	case core.EvPeerRestarted:
		l.Info("heartbeat restart on node "+e.Node, zap.String("node", e.Node), zap.String("detail", e.Detail))
	case core.EvPartitionReturn:
		l.Error("cluster node "+e.Node+" returning after partition", zap.String("node", e.Node), zap.String("detail", e.Detail))
	case core.EvPeerShutdown:
		l.Info("node "+e.Node+" announced a graceful stop (shutdone)", zap.String("node", e.Node))
	case core.EvCommUp:
		l.Info("cluster communication is up: local node active", zap.String("node", e.Node))
		defer d.notifyStatus(true)
	case core.EvDropped:
		if ok, muted := d.limiter.allow("core:"+e.Detail, time.Now()); ok {
			l.Debug("dropped message", zap.String("node", e.Node), zap.String("link", e.Link),
				zap.String("reason", e.Detail), zap.Int("suppressed", muted))
		}
	case core.EvRexmitGiveUp:
		l.Warn("message lost for good", zap.String("node", e.Node), zap.String("detail", e.Detail))
	case core.EvMembership:
		l.Warn("node lists differ", zap.String("node", e.Node), zap.String("detail", e.Detail))
	case core.EvFlowControlOff:
		l.Warn("flow control disabled: peer runs a heartbeat without protocol=1", zap.String("node", e.Node))
	case core.EvDeliver:
		if d.res == nil || !d.res.mgr.Receive(time.Since(d.start), e.Msg) {
			d.deliver(e.Node, e.Msg)
		}
	}
}

// deliver answers the messages no layer handles that a Heartbeat peer
// expects an answer to (cl_status clientstatus across nodes: we run no API
// clients).
func (d *Daemon) deliver(from string, m *msg.Message) {
	d.log.Debug("message", zap.String("from", from), zap.String("type", m.Type()), zap.Stringer("msg", m))
	switch m.Type() {
	case "query-cstatus":
		r := msg.New("respond-cstatus")
		r.Set(msg.FDest, from)
		r.Set("result", "OK")
		r.Set("cn", m.Str("cn"))
		r.Set("to_id", m.Str("from_id"))
		r.Set("cs", "offline")
		d.core.Send(d.now(), r)
	}
}
