package testbed

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// Timings of the smoke test: fast, but with generous bounds for the asserts.
const (
	smokeDeadtime = 2 * time.Second
	// Comm-up needs at most initdead (4 s) plus the first statuses; 30 s
	// leaves room for a loaded CI machine.
	smokeJoinBound = 30 * time.Second
	// The initial resource negotiation takes ~10 s after comm-up.
	smokeSettleBound = 60 * time.Second
	// Detection must happen after deadtime; the margin absorbs the 250 ms
	// poll of heartbeat's dead-node check and scheduling delays.
	smokeDeadBound = smokeDeadtime + 10*time.Second
)

func smokeHACF(peer string) string {
	return fmt.Sprintf(`# two-node smoke test
keepalive 200ms
deadtime 2
warntime 1
initdead 4
udpport 694
ucast eth0 %s
auto_failback on
node alpha beta
crm no
`, peer)
}

const smokeAuthkeys = "auth 1\n1 md5 s3cret\n"

// startPair runs real heartbeat nodes alpha (198.18.0.1) and beta
// (198.18.0.2) on one switch.
func startPair(t *testing.T) (*Bed, *RealHB, *RealHB) {
	t.Helper()
	RequireRealHeartbeat(t)
	b := New(t)
	sw := b.AddSwitch("lan")
	ha := b.AddHost("alpha")
	hb := b.AddHost("beta")
	ha.Connect(sw, "eth0", "198.18.0.1/24")
	hb.Connect(sw, "eth0", "198.18.0.2/24")
	alpha := ha.StartRealHeartbeat(t, RealHBConfig{Node: "alpha", HACF: smokeHACF("198.18.0.2"), Authkeys: smokeAuthkeys})
	beta := hb.StartRealHeartbeat(t, RealHBConfig{Node: "beta", HACF: smokeHACF("198.18.0.1"), Authkeys: smokeAuthkeys})
	return b, alpha, beta
}

// TestRealHeartbeatPair runs two real Heartbeat 3.0.6 nodes, waits until each
// sees the other active, crashes one and checks that the survivor declares
// it dead.
func TestRealHeartbeatPair(t *testing.T) {
	_, alpha, beta := startPair(t)

	took := alpha.WaitNodeStatus(t, "beta", "active", smokeJoinBound)
	beta.WaitNodeStatus(t, "alpha", "active", smokeJoinBound)
	t.Logf("alpha saw beta active after %v", took)
	// A crash during the initial resource negotiation can leave alpha in
	// "transition" for good (then it never stops); that is not this test.
	alpha.WaitSettled(t, smokeSettleBound)
	beta.WaitSettled(t, smokeSettleBound)

	// Each node is its own machine: own name, own state, own API socket.
	if out, code := alpha.ClStatus(t, "hbstatus"); code != 0 || out != "Heartbeat is running on this machine.\n" {
		t.Errorf("alpha hbstatus = %q, %d", out, code)
	}
	if out, code := beta.ClStatus(t, "nodestatus", "beta"); code != 0 || out != "active\n" {
		t.Errorf("beta about itself = %q, %d", out, code)
	}
	if out, code := alpha.ClStatus(t, "listnodes"); code != 0 || out != "beta\nalpha\n" {
		t.Errorf("alpha listnodes = %q, %d", out, code)
	}
	if r := alpha.Exec(t, "uname", "-n"); r.Stdout != "alpha\n" {
		t.Errorf("uname -n on alpha = %+v", r)
	}
	ua, errA := os.ReadFile(filepath.Join(alpha.StateDir(), "hb_uuid"))
	ub, errB := os.ReadFile(filepath.Join(beta.StateDir(), "hb_uuid"))
	if errA != nil || errB != nil || len(ua) != 16 || string(ua) == string(ub) {
		t.Errorf("per-node hb_uuid: %x (%v), %x (%v)", ua, errA, ub, errB)
	}
	if _, err := os.Stat("/run/heartbeat/register"); err == nil {
		t.Errorf("a test node's API socket appeared in the machine's /run")
	}

	beta.Kill()
	if beta.Running() {
		t.Fatal("beta still running after Kill")
	}
	start := time.Now()
	alpha.WaitNodeStatus(t, "beta", "dead", smokeDeadBound)
	took = time.Since(start)
	t.Logf("alpha declared beta dead %v after SIGKILL (deadtime %v)", took, smokeDeadtime)
	if took < smokeDeadtime/2 {
		// Generous lower bound: catching "dead" long before deadtime would
		// mean the check above observed something other than the timeout.
		t.Errorf("beta declared dead after %v, before deadtime %v", took, smokeDeadtime)
	}
	if !strings.Contains(alpha.Log(), "node beta: is dead") {
		t.Errorf("alpha's log lacks the death of beta:\n%s", Tail(alpha.Log(), 20))
	}

	// With the daemon gone, cl_status runs in a fresh sandbox and says so.
	if out, code := beta.ClStatus(t, "hbstatus"); code != 1 || out != "Heartbeat is stopped on this machine.\n" {
		t.Errorf("beta hbstatus after Kill = %q, %d", out, code)
	}

	alpha.Stop(t)
	if alpha.Running() {
		t.Fatal("alpha still running after Stop")
	}
	if !strings.Contains(alpha.Log(), "alpha Heartbeat shutdown complete.") {
		t.Errorf("alpha did not shut down gracefully:\n%s", Tail(alpha.Log(), 20))
	}
}

// TestRealHeartbeatRestartAndPowerOff checks that a restarted node keeps its
// generation, and that PowerOff kills everything and empties /run.
func TestRealHeartbeatRestartAndPowerOff(t *testing.T) {
	_, alpha, beta := startPair(t)
	alpha.WaitNodeStatus(t, "beta", "active", smokeJoinBound)
	alpha.WaitSettled(t, smokeSettleBound)
	gen1, err := os.ReadFile(filepath.Join(beta.StateDir(), "hb_generation"))
	if err != nil {
		t.Fatal(err)
	}
	beta.Stop(t)
	alpha.WaitNodeStatus(t, "beta", "dead", smokeDeadBound)

	beta2 := beta.Host.StartRealHeartbeat(t, RealHBConfig{Node: "beta", HACF: smokeHACF("198.18.0.1"), Authkeys: smokeAuthkeys})
	alpha.WaitNodeStatus(t, "beta", "active", smokeJoinBound)
	gen2, err := os.ReadFile(filepath.Join(beta2.StateDir(), "hb_generation"))
	if err != nil {
		t.Fatal(err)
	}
	if strings.TrimSpace(string(gen1)) == strings.TrimSpace(string(gen2)) {
		t.Errorf("generation did not change across a restart: %q", gen1)
	}

	beta2.Host.PowerOff()
	if beta2.Running() {
		t.Fatal("beta running after PowerOff")
	}
	if _, err := os.Stat(filepath.Join(beta2.RunDir(), "heartbeat", "register")); !os.IsNotExist(err) {
		t.Errorf("PowerOff kept /run/heartbeat/register (%v)", err)
	}
	alpha.WaitNodeStatus(t, "beta", "dead", smokeDeadBound)
}

// TestRealHeartbeatBadConfig checks that a configuration error is reported
// with the daemon's words instead of a hang.
func TestRealHeartbeatBadConfig(t *testing.T) {
	RequireRealHeartbeat(t)
	b := New(t)
	h := b.AddHost("alpha")
	ft := &fatalRecorder{TB: t}
	done := make(chan struct{})
	go func() {
		defer close(done)
		h.StartRealHeartbeat(ft, RealHBConfig{Node: "alpha", HACF: "bogus_directive 1\nnode alpha\n", Authkeys: smokeAuthkeys})
	}()
	select {
	case <-done:
	case <-time.After(realHBStartTimeout + 10*time.Second):
		t.Fatal("StartRealHeartbeat did not return")
	}
	if !strings.Contains(ft.msg, "exited during start-up") || !strings.Contains(ft.msg, "bogus_directive") {
		t.Fatalf("want the start-up failure with the log, got:\n%s", ft.msg)
	}
}

// TestRealHeartbeatTakeover checks that resource scripts work inside the
// sandbox: alpha holds an IPaddr2 VIP, beta takes it over when alpha crashes.
func TestRealHeartbeatTakeover(t *testing.T) {
	RequireRealHeartbeat(t)
	b := New(t)
	sw := b.AddSwitch("lan")
	ha := b.AddHost("alpha")
	hb := b.AddHost("beta")
	ha.Connect(sw, "eth0", "198.18.0.1/24")
	hb.Connect(sw, "eth0", "198.18.0.2/24")
	const vip = "198.18.0.100"
	res := "alpha IPaddr2::" + vip + "/24/eth0\n"
	alpha := ha.StartRealHeartbeat(t, RealHBConfig{Node: "alpha", HACF: smokeHACF("198.18.0.2"), Authkeys: smokeAuthkeys, Haresources: res})
	beta := hb.StartRealHeartbeat(t, RealHBConfig{Node: "beta", HACF: smokeHACF("198.18.0.1"), Authkeys: smokeAuthkeys, Haresources: res})
	beta.WaitNodeStatus(t, "alpha", "active", smokeJoinBound)
	alpha.WaitSettled(t, smokeSettleBound)
	beta.WaitSettled(t, smokeSettleBound)

	hasVIP := func(h *Host) bool {
		out, err := h.Run(t, "ip", "-4", "-o", "addr", "show", "dev", "eth0")
		if err != nil {
			t.Fatalf("ip addr in %s: %v: %s", h.Name, err, out)
		}
		return strings.Contains(string(out), " "+vip+"/")
	}
	waitVIP := func(h *Host, r *RealHB) {
		t.Helper()
		deadline := time.Now().Add(smokeJoinBound)
		for !hasVIP(h) {
			if time.Now().After(deadline) {
				t.Fatalf("%s never got %s; log:\n%s", h.Name, vip, Tail(r.Log(), 30))
			}
			time.Sleep(100 * time.Millisecond)
		}
	}
	waitVIP(ha, alpha)
	if hasVIP(hb) {
		t.Fatal("both nodes hold the VIP while both are up")
	}
	if out, code := alpha.ClStatus(t, "rscstatus"); code != 0 || strings.TrimSpace(out) != "all" && strings.TrimSpace(out) != "local" {
		t.Errorf("alpha rscstatus = %q, %d", out, code)
	}
	alpha.Kill()
	beta.WaitNodeStatus(t, "alpha", "dead", smokeDeadBound)
	waitVIP(hb, beta)
	if !hasVIP(ha) {
		t.Error("a crash of heartbeat removed the VIP; only a power-off should")
	}
	ha.PowerOff()
	ha.PowerOn()
	if hasVIP(ha) {
		t.Error("the VIP survived PowerOff")
	}
	if !pingEventually(t, hb, "198.18.0.1") {
		t.Error("alpha's own address is gone after PowerOff/PowerOn")
	}
}
