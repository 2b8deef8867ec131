package config

import (
	"net"
	"net/netip"
)

// Machine is what the checks of `heartbeat -t` need to know about the
// machine they run on (Advise, Firewall). LocalMachine asks the kernel;
// tests pass fakes.
type Machine interface {
	// Interfaces lists the network interfaces with their addresses.
	Interfaces() ([]Interface, error)
}

// Interface is one network interface and the addresses assigned to it.
type Interface struct {
	Name  string
	Addrs []netip.Addr
}

// LocalMachine is the machine this process runs on.
type LocalMachine struct{}

// Interfaces implements Machine with net.Interfaces.
func (LocalMachine) Interfaces() ([]Interface, error) {
	ifs, err := net.Interfaces()
	if err != nil {
		return nil, err
	}
	out := make([]Interface, 0, len(ifs))
	for _, ifi := range ifs {
		x := Interface{Name: ifi.Name}
		addrs, err := ifi.Addrs()
		if err != nil {
			return nil, err
		}
		for _, a := range addrs {
			if ipn, ok := a.(*net.IPNet); ok {
				if ip, ok := netip.AddrFromSlice(ipn.IP); ok {
					x.Addrs = append(x.Addrs, ip.Unmap())
				}
			}
		}
		out = append(out, x)
	}
	return out, nil
}

// machineView is what Advise and Firewall read from a Machine.
type machineView struct {
	known bool                // false: the machine could not be asked
	names map[string]bool     // interface names
	addrs map[netip.Addr]bool // every address of every interface
}

func viewOf(m Machine) (machineView, error) {
	if m == nil {
		return machineView{}, nil
	}
	ifs, err := m.Interfaces()
	if err != nil {
		return machineView{}, err
	}
	v := machineView{known: true, names: map[string]bool{}, addrs: map[netip.Addr]bool{}}
	for _, ifi := range ifs {
		v.names[ifi.Name] = true
		for _, a := range ifi.Addrs {
			v.addrs[a.Unmap().WithZone("")] = true
		}
	}
	return v, nil
}

// isLocal reports whether a ucast target is an address of this machine:
// an address literal assigned here, or a loopback address. Host names are
// not resolved (a check must not wait for DNS), so they count as remote.
func (v machineView) isLocal(target string) bool {
	a, err := netip.ParseAddr(target)
	if err != nil {
		return false
	}
	a = a.Unmap().WithZone("")
	return a.IsLoopback() || v.addrs[a]
}
