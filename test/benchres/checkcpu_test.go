package benchres

import (
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/hasuite/hasuite/internal/testbed"
	"github.com/hasuite/hasuite/test/internal/e2ekit"
)

// The CPU cost of 100 checks (/bin/true) at 1 s on an idle node: our
// daemon alone (its peer never starts) against keepalived alone with 100
// vrrp_scripts tracked by one instance. The figure is the CPU time of the
// whole process tree (the daemons, and every check they ran and reaped)
// over cpuWindow, in per cent of one core.

const (
	cpuChecks = 100
	cpuWarmup = 5 * time.Second
	cpuWindow = 30 * time.Second
)

// treeCPU is the CPU time of pid and its live descendants, with the
// children they have reaped (cutime, cstime).
func treeCPU(root int) time.Duration {
	parent := map[int]int{}
	ticks := map[int]int64{}
	ents, _ := os.ReadDir("/proc")
	for _, e := range ents {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		b, err := os.ReadFile("/proc/" + e.Name() + "/stat")
		if err != nil {
			continue
		}
		s := string(b)
		i := strings.LastIndexByte(s, ')')
		if i < 0 {
			continue
		}
		f := strings.Fields(s[i+2:]) // from field 3 (state)
		if len(f) < 15 {
			continue
		}
		ppid, _ := strconv.Atoi(f[1])
		parent[pid] = ppid
		var t int64
		for _, k := range []int{11, 12, 13, 14} { // utime stime cutime cstime
			v, _ := strconv.ParseInt(f[k], 10, 64)
			t += v
		}
		ticks[pid] = t
	}
	var total int64
	for pid, t := range ticks {
		for p := pid; p > 1; p = parent[p] {
			if p == root {
				total += t
				break
			}
		}
	}
	return time.Duration(total) * 10 * time.Millisecond // CLK_TCK 100
}

func measureTreeCPU(b *testing.B, pid int) float64 {
	time.Sleep(cpuWarmup)
	c0, t0 := treeCPU(pid), time.Now()
	time.Sleep(cpuWindow)
	c1, t1 := treeCPU(pid), time.Now()
	return 100 * float64(c1-c0) / float64(t1.Sub(t0))
}

func BenchmarkChecksCPU(b *testing.B) {
	b.Run("hasuite", func(b *testing.B) {
		bin := binaries(b)
		n := newNet3(b, bin)
		nd := newOurNode(b, bin, n.h1, "node1", addr2, nil)
		if err := os.Remove(filepath.Join(nd.ConfDir, "haresources")); err != nil {
			b.Fatal(err)
		}
		var sb strings.Builder
		fmt.Fprintf(&sb, "[[group]]\nnode = \"node1\"\nresources = [\"%s/24/eth0\"]\n", firstVIP)
		for i := 0; i < cpuChecks; i++ {
			fmt.Fprintf(&sb, "\n[[group.check]]\nname = \"c%d\"\ncommand = [\"/bin/true\"]\ninterval = \"1s\"\n", i)
		}
		e2ekit.WriteFile(b, filepath.Join(nd.ConfDir, "haresources.toml"), sb.String(), 0o644)
		nd.Launch()
		pct := measureTreeCPU(b, nd.Proc.Pid())
		b.Logf("%d checks at 1 s: our daemon's tree used %.2f %% of a core", cpuChecks, pct)
		b.ReportMetric(pct, "cpu-percent")
	})
	b.Run("keepalived", func(b *testing.B) {
		n := newNet3(b, binaries(b))
		d := filepath.Join(n.bed.Dir, "node1", "keepalived")
		if err := os.MkdirAll(d, 0o755); err != nil {
			b.Fatal(err)
		}
		var sb strings.Builder
		sb.WriteString("global_defs {\n    router_id node1\n    vrrp_version 3\n    script_user root\n}\n")
		var track strings.Builder
		for i := 0; i < cpuChecks; i++ {
			fmt.Fprintf(&sb, "vrrp_script c%d {\n    script \"/bin/true\"\n    interval 1\n}\n", i)
			fmt.Fprintf(&track, "        c%d\n", i)
		}
		fmt.Fprintf(&sb, `vrrp_instance VI_1 {
    state BACKUP
    interface eth0
    virtual_router_id 51
    priority 200
    advert_int 0.01
    unicast_src_ip %s
    unicast_peer {
        %s
    }
    virtual_ipaddress {
        %s/24 dev eth0
    }
    track_script {
%s    }
}
`, addr1, addr2, firstVIP, track.String())
		e2ekit.WriteFile(b, filepath.Join(d, "keepalived.conf"), sb.String(), 0o644)
		p := &kaPair{net3: n, dir: map[string]string{"node1": d}, procs: map[string]*testbed.Proc{}}
		p.start(b, "node1")
		pct := measureTreeCPU(b, p.procs["node1"].Pid())
		b.Logf("%d vrrp_scripts at 1 s: keepalived's tree used %.2f %% of a core", cpuChecks, pct)
		b.ReportMetric(pct, "cpu-percent")
	})
}
