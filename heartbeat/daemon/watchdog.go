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

// kickWatchdogs kicks the device once per keepalive and systemd at half its
// WatchdogSec.
func (d *Daemon) kickWatchdogs() {
	now := time.Now()
	if d.wd != nil && !d.wdAbandoned && !now.Before(d.wdNext) {
		if err := d.wd.Kick(); err != nil {
			if ok, _ := d.limiter.allow("watchdog", now); ok {
				d.log.Error("watchdog kick failed", zap.Error(err))
			}
		}
		d.wdNext = now.Add(d.cfg.Keepalive)
	}
	if d.sdInterval > 0 && !now.Before(d.sdNext) {
		_ = sdnotify.Kick()
		d.sdNext = now.Add(d.sdInterval)
	}
}

// nextKick is when kickWatchdogs must run again.
func (d *Daemon) nextKick() time.Duration {
	next := time.Duration(1 << 62)
	if d.wd != nil && !d.wdAbandoned {
		next = time.Until(d.wdNext)
	}
	if d.sdInterval > 0 {
		if s := time.Until(d.sdNext); s < next {
			next = s
		}
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
	return true
}

// systemd notifications: ready once the node is active, a one-line status
// on every change.
func (d *Daemon) notifyStatus(ready bool) {
	if !sdnotify.Enabled() {
		return
	}
	snap := d.core.Snapshot(d.now())
	var parts []string
	for _, n := range snap.Nodes {
		parts = append(parts, n.Name+" "+n.State)
	}
	line := strings.Join(parts, ", ") + "; resources " + d.res.mgr.RscStatus()
	if ready {
		_ = sdnotify.Ready(line)
		return
	}
	_ = sdnotify.Status(line)
}
