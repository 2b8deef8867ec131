package ipaddr

import (
	"context"
	"errors"
	"fmt"
	"net/netip"

	"github.com/vishvananda/netlink"

	"github.com/hasuite/hasuite/resources/haresources"
)

// Held is a configured virtual address found on an interface of this host.
type Held struct {
	Prefix netip.Prefix
	Iface  string
	Label  string // "" = none
}

// String is "198.18.0.100/24 dev eth0 label eth0:0".
func (h Held) String() string {
	s := h.Prefix.String() + " dev " + h.Iface
	if h.Label != "" {
		s += " label " + h.Label
	}
	return s
}

// Leftovers lists the configured virtual addresses present on this host (in
// the calling thread's network namespace): what a crash left behind, found
// at daemon start before negotiating with the peer. An address counts on
// the interface its spec names, or, when the spec names none, on any
// interface except loopbacks (an LVS-DR real server carries the VIP on lo
// on purpose). Specs whose address is invalid are reported in err; the
// others are still listed.
func Leftovers(specs []haresources.IPSpec) ([]Held, error) {
	ctx, cancel := context.WithTimeout(context.Background(), maxNetlinkWait)
	defer cancel()
	h, err := newHandle(ctx)
	if err != nil {
		return nil, err
	}
	defer h.Close()

	type want struct{ iface string }
	wanted := map[netip.Addr][]want{}
	var errs []error
	for _, s := range specs {
		a, err := parseVIP(s.Addr)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		wanted[a] = append(wanted[a], want{s.Iface})
	}
	if len(wanted) == 0 {
		return nil, errors.Join(errs...)
	}
	links, err := listLinks(h)
	if err != nil {
		return nil, errors.Join(append(errs, err)...)
	}
	type linkInfo struct {
		name     string
		loopback bool
	}
	byIndex := map[int]linkInfo{}
	for _, l := range links {
		byIndex[l.Attrs().Index] = linkInfo{l.Attrs().Name, isLoopback(l)}
	}
	addrs, err := listAddrs(h, nil, netlink.FAMILY_ALL)
	if err != nil {
		return nil, errors.Join(append(errs, err)...)
	}
	var out []Held
	for _, a := range addrs {
		p, ok := addrPrefix(a)
		if !ok {
			continue
		}
		li, ok := byIndex[a.LinkIndex]
		if !ok {
			continue
		}
		for _, w := range wanted[p.Addr()] {
			if w.iface == li.name || (w.iface == "" && !li.loopback) {
				label := a.Label
				if label == li.name {
					label = "" // the kernel's default label
				}
				out = append(out, Held{Prefix: p, Iface: li.name, Label: label})
				break
			}
		}
	}
	return out, errors.Join(errs...)
}

// RemoveAddrs removes every configured virtual address that Leftovers finds
// and returns what it removed ("198.18.0.100/24 dev eth0"). Call it at
// daemon start, before negotiating resources with the peer, so that an
// address left by a crash cannot answer next to the peer's. An address that
// vanishes meanwhile counts as removed.
func RemoveAddrs(specs []haresources.IPSpec) ([]string, error) {
	held, lerr := Leftovers(specs)
	if len(held) == 0 {
		return nil, lerr
	}
	ctx, cancel := context.WithTimeout(context.Background(), maxNetlinkWait)
	defer cancel()
	h, err := newHandle(ctx)
	if err != nil {
		return nil, errors.Join(lerr, err)
	}
	defer h.Close()
	errs := []error{lerr}
	var removed []string
	for _, x := range held {
		link, found, err := linkByName(h, x.Iface)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		if found {
			err = h.AddrDel(link, delAddr(netlinkAddr(x)))
			if err != nil && !isAbsent(err) {
				errs = append(errs, nlErr(fmt.Sprintf("remove %s", x), err))
				continue
			}
		}
		removed = append(removed, x.String())
	}
	return removed, errors.Join(errs...)
}

func netlinkAddr(x Held) netlink.Addr {
	return netlink.Addr{IPNet: ipNet(x.Prefix), Label: x.Label}
}
