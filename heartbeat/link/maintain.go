package link

// Maintain re-checks the link's interface; the owner calls it every
// MaintainEvery.
//
// Plain down/up needs nothing from us: the kernel keeps the device index,
// the socket bindings and the multicast memberships across it. What this
// repairs is the rarer case of a device deleted and created again under
// the same name (a re-created VLAN, bond or veth): SO_BINDTODEVICE and
// memberships refer to the old index, so we rebind by name and join again.
// It also follows a changed broadcast address and re-joins the multicast
// group every time (a no-op while the membership exists), in case
// something dropped it. Failures are left for the next round: the device
// may simply not be back yet.
func (l *UDP) Maintain() {
	if l.closed.Load() {
		return
	}
	idx, err := ifIndex(l.recvFd, l.cfg.Dev)
	if err != nil {
		return
	}
	cur := l.dst.Load().addr.Addr()
	if int32(idx) != l.ifindex.Load() && l.rebind(idx) {
		l.ifindex.Store(int32(idx))
		l.setDestination(cur) // a link-local IPv6 destination names the index
	}
	if l.group.IsValid() {
		_ = joinGroup(l.recvFd, l.group, int(l.ifindex.Load()))
	}
	if l.cfg.Kind == KindBcast {
		if brd := broadcastAddr(l.sendFd, l.cfg.Dev); brd != cur {
			l.setDestination(brd)
		}
	}
}

// rebind points both sockets at the device's new index.
func (l *UDP) rebind(idx int) bool {
	if bindToDevice(l.sendFd, l.cfg.Dev) != nil {
		return false
	}
	if l.group.IsValid() && setMulticastIf(l.sendFd, l.v6, idx) != nil {
		return false
	}
	return bindToDevice(l.recvFd, l.cfg.Dev) == nil
}
