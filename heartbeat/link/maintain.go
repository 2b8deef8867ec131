package link

import "syscall"

// maintain re-checks the link's interface; it runs on the reader goroutine.
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
func (l *udpLink) maintain() {
	var idx int
	if err := control(l.recvRaw, func(fd int) (err error) {
		idx, err = ifIndex(fd, l.cfg.Dev)
		return err
	}); err != nil {
		return
	}
	cur := l.dst.Load().addr.Addr()
	if idx != l.ifindex && l.rebind(idx) {
		l.ifindex = idx
		l.setDestination(cur) // a link-local IPv6 destination names the index
	}
	if l.group.IsValid() {
		_ = control(l.recvRaw, func(fd int) error { return joinGroup(fd, l.group, l.ifindex) })
	}
	if l.cfg.Kind == KindBcast {
		brd := cur
		_ = control(l.sendRaw, func(fd int) error {
			brd = broadcastAddr(fd, l.cfg.Dev)
			return nil
		})
		if brd != cur {
			l.setDestination(brd)
		}
	}
}

// rebind points both sockets at the device's new index.
func (l *udpLink) rebind(idx int) bool {
	err := control(l.sendRaw, func(fd int) error {
		if err := bindToDevice(fd, l.cfg.Dev); err != nil {
			return err
		}
		if l.group.IsValid() {
			return setMulticastIf(fd, l.v6, idx)
		}
		return nil
	})
	if err != nil {
		return false
	}
	return control(l.recvRaw, func(fd int) error { return bindToDevice(fd, l.cfg.Dev) }) == nil
}

// control runs f on the raw socket and merges the two error sources.
func control(rc syscall.RawConn, f func(fd int) error) error {
	var ferr error
	if err := rc.Control(func(fd uintptr) { ferr = f(int(fd)) }); err != nil {
		return err
	}
	return ferr
}
