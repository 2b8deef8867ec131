package benchres

import (
	"os"
	"testing"
	"time"
)

// BenchmarkReproFailbackFalseDeath reproduces a product bug found by these
// benchmarks (HB_REPRO=1; skipped otherwise): node1 returns, node2 starts
// giving it a 100-VIP group back (auto_failback; stopping 100 VIPs takes
// ~1.3 s here), and node2's link drops every frame it sends for 150 ms.
// node1 declares node2 dead, abandons the standby handshake and starts the
// group while node2 still holds most of the VIPs; node2 finishes its stop
// and then stays in rscstatus "transition" for good. The benchmark fails
// while the bug is there.
func BenchmarkReproFailbackFalseDeath(b *testing.B) {
	if os.Getenv("HB_REPRO") != "1" {
		b.Skip("a reproduction of a known bug: set HB_REPRO=1 to run it")
	}
	c := newOurCluster(b, 100)
	if _, err := powerOffNode1(b, c, []int{0}); err != nil {
		b.Fatal(err)
	}
	c.h1.PowerOn()
	c.startHTTPD(b, "node1")
	mark := c.n2.log.mark()
	c.n1.Launch()
	if _, _, err := c.n2.log.waitFor(mark, steadyTimeout, "\tstop group "); err != nil {
		b.Fatal(err)
	}
	time.Sleep(200 * time.Millisecond)
	c.h2.Netem("eth0", "loss", "100%")
	time.Sleep(150 * time.Millisecond)
	c.h2.ClearNetem("eth0")
	if err := c.tryWaitHolder(b, "node1", steadyTimeout); err != nil {
		b.Errorf("the pair does not settle after a false death during the failback: %v", err)
	}
}
