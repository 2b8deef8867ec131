package e2eres

import (
	"strings"
	"testing"
	"time"

	"github.com/hasuite/hasuite/internal/testbed"
	"github.com/hasuite/hasuite/test/internal/e2ekit"
)

// TestHbStandbyMovesEverythingToThePeerAndBackWithClStatusAgreeing: on an
// active/active pair, hb_standby on node1 moves both groups to node2 and
// exits 0 saying node1 now holds none; hb_standby on node2 moves them all to
// node1; "hb_standby foreign" on node1 hands node2 its group back. Right
// after each command returns, cl_status rscstatus on both nodes, hactl's
// group states and the VIPs on the hosts all agree.
func TestHbStandbyMovesEverythingToThePeerAndBackWithClStatusAgreeing(t *testing.T) {
	t.Parallel()
	p := startPair(t, "on")
	steps := []struct {
		on         *ourNode
		arg        string
		holds      string // what the command reports the node now holds
		rsc1, rsc2 string
		owner1     *ourNode // holder of vip1's group
		owner2     *ourNode
	}{
		{p.n1, "", "none", "none", "all", p.n2, p.n2},
		{p.n2, "all", "none", "all", "none", p.n1, p.n1},
		{p.n1, "foreign", "local", "local", "local", p.n1, p.n2},
	}
	for _, st := range steps {
		var args []string
		if st.arg != "" {
			args = []string{st.arg}
		}
		what := strings.Join(append(append([]string{"hb_standby"}, args...), "on", st.on.Name), " ")
		at := time.Now()
		r := st.on.move(e2ekit.Bin("hb_standby"), args...)
		// Heartbeat's streams: nothing on stdout; ours says on stderr what
		// the node holds once the move is done.
		if r.Code != 0 || r.Stdout != "" || !strings.Contains(r.Stderr, "this node now holds "+st.holds+" resources.") {
			t.Fatalf("%s: %v; log:\n%s", what, r, testbed.Tail(st.on.Log(), 30))
		}
		t.Logf("%s: %q (command took %v)", what, strings.TrimSpace(r.Stderr), r.Took.Round(time.Millisecond))
		// The command waits for the move: both nodes agree at once.
		if a, b := p.n1.Rsc(), p.n2.Rsc(); a != st.rsc1 || b != st.rsc2 {
			t.Errorf("%s: right after the command, rscstatus node1 %q node2 %q; want %q and %q", what, a, b, st.rsc1, st.rsc2)
		}
		for _, n := range []*ourNode{p.n1, p.n2} {
			g := n.groups()
			for key, owner := range map[string]*ourNode{key1: st.owner1, key2: st.owner2} {
				want := "stopped"
				if owner == n {
					want = "running"
				}
				if g[key].State != want || g[key].Failed {
					t.Errorf("%s: hactl status on %s: group %s is %+v, want %s", what, n.Name, key, g[key], want)
				}
			}
		}
		for vip, owner := range map[string]*ourNode{vip1: st.owner1, vip2: st.owner2} {
			if !e2ekit.HasAddr(t, owner.Host, vip) || e2ekit.HasAddr(t, p.other(owner).Host, vip) {
				t.Errorf("%s: %s should be on %s only", what, vip, owner.Name)
			}
		}
		p.expectVIPs(what, st.owner1, st.owner2, at)
	}

	// Refusals: a bad word is a usage error (exit 1), with Heartbeat's
	// words on its streams (complaint and "usage:" on stdout).
	if r := p.n1.move(e2ekit.Bin("hb_standby"), "everything"); r.Code != 1 || !strings.Contains(r.Stdout, "wrong resources(everything).\nusage:\n") {
		t.Errorf("hb_standby everything: %v, want exit 1 with Heartbeat's complaint and usage", r)
	}
}
