package e2eres

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/hasuite/hasuite/heartbeat/api"
	"github.com/hasuite/hasuite/heartbeat/cli"
	"github.com/hasuite/hasuite/internal/testbed"
	"github.com/hasuite/hasuite/test/internal/e2ekit"
)

// moveStep is one operator command and what must hold right after it
// returns (the commands wait for the move): its exit code, the word it
// reports this node holds, and where each group runs.
type moveStep struct {
	on    int    // 0: node1, 1: node2
	bin   string // hb_standby or hb_takeover
	word  string // "" for none (all)
	holds string // "this node now holds <holds> resources."
	// owners: each group key's node (0 or 1), after the step.
	owners map[string]int
}

// movePair is two of our nodes with a haresources and the groups' VIPs.
type movePair struct {
	*cluster
	n    [2]*ourNode
	vips map[string]string // group key -> VIP
}

func startMovePair(t *testing.T, haresources string, vips map[string]string, rsc1, rsc2 string) *movePair {
	t.Helper()
	c := newCluster(t)
	spec := func(name, peer string) nodeSpec {
		return nodeSpec{name: name, hacf: ourHACF(peer, "on"), authkeys: sha256Authkeys, haresources: haresources}
	}
	p := &movePair{cluster: c, vips: vips}
	p.n[0], p.n[1] = newNode(t, c.h1, spec("node1", node2Addr)), newNode(t, c.h2, spec("node2", node1Addr))
	p.n[0].Start()
	p.n[1].Start()
	p.n[0].WaitRsc(rsc1, settleBound)
	p.n[1].WaitRsc(rsc2, settleBound)
	return p
}

// check asserts that every group runs on its owner only (hactl's group
// states on the nodes whose daemon runs, the VIP on the owner's host only).
func (p *movePair) check(what string, owners map[string]int) {
	p.t.Helper()
	for i, n := range p.n {
		running := !n.Proc.Exited()
		var g map[string]api.Group
		if running {
			g = n.groups()
		}
		for key, owner := range owners {
			want := "stopped"
			if owner == i {
				want = "running"
			}
			if running && (g[key].State != want || g[key].Failed) {
				p.t.Errorf("%s: hactl status on %s: group %s is %+v, want %s", what, n.Name, key, g[key], want)
			}
			if has := e2ekit.HasAddr(p.t, n.Host, p.vips[key]); has != (owner == i) {
				p.t.Errorf("%s: %s has %s: %v, want %v", what, n.Name, p.vips[key], has, owner == i)
			}
		}
	}
}

// run runs the steps in order: each command exits 0 with nothing on stdout
// (as Heartbeat's), "Going standby [x]." first on stderr for hb_standby,
// and our "Done in ...: this node now holds <x> resources." last; rscstatus
// on that node says the same at once, and the groups are where they must be.
func (p *movePair) run(steps []moveStep) {
	p.t.Helper()
	for _, st := range steps {
		n := p.n[st.on]
		var args []string
		if st.word != "" {
			args = []string{st.word}
		}
		what := strings.Join(append(append([]string{st.bin}, args...), "on", n.Name), " ")
		r := n.move(e2ekit.Bin(st.bin), args...)
		lines := strings.Split(strings.TrimSuffix(r.Stderr, "\n"), "\n")
		last, done := lines[len(lines)-1], "this node now holds "+st.holds+" resources."
		if r.Code != 0 || r.Stdout != "" || !strings.HasPrefix(last, "Done in ") || !strings.HasSuffix(last, done) {
			p.t.Fatalf("%s: %v, want exit 0, no stdout, and \"Done in ...: %s\" last on stderr; log:\n%s", what, r, done, testbed.Tail(n.Log(), 30))
		}
		if st.bin == "hb_standby" {
			logged := st.word
			switch logged {
			case "":
				logged = "all"
			case "failback":
				logged = "foreign"
			}
			if want := "Going standby [" + logged + "].\n"; !strings.HasPrefix(r.Stderr, want) {
				p.t.Errorf("%s: stderr %q, want it to begin with %q", what, r.Stderr, want)
			}
		}
		t := p.t
		t.Logf("%s: exit 0, stderr %q (command took %v)", what, r.Stderr, r.Took.Round(time.Millisecond))
		if got := n.Rsc(); got != st.holds {
			t.Errorf("%s: right after the command rscstatus on %s is %q, want %q", what, n.Name, got, st.holds)
		}
		p.check(what, st.owners)
	}
}

// TestHbStandbyAndHbTakeoverEveryWordOnASeedPair: only node1 is preferred
// for a group (node2 prefers nothing). Every word of hb_standby and
// hb_takeover on either node moves what Heartbeat 3.0.6 moves and exits 0
// once it has moved, "hb_takeover" (all) on node1 included (it used to
// fail: node1 holds local, there being no foreign group, and the command
// wanted both); a set with no groups moves nothing and succeeds at once.
// Then the refusals, with Heartbeat's words, streams and exit codes, and
// ours where Heartbeat has none: hactl standby/takeover --json, a move
// with the peer down (exit 1 where Heartbeat says nothing and exits 0),
// with no daemon, and heartbeat -s of a crashed daemon (exit 1: its pid
// file is left) and of a stopped one (exit 3).
func TestHbStandbyAndHbTakeoverEveryWordOnASeedPair(t *testing.T) {
	t.Parallel()
	const key = "198.18.0.100/24/eth0"
	p := startMovePair(t, "node1 "+key+"\n", map[string]string{key: vip1}, "local", "none")
	on1, on2 := map[string]int{key: 0}, map[string]int{key: 1}
	p.check("start", on1)

	// cl_status: a node's own links are dead, the peer's up.
	for _, x := range []struct {
		node, want string
		code       int
	}{{"node1", "dead", 1}, {"node2", "up", 0}} {
		if r := p.n[0].ClStatus("hblinkstatus", x.node, "eth0"); r.Code != x.code || r.Stdout != x.want+"\n" {
			t.Errorf("node1: cl_status hblinkstatus %s eth0 = %v, want %s, exit %d", x.node, r, x.want, x.code)
		}
	}

	p.run([]moveStep{
		{on: 0, bin: "hb_standby", holds: "none", owners: on2},
		{on: 0, bin: "hb_takeover", holds: "local", owners: on1},
		{on: 0, bin: "hb_standby", word: "local", holds: "none", owners: on2},
		{on: 0, bin: "hb_takeover", word: "local", holds: "local", owners: on1},
		{on: 0, bin: "hb_standby", word: "foreign", holds: "local", owners: on1},
		{on: 0, bin: "hb_standby", word: "failback", holds: "local", owners: on1},
		{on: 1, bin: "hb_takeover", word: "foreign", holds: "foreign", owners: on2},
		{on: 0, bin: "hb_takeover", word: "foreign", holds: "none", owners: on2},
		{on: 0, bin: "hb_takeover", word: "failback", holds: "local", owners: on1},
		{on: 1, bin: "hb_takeover", word: "all", holds: "foreign", owners: on2},
		{on: 1, bin: "hb_standby", word: "all", holds: "none", owners: on1},
		{on: 1, bin: "hb_takeover", word: "local", holds: "none", owners: on1},
		{on: 1, bin: "hb_takeover", word: "failback", holds: "none", owners: on1},
		{on: 1, bin: "hb_standby", word: "local", holds: "none", owners: on1},
	})

	// Refusals: Heartbeat's words and streams, exit 1, nothing moves.
	for _, x := range []struct {
		bin     string
		args    []string
		out, eo string
	}{
		{"hb_standby", []string{"everything"}, ": wrong resources(everything).\nusage:\n", " [all|foreign|local|failback]\n"},
		{"hb_takeover", []string{"all", "local"}, ": too many arguments\nusage:\n", " [all|foreign|local|failback]\n"},
		{"hb_takeover", []string{"--help"}, "usage:\n", " [all|foreign|local|failback]\n"},
	} {
		bin := e2ekit.Bin(x.bin)
		r := p.n[0].move(bin, x.args...)
		out := bin + x.out
		if x.args[0] == "--help" {
			out = x.out
		}
		if r.Code != 1 || r.Stdout != out || r.Stderr != bin+x.eo {
			t.Errorf("%s %s: %v, want exit 1, stdout %q, stderr %q", x.bin, strings.Join(x.args, " "), r, out, bin+x.eo)
		}
	}
	p.check("refused commands", on1)

	// hactl: the same moves, the outcome as JSON.
	for _, x := range []struct {
		on    int
		cmd   string
		word  string
		holds string
		owner map[string]int
	}{{1, "takeover", "all", "foreign", on2}, {0, "takeover", "failback", "local", on1}} {
		n := p.n[x.on]
		r := testbed.RunCmd(moveTimeout, nil, e2ekit.Bin("hactl"), "--run-dir", n.RunDir, x.cmd, x.word, "--json")
		var res cli.MoveResult
		if r.Code != 0 || json.Unmarshal([]byte(r.Stdout), &res) != nil || res.Command != x.cmd || res.Which != x.word ||
			res.Holding != x.holds || res.Took == "" {
			t.Fatalf("%s: hactl %s %s --json: %v (%+v), want holding %s", n.Name, x.cmd, x.word, r, res, x.holds)
		}
		t.Logf("%s: hactl %s %s --json: %s", n.Name, x.cmd, x.word, strings.Join(strings.Fields(r.Stdout), " "))
		p.check("hactl "+x.cmd+" "+x.word+" on "+n.Name, x.owner)
	}

	// node2's daemon crashes: its pid file stays behind.
	p.n[1].crash()
	p.n[0].WaitClStatus(moveBound, "dead", "nodestatus", "node2")
	if r := p.n[1].Heartbeat("-s"); r.Code != 1 || r.Stdout != "heartbeat is stopped. No process\n" {
		t.Errorf("heartbeat -s after a crash: %v, want exit 1 (pid file left) and %q", r, "heartbeat is stopped. No process\n")
	}
	// Ours exits 1 when a move cannot be done (Heartbeat exits 0).
	for _, bin := range []string{"hb_standby", "hb_takeover"} {
		r := p.n[0].move(e2ekit.Bin(bin))
		if r.Code != 1 || r.Stdout != "" || !strings.Contains(r.Stderr, bin+": ") || !strings.Contains(r.Stderr, "the peer node2 is not up") {
			t.Errorf("%s on node1 with node2 dead: %v, want exit 1 and the reason on stderr", bin, r)
		}
		r = p.n[1].move(e2ekit.Bin(bin))
		if r.Code != 1 || r.Stdout != "" || !strings.Contains(r.Stderr, bin+": heartbeat is not running (no control socket in "+p.n[1].RunDir+")") {
			t.Errorf("%s on node2 (no daemon): %v, want exit 1 and heartbeat is not running", bin, r)
		}
	}
	p.check("moves refused with the peer down", on1)
	p.n[0].stop()
	if r := p.n[0].Heartbeat("-s"); r.Code != 3 || r.Stdout != "heartbeat is stopped. No process\n" {
		t.Errorf("heartbeat -s after heartbeat -k: %v, want exit 3", r)
	}
}

// TestHbStandbyAndHbTakeoverEveryWordOnAnActiveActivePair: each node is
// preferred for one group. Every word of both commands on either node
// moves the set Heartbeat 3.0.6 moves (hb_takeover failback: the local
// groups, as its documentation says), and exits 0 once moved.
func TestHbStandbyAndHbTakeoverEveryWordOnAnActiveActivePair(t *testing.T) {
	t.Parallel()
	p := startMovePair(t, activeActiveHaresources, map[string]string{key1: vip1, key2: vip2}, "local", "local")
	home := map[string]int{key1: 0, key2: 1}
	allOn1 := map[string]int{key1: 0, key2: 0}
	allOn2 := map[string]int{key1: 1, key2: 1}
	swapped := map[string]int{key1: 1, key2: 0}
	p.check("start", home)
	p.run([]moveStep{
		{on: 0, bin: "hb_standby", holds: "none", owners: allOn2},
		{on: 0, bin: "hb_takeover", holds: "all", owners: allOn1},
		{on: 0, bin: "hb_standby", word: "local", holds: "foreign", owners: swapped},
		{on: 0, bin: "hb_takeover", word: "local", holds: "all", owners: allOn1},
		{on: 0, bin: "hb_standby", word: "foreign", holds: "local", owners: home},
		{on: 1, bin: "hb_standby", word: "failback", holds: "local", owners: home},
		{on: 0, bin: "hb_takeover", word: "foreign", holds: "all", owners: allOn1},
		{on: 0, bin: "hb_standby", word: "failback", holds: "local", owners: home},
		{on: 1, bin: "hb_takeover", word: "all", holds: "all", owners: allOn2},
		{on: 0, bin: "hb_takeover", word: "failback", holds: "local", owners: home},
		{on: 1, bin: "hb_standby", word: "local", holds: "none", owners: allOn1},
		{on: 1, bin: "hb_takeover", word: "failback", holds: "local", owners: home},
		{on: 1, bin: "hb_takeover", word: "foreign", holds: "all", owners: allOn2},
		{on: 1, bin: "hb_standby", word: "foreign", holds: "local", owners: home},
	})
}
