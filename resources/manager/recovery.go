package manager

import (
	"errors"
	"fmt"
	"time"

	"github.com/hasuite/hasuite/resources/haresources"
)

// Recovery of failed resources (monitors): a failed resource is restarted
// in place with the ones after it; a failure while the group's restarts
// within its window are used up stops the group, which then counts as
// failed here for good (sticky): it is handed to the peer (the
// pendingStandby path of a failed start) if the peer is up and stable,
// and otherwise stays stopped, never bouncing, until Cleanup or the
// peer's death.

// ErrStopFailed is wrapped by a Restart's error when a resource could not
// be stopped: the group may still run partly here (StopFailed).
var ErrStopFailed = errors.New("a resource could not be stopped")

// inWindow returns the failures within the group's restart window.
func (g *group) inWindow(now time.Duration) []time.Duration {
	w := haresources.RecoveryOf(g.Group).Window
	i := 0
	for i < len(g.failures) && now-g.failures[i] >= w {
		i++
	}
	return g.failures[i:]
}

// recordFailure counts one failure of g now.
func (m *Manager) recordFailure(g *group, reason string) {
	g.failures = append(g.inWindow(m.now), m.now)
	g.lastFailure, g.lastFailureAt = reason, m.now
}

// resourceName names resource i of g for messages.
func (g *group) resourceName(i int) string {
	if i >= 0 && i < len(g.Resources) {
		return g.Resources[i].Raw
	}
	return fmt.Sprintf("resource %d", i)
}

// ResourceFailed: a monitor found resource idx (from 0) of group key not
// running, or could not tell (an error, a timeout). Only a group that
// runs here, settled, is recovered; anything else is in transition
// already and the report is stale.
func (m *Manager) ResourceFailed(now time.Duration, key string, idx int, reason string) {
	m.now = now
	g := m.byKey[key]
	if g == nil || idx < 0 || idx >= len(g.Resources) {
		return
	}
	if g.state != Running || m.stopping {
		m.info(key, "monitor of %s failed (%s) while the group is %s: ignored", g.resourceName(idx), reason, g.state)
		return
	}
	m.recordFailure(g, g.resourceName(idx)+": "+reason)
	m.recover(g, idx, g.resourceName(idx)+" failed: "+reason)
	m.progress()
}

// recover restarts g in place from resource idx, or, when its restarts
// within the window are used up, stops it to hand it away.
func (m *Manager) recover(g *group, idx int, what string) {
	rec := haresources.RecoveryOf(g.Group)
	n := len(g.failures)
	if n <= rec.Restarts {
		g.restartFrom = idx
		m.setState(g, Restarting)
		m.actions = append(m.actions, Action{Kind: Restart, Group: g.Key, Resource: idx})
		m.events = append(m.events, Event{Kind: EvResourceFailed, Group: g.Key, Resource: idx, Level: Warn, Detail: fmt.Sprintf(
			"%s; restarting it in place (failure %d here within %s; %d restarts allowed)", what, n, rec.Window, rec.Restarts)})
		return
	}
	g.leaving = true
	m.events = append(m.events, Event{Kind: EvResourceFailed, Group: g.Key, Resource: idx, Level: Error, Detail: fmt.Sprintf(
		"%s; failure %d here within %s, more than the %d restarts allowed: stopping the group to hand it to %s",
		what, n, rec.Window, rec.Restarts, m.peer)})
	m.release(g)
}

// failedHere marks g failed here for good once it is stopped after its
// restarts were used up, and hands it to the peer if the peer can take it.
func (m *Manager) failedHere(g *group) {
	g.leaving = false
	g.failed, g.failedAt, g.sticky = true, m.now, true
	// No resource report here: the standby handshake tells the peer (a
	// stable report of "none" first makes Heartbeat 3.0.6 complain that
	// no one owns the group, just before it takes it).
	detail := "the group failed here (its restarts are used up); it stays stopped here until hactl cleanup " + g.Key
	// Handed over as soon as the peer is up and stable (now, or when it
	// returns); the peer skips it if it failed there too.
	if !m.stopping {
		m.pendingStandby |= setOf(g)
	}
	if m.peerAlive {
		detail += "; handing it to " + m.peer
	} else {
		detail += "; the peer " + m.peer + " is not up: it gets it when it returns"
	}
	m.events = append(m.events, Event{Kind: EvGroupFailed, Group: g.Key, Level: Error, Detail: detail})
}

// GroupRestarted reports the outcome of a Restart action. A failed
// restart is one more failure: restarted again, or the group leaves.
func (m *Manager) GroupRestarted(now time.Duration, key string, err error) {
	m.now = now
	g := m.byKey[key]
	if g == nil || g.state != Restarting {
		return
	}
	switch {
	case err == nil:
		m.setState(g, Running)
		m.info(key, "restarted in place from %s", g.resourceName(g.restartFrom))
	case errors.Is(err, ErrStopFailed):
		m.setState(g, StopFailed)
		m.events = append(m.events, Event{Kind: EvStopFailed, Group: key, Level: Error,
			Detail: "stop failed during a restart; the group may still run here and must not start elsewhere: " + err.Error()})
		return
	default:
		// The runner stopped what the failed start had begun; the
		// resources before restartFrom still run: the group is held.
		m.setState(g, Running)
		m.recordFailure(g, "restart failed: "+err.Error())
		m.recover(g, g.restartFrom, "restart of "+g.resourceName(g.restartFrom)+" failed: "+err.Error())
	}
	m.progress()
}

// Cleanup is hactl cleanup: the operator has fixed the group's cause of
// failure. Its failure count and failed state here are cleared; if it runs
// nowhere (stopped here, and the peer holds nothing of its set) it is
// started here. Its last failure stays in the status.
func (m *Manager) Cleanup(now time.Duration, key string) error {
	m.now = now
	g := m.byKey[key]
	if g == nil {
		return fmt.Errorf("no group %q (hactl status lists the groups)", key)
	}
	g.failures, g.failed, g.sticky = nil, false, false
	m.pendingStandby &^= setOf(g)
	switch {
	case g.state != Stopped:
		m.info(key, "cleanup: failure count cleared (the group is %s here)", g.state)
	case m.stopping || !m.commUp || !m.stable:
		m.info(key, "cleanup: failure count cleared")
	case m.peerAlive && (m.peerHold&setOf(g).mirror() != 0 || !m.peerStable || m.hs != nil):
		m.info(key, "cleanup: failure count cleared; the peer holds or is moving its set, so it is not started here")
	default:
		m.setState(g, Starting)
		m.actions = append(m.actions, Action{Kind: Start, Group: g.Key})
		m.reportPending = true
		m.info(key, "cleanup: failure count cleared; starting it here (it runs nowhere)")
	}
	m.progress()
	return nil
}
