package daemon

import (
	"time"

	"go.uber.org/zap"

	"github.com/hasuite/hasuite/heartbeat/node"
	"github.com/hasuite/hasuite/resources/manager"
)

// event writes one node event to the log and does the IO it calls for
// (saving the peer marks on a death, telling systemd the new state).
func (d *Daemon) event(e node.Event) {
	l := d.log
	switch e.Kind {
	case node.NodeDead:
		l.Warn("node "+e.Node+" is dead", zap.String("node", e.Node), zap.Stringer("from", e.NodeFrom),
			zap.Stringer("to", e.NodeTo), zap.Stringer("reason", e.Cause),
			zap.Duration("silence", e.Silence.Round(time.Millisecond)))
		d.saveMarks()
	case node.NodeState:
		l.Info("node "+e.Node+" status "+e.NodeTo.String(), zap.String("node", e.Node),
			zap.Stringer("from", e.NodeFrom), zap.Stringer("to", e.NodeTo))
		d.notifyStatus(false)
	case node.LinkDead:
		l.Warn("link "+e.Link+" to "+e.Node+" dead, "+e.Detail, zap.String("node", e.Node), zap.String("link", e.Link),
			zap.String("paths", e.Detail))
	case node.LinkUp:
		l.Info("link "+e.Link+" to "+e.Node+" up, "+e.Detail, zap.String("node", e.Node), zap.String("link", e.Link),
			zap.String("paths", e.Detail))
	case node.LateHeartbeat:
		// Two kinds: the silence passing warntime (still waiting) and the
		// late packet arriving; the detail says which.
		l.Warn("late heartbeat from "+e.Node+": "+e.Detail, zap.String("node", e.Node),
			zap.Duration("interval", e.Silence.Round(time.Millisecond)))
	case node.PeerRestarted:
		l.Info("heartbeat restart on node "+e.Node, zap.String("node", e.Node), zap.String("detail", e.Detail))
	case node.PartitionReturn:
		l.Error("cluster node "+e.Node+" returning after partition", zap.String("node", e.Node), zap.String("detail", e.Detail))
	case node.PeerShutdown:
		l.Info("node "+e.Node+" announced a graceful stop (shutdone)", zap.String("node", e.Node))
	case node.CommUp:
		l.Info("cluster communication is up: local node active", zap.String("node", e.Node))
		d.notifyStatus(true)
		d.clients.Start() // Heartbeat starts its clients at comm-up
	case node.Dropped:
		if ok, muted := d.limiter.allow("core:"+e.Detail, d.step); ok {
			l.Debug("dropped message", zap.String("node", e.Node), zap.String("link", e.Link),
				zap.String("reason", e.Detail), zap.Int("suppressed", muted))
		}
	case node.RexmitGiveUp:
		l.Warn("message lost for good", zap.String("node", e.Node), zap.String("detail", e.Detail))
	case node.MembershipDiffers:
		l.Warn("node lists differ", zap.String("node", e.Node), zap.String("detail", e.Detail))
	case node.FlowControlOff:
		l.Warn("flow control disabled: peer runs a heartbeat without protocol=1", zap.String("node", e.Node))
	case node.Unhandled:
		l.Debug("message", zap.String("from", e.Node), zap.String("type", e.Msg.Type()), zap.Stringer("msg", e.Msg))
	case node.GroupState:
		l.Info("group "+e.Group+" "+e.GroupTo.String(), zap.String("group", e.Group),
			zap.Stringer("from", e.GroupFrom), zap.Stringer("to", e.GroupTo))
	case node.FenceStarted:
		l.Warn("fencing node "+e.Node, zap.String("node", e.Node), zap.String("by", d.cfg.LocalNode))
	case node.FenceOK:
		l.Warn("node "+e.Node+" fenced", zap.String("by", d.cfg.LocalNode), zap.String("node", e.Node),
			zap.Duration("took", e.Took))
	case node.FenceFailed:
		l.Error("fencing of node "+e.Node+" FAILED", zap.String("by", d.cfg.LocalNode), zap.String("node", e.Node),
			zap.Duration("took", e.Took), zap.String("result", fenceResultOf(e.Err)), zap.Error(e.Err))
	case node.PingNodeUp:
		l.Info("ping node "+e.Node+" is answering: status ping", zap.String("node", e.Node), zap.String("detail", e.Detail))
	case node.PingNodeDead:
		l.Warn("ping node "+e.Node+" is dead: "+e.Detail, zap.String("node", e.Node))
	case node.ShutdoneSent:
		l.Info("resources released: announcing shutdone to the peers")
	default: // decisions and group failures: the manager's words
		f := []zap.Field{}
		if e.Group != "" {
			f = append(f, zap.String("group", e.Group))
		}
		switch e.Level {
		case manager.Error:
			l.Error(e.Detail, f...)
		case manager.Warn:
			l.Warn(e.Detail, f...)
		default:
			l.Info(e.Detail, f...)
		}
	}
}
