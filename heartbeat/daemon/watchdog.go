package daemon

import (
	"fmt"
	"strings"
	"time"

	"go.uber.org/zap"

	"github.com/hasuite/hasuite/watchdog"
	"github.com/hasuite/hasuite/watchdog/sdnotify"
)

// openWatchdog arms the configured watchdog device. Kicks come from the
// loop, so a hung loop stops kicking and the node is reset before the peer
// (which waits deadtime) takes its resources over.
func (d *Daemon) openWatchdog() error {
	if d.cfg.Watchdog == "" {
		return nil
	}
	// The path was configured explicitly in ha.cf: a real device is allowed.
	dev, err := watchdog.Open(d.cfg.Watchdog, watchdog.DefaultTimeout(d.cfg.Deadtime), watchdog.AllowReal(true))
	if err != nil {
		return fmt.Errorf("watchdog %s: %w", d.cfg.Watchdog, err)
	}
	if err := dev.SetTimeoutErr(); err != nil {
		d.log.Warn("watchdog timeout not set; the device keeps its own", zap.String("device", dev.Path()), zap.Error(err))
	}
	d.wd = dev
	d.log.Info("watchdog armed", zap.String("device", dev.Path()), zap.Duration("timeout", dev.Timeout()))
	d.kickWatchdogs()
	return nil
}

// kickWatchdogs kicks the device right after each heartbeat goes out, and
// systemd at half its WatchdogSec.
//
// Kicking with the heartbeat, not on a timer of its own, keeps the last
// kick and the last heartbeat together: a node that hangs is reset one
// watchdog timeout after the last heartbeat the peer heard, not up to a
// keepalive later (a kick just before a hang, the heartbeat it preceded
// never sent). A fallback kick every two keepalives covers the times no
// heartbeat is sent (after shutdone).
func (d *Daemon) kickWatchdogs() {
	now := d.step
	if d.wd != nil && !d.wdAbandoned && (d.statusOut || !now.Before(d.wdNext)) {
		if err := d.wd.Kick(); err != nil {
			if ok, _ := d.limiter.allow("watchdog", now); ok {
				d.log.Error("watchdog kick failed", zap.Error(err))
			}
		}
		d.wdNext = now.Add(d.kickFallback())
	}
	d.statusOut = false
	if d.sdInterval > 0 && !now.Before(d.sdNext) {
		_ = sdnotify.Kick()
		d.sdNext = now.Add(d.sdInterval)
	}
}

// kickFallback is the longest the device goes without a kick while the
// loop runs: two keepalives, and never more than half its timeout.
func (d *Daemon) kickFallback() time.Duration {
	every := 2 * d.cfg.Keepalive
	if t := d.wd.Timeout() / 2; t > 0 && t < every {
		every = t
	}
	return every
}

// nextKick is when kickWatchdogs must run again.
func (d *Daemon) nextKick() time.Time {
	var next time.Time
	if d.wd != nil && !d.wdAbandoned {
		next = d.wdNext
	}
	if d.sdInterval > 0 {
		next = earliest(next, d.sdNext)
	}
	return next
}

// closeWatchdog disarms the device on an orderly stop.
func (d *Daemon) closeWatchdog() {
	if d.wd == nil || d.wdAbandoned {
		return
	}
	if err := d.wd.Close(); err != nil {
		d.log.Warn("watchdog close failed", zap.Error(err))
	}
}

// abandonWatchdog stops kicking and closes without the magic 'V': the
// device resets the node. Used to fence ourselves after a failed stop.
func (d *Daemon) abandonWatchdog() bool {
	if d.wd == nil || d.wdAbandoned {
		return false
	}
	d.wdAbandoned = true
	_ = d.wd.Abandon()
	d.log.Error("watchdog abandoned: this node will be reset by it", zap.String("device", d.wd.Path()))
	// Get the reason to disk before the reset, off the loop: it keeps the
	// heartbeat going until then.
	go d.logs.flush()
	return true
}

// systemd notifications: ready once the node is active, a one-line status
// on every change.
func (d *Daemon) notifyStatus(ready bool) {
	if !sdnotify.Enabled() {
		return
	}
	snap := d.node.Snapshot(d.now())
	var parts []string
	for _, n := range snap.Nodes {
		parts = append(parts, n.Name+" "+n.State)
	}
	line := strings.Join(parts, ", ") + "; resources " + d.node.RscStatus()
	if ready {
		_ = sdnotify.Ready(line)
		return
	}
	_ = sdnotify.Status(line)
}
