package e2eres

import (
	"testing"
	"time"

	"github.com/hasuite/hasuite/test/internal/e2ekit"
)

// activeActiveHaresources: each node is preferred for one VIP.
const activeActiveHaresources = "node1 198.18.0.100/24/eth0\nnode2 198.18.0.200/24/eth0\n"

// The group keys of activeActiveHaresources.
const (
	key1 = "198.18.0.100/24/eth0"
	key2 = "198.18.0.200/24/eth0"
)

// pair is two of our nodes with the active/active groups.
type pair struct {
	*cluster
	n1, n2 *ourNode
	mac    map[*ourNode]string
}

func startPair(t *testing.T, autoFailback string) *pair {
	t.Helper()
	c := newCluster(t)
	spec := func(name, peer string) nodeSpec {
		return nodeSpec{name: name, hacf: ourHACF(peer, autoFailback), authkeys: sha256Authkeys, haresources: activeActiveHaresources}
	}
	p := &pair{cluster: c, n1: newNode(t, c.h1, spec("node1", node2Addr)), n2: newNode(t, c.h2, spec("node2", node1Addr))}
	p.n1.Start()
	p.n2.Start()
	p.n1.WaitRsc("local", settleBound)
	p.n2.WaitRsc("local", settleBound)
	p.mac = map[*ourNode]string{p.n1: e2ekit.MACOf(t, c.h1), p.n2: e2ekit.MACOf(t, c.h2)}
	p.expectVIPs("start", p.n1, p.n2, time.Now())
	return p
}

// other is the node that is not n.
func (p *pair) other(n *ourNode) *ourNode {
	if n == p.n1 {
		return p.n2
	}
	return p.n1
}

// expectVIPs waits until vip1 is on owner1 only and vip2 on owner2 only,
// and until the client's neighbour table maps each to its owner.
func (p *pair) expectVIPs(what string, owner1, owner2 *ourNode, since time.Time) {
	p.t.Helper()
	p.cluster.expectVIPs(what, owner1.Host, owner2.Host, since)
}

// TestActiveActiveEachNodesFailureMovesItsVIPToThePeerAndBack: node1 and
// node2 each hold their own VIP; powering either off moves its VIP to the
// other (which then holds "all", and whose gratuitous ARP updates the
// client's neighbour entry without the client sending anything); when it
// returns it gets its own VIP back (auto_failback on) and the survivor
// keeps its own throughout.
func TestActiveActiveEachNodesFailureMovesItsVIPToThePeerAndBack(t *testing.T) {
	t.Parallel()
	p := startPair(t, "on")
	for _, down := range []*ourNode{p.n1, p.n2} {
		up := p.other(down)
		at := time.Now()
		down.Host.PowerOff()
		took := up.WaitRsc("all", moveBound)
		t.Logf("power-off of %s: %s holds all %v later", down.Name, up.Name, took.Round(time.Millisecond))
		p.expectVIPs("power-off of "+down.Name, up, up, at)

		at = time.Now()
		down.Host.PowerOn()
		down.clearVolatile()
		down.Start()
		down.WaitRsc("local", settleBound)
		up.WaitRsc("local", settleBound)
		t.Logf("%s back: each node holds its own group %v after the restart", down.Name, time.Since(at).Round(time.Millisecond))
		p.expectVIPs(down.Name+" back", p.n1, p.n2, at)
		for _, n := range []*ourNode{p.n1, p.n2} {
			g := n.groups()
			own, foreign := key1, key2
			if n == p.n2 {
				own, foreign = key2, key1
			}
			if g[own].State != "running" || g[foreign].State != "stopped" {
				t.Errorf("%s back: hactl on %s: own group %+v, peer's group %+v; want running, stopped", down.Name, n.Name, g[own], g[foreign])
			}
		}
	}
}
