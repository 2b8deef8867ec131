package ipaddr

import (
	"context"
	"errors"
	"fmt"
	"net"
	"sync/atomic"
	"time"

	"github.com/vishvananda/netlink"
	"golang.org/x/sys/unix"
)

// Start adds the address to its interface (with IFA_F_NODAD for IPv6, so it
// is usable at once), then sends the first announcement round and returns;
// the rest of the burst (and refreshes) follow in the background until Stop.
// Starting a held address is a success that sends nothing new; an address
// that was re-added (removed behind our back) or found without an announcer
// (left by a crash) is announced afresh.
//
// Start fails only when the address cannot be added. A failed announcement
// (link down, an interface without ARP) is logged and counted in Stats,
// because the address is up and usable and the burst retries it.
func (v *VIP) Start(ctx context.Context) error {
	v.mu.Lock()
	defer v.mu.Unlock()
	h, t, err := v.open(ctx)
	if err != nil {
		return err
	}
	defer h.Close()
	label, err := fullLabel(t.link.Attrs().Name, v.spec.Label)
	if err != nil {
		return fmt.Errorf("ipaddr: %s: %w", v.name, err)
	}
	added, err := v.ensureAddr(h, t, label)
	if err != nil {
		return err
	}
	if !added && v.announcing(t) {
		return nil
	}
	if err := v.stopAnnouncer(ctx); err != nil {
		return err
	}
	return v.startAnnouncer(ctx, t)
}

// open is how Start and Announce begin (v.mu held): the agent must not be
// shut down, and the address's interface must exist. The caller closes h.
func (v *VIP) open(ctx context.Context) (h *netlink.Handle, t target, err error) {
	if err := v.opts.Context.Err(); err != nil {
		return nil, target{}, fmt.Errorf("ipaddr: %s: agent is shut down: %w", v.name, err)
	}
	if h, err = newHandle(ctx); err != nil {
		return nil, target{}, err
	}
	if t, err = v.resolve(h, snapAge); err != nil {
		h.Close()
		return nil, target{}, err
	}
	return h, t, nil
}

// announcing reports an announcer running for the address on t's link.
func (v *VIP) announcing(t target) bool {
	return v.ann != nil && v.ann.alive() && v.ann.ifindex == t.link.Attrs().Index
}

// ensureAddr adds the address; added is false when it was there already.
func (v *VIP) ensureAddr(h *netlink.Handle, t target, label string) (added bool, err error) {
	a := &netlink.Addr{IPNet: ipNet(t.prefix), Label: label}
	if v.addr.Is4() {
		a.Broadcast = net.IPv4zero // none, unless set below
		if t.brd.IsValid() {
			a.Broadcast = t.brd.AsSlice()
		}
	} else {
		a.Flags = unix.IFA_F_NODAD
	}
	err = h.AddrAdd(t.link, a)
	if err == nil {
		if sn := snapFor(t.ns, t.link, family(v.addr)); sn != nil {
			sn.added(*a)
		}
		return true, nil
	}
	if !errors.Is(err, unix.EEXIST) {
		return false, nlErr(fmt.Sprintf("add %s to %s", t.prefix, t.link.Attrs().Name), err)
	}
	// Present already. An IPv6 address whose DAD failed (added by someone
	// else without NODAD while the peer still held it) is unusable: replace.
	have, err := v.findOnLink(h, t)
	if err != nil {
		return false, err
	}
	for _, old := range have {
		if old.Flags&unix.IFA_F_DADFAILED == 0 {
			return false, nil
		}
		if err := h.AddrDel(t.link, delAddr(old)); err != nil && !isAbsent(err) {
			return false, nlErr("remove DAD-failed "+t.prefix.String(), err)
		}
		v.logf("replaced %s on %s: duplicate address detection had failed", old.IPNet, t.link.Attrs().Name)
	}
	if err := h.AddrAdd(t.link, a); err != nil {
		return false, nlErr(fmt.Sprintf("add %s to %s", t.prefix, t.link.Attrs().Name), err)
	}
	if sn := snapFor(t.ns, t.link, family(v.addr)); sn != nil {
		sn.added(*a)
	}
	return true, nil
}

// startAnnouncer opens the socket, sends the first round and starts the
// background burst. It fails only when ctx is done.
func (v *VIP) startAnnouncer(ctx context.Context, t target) error {
	name := t.link.Attrs().Name
	s, err := newSender(t.ns, t.link, v.addr)
	if err != nil {
		v.errs.Add(1)
		v.logf("not announced: %v", err)
		return nil
	}
	// The announcer checks that the address is still ours before every
	// background round, in the interface's shared address list (one dump
	// per interface every snapAge for all its VIPs), with a netlink socket
	// shared by the interface's announcers: opened here, in the caller's
	// network namespace, which the goroutine does not inherit.
	link := t.link
	sn := snapFor(t.ns, link, family(v.addr))
	if sn == nil {
		err = errors.New("cannot tell the network namespace")
	} else {
		err = sn.acquire()
	}
	if err != nil {
		_ = s.close()
		v.errs.Add(1)
		v.logf("not announced: netlink: %v", err)
		return nil
	}
	var gone atomic.Bool
	held := func() bool {
		as, err := sn.list(nil, link, family(v.addr), snapAge)
		have := matching(as, v.addr)
		ok := err == nil && len(have) > 0 && have[0].Flags&unix.IFA_F_DADFAILED == 0
		if !ok && !gone.Swap(true) {
			if err != nil {
				v.logf("not announcing: cannot check the address: %v", err)
			} else {
				v.logf("not announcing: %s is no longer on %s", v.addr, name)
			}
		} else if ok {
			gone.Store(false)
		}
		return ok
	}
	a := newAnnouncer(s, v.opts, held, v.sent, func() { _ = s.close(); sn.release() })
	a.ifindex = link.Attrs().Index
	var deadline time.Time
	if dl, ok := ctx.Deadline(); ok {
		deadline = dl
	}
	_ = a.round(deadline) // counted and logged by v.sent
	v.ann = a
	go a.run()
	a.burst()
	return nil
}

// sent records the outcome of one announcement round. It logs the first
// failure after a success and the first success after failures, not every
// round (a refresh on a link that is down would log forever).
func (v *VIP) sent(err error) {
	if err != nil {
		v.errs.Add(1)
		if !v.failing.Swap(true) {
			v.logf("announcement failed (retried with the burst or refresh): %v", err)
		}
		return
	}
	v.rounds.Add(1)
	if v.failing.Swap(false) {
		v.logf("announcing again")
	}
}

func (v *VIP) stopAnnouncer(ctx context.Context) error {
	if v.ann == nil {
		return nil
	}
	if err := v.ann.stop(ctx); err != nil {
		return fmt.Errorf("ipaddr: %s: stop announcing: %w", v.name, err)
	}
	v.ann = nil
	return nil
}

// Announce re-sends a burst now (after a split brain is resolved, or when the
// operator asks): the first round before it returns, the rest in the
// background. It returns an error wrapping ErrNotHeld when the address is
// not on its interface.
func (v *VIP) Announce(ctx context.Context) error {
	v.mu.Lock()
	defer v.mu.Unlock()
	h, t, err := v.open(ctx)
	if err != nil {
		return err
	}
	defer h.Close()
	have, err := v.findOnLink(h, t)
	if err != nil {
		return err
	}
	if len(have) == 0 {
		return fmt.Errorf("ipaddr: %s: %w on %s", v.name, ErrNotHeld, t.link.Attrs().Name)
	}
	if v.announcing(t) {
		var deadline time.Time
		if dl, ok := ctx.Deadline(); ok {
			deadline = dl
		}
		err := v.ann.round(deadline)
		// The rest of the burst even when the first round failed: after a
		// partition the link may be coming back up (ENETDOWN for a moment),
		// and without the burst nothing would announce the address again
		// until the refresh, while the client still sends to the peer.
		v.ann.burst()
		if err != nil {
			return fmt.Errorf("ipaddr: %s: announce: %w", v.name, err)
		}
		return nil
	}
	if err := v.stopAnnouncer(ctx); err != nil {
		return err
	}
	return v.startAnnouncer(ctx, t)
}

// Stop stops announcing and removes the address from its interface.
// Removing an absent address (or one whose interface is gone) is a success.
func (v *VIP) Stop(ctx context.Context) error {
	v.mu.Lock()
	defer v.mu.Unlock()
	if err := ctxErr(ctx); err != nil {
		return err
	}
	if err := v.stopAnnouncer(ctx); err != nil {
		return err
	}
	h, err := newHandle(ctx)
	if err != nil {
		return err
	}
	defer h.Close()
	t, err := v.resolve(h, snapAge)
	if errors.Is(err, ErrNoInterface) {
		return nil
	}
	if err != nil {
		return err
	}
	// The interface's shared address list, kept up to date with our own
	// adds and deletes: the VIPs of a group stop with one dump, not one each.
	have, err := v.onLink(h, t, stopAge)
	if err != nil {
		return err
	}
	sn := snapFor(t.ns, t.link, family(v.addr))
	for _, a := range have {
		if err := h.AddrDel(t.link, delAddr(a)); err != nil && !isAbsent(err) {
			return nlErr(fmt.Sprintf("remove %s from %s", a.IPNet, t.link.Attrs().Name), err)
		}
	}
	if sn != nil {
		sn.removed(v.addr)
	}
	return nil
}

// Status reports whether the address is on its interface (and usable: an
// IPv6 address whose duplicate address detection failed is not).
func (v *VIP) Status(ctx context.Context) (bool, error) {
	v.mu.Lock()
	defer v.mu.Unlock()
	h, err := newHandle(ctx)
	if err != nil {
		return false, err
	}
	defer h.Close()
	t, err := v.resolve(h, 0)
	if errors.Is(err, ErrNoInterface) {
		return false, nil
	}
	if err != nil {
		return false, err
	}
	have, err := v.findOnLink(h, t)
	if err != nil {
		return false, err
	}
	for _, a := range have {
		if a.Flags&unix.IFA_F_DADFAILED == 0 {
			return true, nil
		}
	}
	return false, nil
}

// isAbsent reports a delete of an address that is not there.
func isAbsent(err error) bool {
	return errors.Is(err, unix.EADDRNOTAVAIL) || errors.Is(err, unix.ESRCH) || errors.Is(err, unix.ENODEV)
}

// delAddr is the minimal request that deletes a listed address: the
// address, prefix length and label must match; nothing else is sent.
func delAddr(a netlink.Addr) *netlink.Addr {
	return &netlink.Addr{IPNet: a.IPNet, Label: a.Label, Broadcast: net.IPv4zero}
}

// Monitor is the resource monitor of a virtual IP (haresources.toml
// monitor_interval): healthy when the address is on its interface, not
// DAD-failed, and the interface is administratively up with carrier
// (IFF_UP and IFF_RUNNING). reason says what is wrong when it is not.
func (v *VIP) Monitor(ctx context.Context) (ok bool, reason string, err error) {
	v.mu.Lock()
	defer v.mu.Unlock()
	h, err := newHandle(ctx)
	if err != nil {
		return false, "", err
	}
	defer h.Close()
	t, err := v.resolve(h, 0)
	if errors.Is(err, ErrNoInterface) {
		return false, "its interface is gone", nil
	}
	if err != nil {
		return false, "", err
	}
	a := t.link.Attrs()
	switch {
	case a.RawFlags&unix.IFF_UP == 0:
		return false, "interface " + a.Name + " is down", nil
	case a.RawFlags&unix.IFF_RUNNING == 0:
		return false, "interface " + a.Name + " has no carrier", nil
	}
	have, err := v.findOnLink(h, t)
	if err != nil {
		return false, "", err
	}
	for _, x := range have {
		if x.Flags&unix.IFA_F_DADFAILED == 0 {
			return true, "", nil
		}
	}
	if len(have) > 0 {
		return false, "duplicate address detection failed", nil
	}
	return false, "address not on " + a.Name, nil
}
