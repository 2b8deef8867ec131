package e2eres

import (
	"fmt"
	"io"
	"mime/quotedprintable"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/hasuite/hasuite/internal/testbed"
	"github.com/hasuite/hasuite/test/internal/e2ekit"
)

// The SMTP server of the mail tests: Debian's python3-aiosmtpd on the
// client, printing every message it receives (its Debugging handler).
const (
	smtpAddr = clientAddr + ":2525"
	aiosmtpd = "/usr/bin/python3"
	// hangAddr accepts connections (the kernel's backlog) and never says a
	// word: a mail server that hangs.
	hangAddr = clientAddr + ":2526"
	// mailBound bounds a mail's arrival: the 2 s gather, a delivery, and
	// on a loaded machine some slack.
	mailBound = 30 * time.Second
)

// recordHook appends one line per run to /srv/notify.rec (the node's own
// /srv): HA_EVENT|HA_NODE|HA_GROUP|HA_LINK|HA_REASON|HA_TIME|arguments.
const recordHook = `#!/bin/sh
echo "$HA_EVENT|$HA_NODE|$HA_GROUP|$HA_LINK|$HA_REASON|$HA_TIME|$*" >> /srv/notify.rec
`

// notifySeed is the seed scenario with extra ha.cf lines on each node and
// its own haresources; hooks are written to each node's configuration
// directory first (extra may name them as {conf}).
func notifySeed(t *testing.T, haresources string, hooks map[string]string, extra func(name string) string) *seed {
	t.Helper()
	c := newCluster(t)
	mk := func(h *testbed.Host, name, peer string) *ourNode {
		n := newNode(t, h, nodeSpec{name: name, hacf: ourHACF(peer, "on"), authkeys: sha256Authkeys,
			haresources: haresources, initD: map[string]string{"httpd": lsbHTTPD(name)}})
		for file, body := range hooks {
			e2ekit.WriteFile(t, filepath.Join(n.ConfDir, file), body, 0o755)
		}
		hacf := ourHACF(peer, "on") + strings.ReplaceAll(extra(name), "{conf}", n.ConfDir)
		n.WriteConf(hacf, sha256Authkeys)
		return n
	}
	s := &seed{cluster: c, n1: mk(c.h1, "node1", node2Addr), n2: mk(c.h2, "node2", node1Addr)}
	begin := time.Now()
	s.n1.Start()
	s.n2.Start()
	s.n1.WaitRsc("local", settleBound)
	s.n2.WaitRsc("none", settleBound)
	s.mac1, s.mac2 = e2ekit.MACOf(t, c.h1), e2ekit.MACOf(t, c.h2)
	s.poll = startPoller(t, c.client, vip1)
	s.poll.waitAnswer(t, hello("node1"), begin, moveBound)
	return s
}

// record is a node's hook record without link events (their number
// depends on timing), each line split in its fields.
func (n *ourNode) record() [][]string {
	b, _ := os.ReadFile(filepath.Join(n.srvDir, "notify.rec"))
	var out [][]string
	for _, l := range strings.Split(strings.TrimSpace(string(b)), "\n") {
		f := strings.Split(l, "|")
		if len(f) != 7 || strings.HasPrefix(f[0], "link-") {
			continue
		}
		if f[0] == "node-up" && f[4] == "active" {
			f[4] = "up" // the state reached, up or active, is a matter of timing
		}
		out = append(out, f)
	}
	return out
}

func (n *ourNode) clearRecord() {
	if err := os.Remove(filepath.Join(n.srvDir, "notify.rec")); err != nil && !os.IsNotExist(err) {
		n.T.Fatal(err)
	}
}

// waitRecord waits until the record ends with want (each "event|node|group|
// link|reason|args", HA_TIME checked apart) and returns it.
func (n *ourNode) waitRecord(t *testing.T, want []string) [][]string {
	t.Helper()
	var rec [][]string
	match := func() bool {
		rec = n.record()
		if len(rec) != len(want) {
			return false
		}
		for i, f := range rec {
			if strings.Join(append(f[:5:5], f[6]), "|") != want[i] {
				return false
			}
		}
		return true
	}
	if _, ok := testbed.WaitFor(moveBound, 50*time.Millisecond, match); !ok {
		var got []string
		for _, f := range rec {
			got = append(got, strings.Join(f, "|"))
		}
		t.Fatalf("%s's hook record:\n%s\nwant (HA_TIME aside):\n%s\nlog:\n%s", n.Name, strings.Join(got, "\n"),
			strings.Join(want, "\n"), testbed.Tail(n.Log(), 30))
	}
	var prev time.Time
	for _, f := range rec {
		at, err := time.Parse("2006-01-02T15:04:05.000Z07:00", f[5])
		if err != nil || at.Before(prev) || time.Since(at) > 5*time.Minute {
			t.Errorf("HA_TIME %q (%v) out of order or wrong", f[5], err)
		}
		prev = at
	}
	return rec
}

// TestNotifyHookRecordsFailoverAndFailback: node2's hooks (notify_master
// and a generic notify) record a failover (node1 powered off) and the
// failback when node1 returns (auto_failback on), in order, with
// keepalived's arguments and the HA_* environment.
func TestNotifyHookRecordsFailoverAndFailback(t *testing.T) {
	t.Parallel()
	s := notifySeed(t, seedHaresources, map[string]string{"record.sh": recordHook}, func(string) string {
		return "notify_master {conf}/record.sh master-only\nnotify {conf}/record.sh x\n"
	})
	const g = seedKey
	s.n2.clearRecord()
	at := time.Now()
	s.powerOff()
	s.expectOn("power-off of node1", s.n2, at)
	s.n2.waitRecord(t, []string{
		"node-dead|node1|||timeout|x",
		"group-starting|node2|" + g + "|||x",
		"group-active|node2|" + g + "|||master-only",
		"group-active|node2|" + g + "|||x GROUP " + g + " MASTER 50",
	})
	at = time.Now()
	s.powerOnAndStart()
	s.expectOn("node1 powered on (auto_failback on)", s.n1, at)
	rec := s.n2.waitRecord(t, []string{
		"node-dead|node1|||timeout|x",
		"group-starting|node2|" + g + "|||x",
		"group-active|node2|" + g + "|||master-only",
		"group-active|node2|" + g + "|||x GROUP " + g + " MASTER 50",
		"node-up|node1|||up|x",
		"standby|node2|||auto_failback|x",
		"group-stopping|node2|" + g + "|||x",
		"group-stopped|node2|" + g + "|||x GROUP " + g + " BACKUP 50",
	})
	t.Logf("node2's hook record: %d runs in order, last %v after node1's power-on", len(rec), time.Since(at).Round(time.Millisecond))
	// node1's own record of getting its group back: MASTER with score 100.
	found := false
	for _, f := range s.n1.record() {
		if f[0] == "group-active" && f[6] == "x GROUP "+g+" MASTER 100" {
			found = true
		}
	}
	if !found {
		t.Errorf("node1's record lacks group-active with MASTER 100: %v", s.n1.record())
	}
}

// takeoverTime powers node1 off and returns how long the client waited
// for node2's page.
func takeoverTime(t *testing.T, s *seed) time.Duration {
	t.Helper()
	at := time.Now()
	s.powerOff()
	took, _ := s.poll.waitAnswer(t, hello("node2"), at, moveBound)
	s.n2.WaitRsc("foreign", moveBound)
	return took
}

// TestHangingHookAndMailServerDoNotDelayFailover: a notify hook that
// sleeps 60 s on every event, and a mail server that accepts connections
// and never answers, change nothing in the takeover time (measured
// against the same failover without them, within a generous bound).
func TestHangingHookAndMailServerDoNotDelayFailover(t *testing.T) {
	t.Parallel()
	base := notifySeed(t, seedHaresources, nil, func(string) string { return "" })
	plain := takeoverTime(t, base)
	t.Logf("takeover without hooks: %v", plain.Round(time.Millisecond))

	hang := "#!/bin/sh\necho \"$HA_EVENT\" >> /srv/hang.rec\nsleep 60\n"
	s := notifySeed(t, seedHaresources, map[string]string{"hang.sh": hang}, func(string) string {
		return "notify {conf}/hang.sh\nnotify_timeout 120\nmail_to ops@example.com\nsmtp_server " + hangAddr + "\nmail_events all\n"
	})
	// The hanging server: a listening socket nobody accepts on.
	s.client.Start(t, aiosmtpd, "-c", fmt.Sprintf(
		"import socket,time\ns=socket.socket()\ns.setsockopt(socket.SOL_SOCKET,socket.SO_REUSEADDR,1)\ns.bind(('%s',2526))\ns.listen(16)\ntime.sleep(600)",
		clientAddr))
	// The hook hangs on the first events of node2's start already.
	if _, ok := testbed.WaitFor(moveBound, 50*time.Millisecond, func() bool {
		b, _ := os.ReadFile(filepath.Join(s.n2.srvDir, "hang.rec"))
		return len(b) > 0
	}); !ok {
		t.Fatal("the hanging hook never ran on node2")
	}
	hooked := takeoverTime(t, s)
	t.Logf("takeover with a hook hanging 60 s and a mail server that never answers: %v", hooked.Round(time.Millisecond))
	if hooked > plain+2*time.Second {
		t.Errorf("takeover took %v with the hanging hook and server, %v without", hooked, plain)
	}
	if b, _ := os.ReadFile(filepath.Join(s.n2.srvDir, "hang.rec")); strings.Count(string(b), "\n") > 2 {
		t.Errorf("hooks did not run one at a time: %q", b)
	}
}

// smtpServer is aiosmtpd on the client; messages reads what it printed,
// quoted-printable bodies decoded.
type smtpServer struct{ p *testbed.Proc }

func startSMTP(t *testing.T, client *testbed.Host) *smtpServer {
	t.Helper()
	if _, err := os.Stat(aiosmtpd); err != nil {
		t.Fatalf("%s missing (install python3-aiosmtpd: scripts/install-test-deps.sh)", aiosmtpd)
	}
	p := client.Start(t, aiosmtpd, "-u", "-m", "aiosmtpd", "-n", "-l", smtpAddr)
	s := &smtpServer{p: p}
	if _, ok := testbed.WaitFor(10*time.Second, 50*time.Millisecond, func() bool {
		return client.Do(func() error { return dialTCP(smtpAddr) }) == nil
	}); !ok {
		t.Fatalf("aiosmtpd does not listen on %s; log:\n%s", smtpAddr, p.Log())
	}
	return s
}

func dialTCP(addr string) error {
	c, err := net.DialTimeout("tcp4", addr, 200*time.Millisecond)
	if err != nil {
		return err
	}
	return c.Close()
}

func (s *smtpServer) stop() {
	s.p.Kill()
}

func (s *smtpServer) text() string {
	b, _ := io.ReadAll(quotedprintable.NewReader(strings.NewReader(s.p.Log())))
	return string(b)
}

// waitMail waits until the server printed every one of want.
func (s *smtpServer) waitMail(t *testing.T, what string, want ...string) time.Duration {
	t.Helper()
	took, ok := testbed.WaitFor(mailBound, 100*time.Millisecond, func() bool {
		txt := s.text()
		for _, w := range want {
			if !strings.Contains(txt, w) {
				return false
			}
		}
		return true
	})
	if !ok {
		t.Fatalf("%s: the SMTP server did not receive %q within %v; it printed:\n%s", what, want, mailBound, s.text())
	}
	return took
}

// TestMailFailoverAndServerDown: aiosmtpd receives node2's failover mail
// (node-dead and group-active folded in one); then, with the server down,
// node1's mail about getting its group back is retried and arrives once
// the server is started again.
func TestMailFailoverAndServerDown(t *testing.T) {
	t.Parallel()
	s := notifySeed(t, seedHaresources, nil, func(string) string {
		return "mail_to ops@example.com\nmail_from ha@example.com\nsmtp_server " + smtpAddr + "\nmail_interval 1\n"
	})
	srv := startSMTP(t, s.client)
	at := time.Now()
	s.powerOff()
	s.expectOn("power-off of node1", s.n2, at)
	took := srv.waitMail(t, "failover", "Subject: [hasuite] node2: node-dead node1", "From: <ha@example.com>",
		"To: <ops@example.com>", "node-dead  node=node1  reason=timeout", "group-active  node=node2  group="+seedKey+"  state=MASTER")
	t.Logf("failover mail received %v after the failover", took.Round(time.Millisecond))

	srv.stop()
	at = time.Now()
	s.powerOnAndStart()
	s.expectOn("node1 powered on", s.n1, at)
	if _, ok := testbed.WaitFor(mailBound, 100*time.Millisecond, func() bool {
		return strings.Contains(s.n1.Log(), "mail not delivered; will retry")
	}); !ok {
		t.Fatalf("node1 did not try to mail with the server down; log:\n%s", testbed.Tail(s.n1.Log(), 30))
	}
	srv2 := startSMTP(t, s.client)
	took = srv2.waitMail(t, "after the server came back", "Subject: [hasuite] node1: group-active "+seedKey,
		"group-active  node=node1  group="+seedKey+"  state=MASTER")
	t.Logf("node1's mail arrived %v after the server was started again", took.Round(time.Millisecond))
}

// TestMailToResource: MailTo::ops@example.com::Web in haresources mails
// "Web Takeover in progress" when its group starts and "Web Migrating
// resource away" when it stops, on each node, with no mail package: one
// mail per start and stop.
func TestMailToResource(t *testing.T) {
	t.Parallel()
	s := notifySeed(t, "node1 198.18.0.100/24/eth0 MailTo::ops@example.com::Web httpd\n", nil, func(string) string {
		return "smtp_server " + smtpAddr + "\n"
	})
	srv := startSMTP(t, s.client)
	// node1 started before the server: its start mail is retried.
	srv.waitMail(t, "start on node1", "Subject: Web Takeover in progress at ", " on node1")
	s.n1.stop()
	s.expectOn("graceful stop of node1", s.n2, time.Now())
	srv.waitMail(t, "release by node1 and takeover by node2", "Subject: Web Migrating resource away at ", " from node1",
		" on node2")
	s.n1.Start()
	s.expectOn("node1 restarted", s.n1, time.Now())
	srv.waitMail(t, "release by node2", " from node2")
	// node1 start, stop; node2 start, stop; node1 start.
	if _, ok := testbed.WaitFor(mailBound, 100*time.Millisecond, func() bool {
		return strings.Count(srv.text(), "Subject: Web ") == 5
	}); !ok {
		t.Errorf("%d MailTo mails, want 5:\n%s", strings.Count(srv.text(), "Subject: Web "), srv.text())
	}
}

// TestSplitBrainHealedNotifiesAndMails: without fencing, node1's link is
// cut long enough for both nodes to run its group; when it heals, each
// node's hook records split-brain and then split-brain-healed, and a
// split-brain mail arrives.
func TestSplitBrainHealedNotifiesAndMails(t *testing.T) {
	t.Parallel()
	s := notifySeed(t, seedHaresources, map[string]string{"record.sh": recordHook}, func(string) string {
		return "notify {conf}/record.sh\nmail_to ops@example.com\nsmtp_server " + smtpAddr + "\nmail_interval 1\n"
	})
	srv := startSMTP(t, s.client)
	s.n1.clearRecord()
	s.n2.clearRecord()
	s.h1.LinkDown("eth0")
	s.n2.WaitRsc("foreign", moveBound)
	time.Sleep(time.Second) // node1 has declared node2 dead too
	s.h1.LinkUp("eth0")
	for _, n := range []*ourNode{s.n1, s.n2} {
		var split, healed int
		if _, ok := testbed.WaitFor(moveBound, 100*time.Millisecond, func() bool {
			split, healed = -1, -1
			for i, f := range n.record() {
				if f[0] == "split-brain" && split < 0 {
					split = i
				}
				if f[0] == "split-brain-healed" {
					healed = i
				}
			}
			return split >= 0 && healed > split
		}); !ok {
			t.Fatalf("%s: split-brain at %d, split-brain-healed at %d in %v; log:\n%s", n.Name, split, healed, n.record(),
				testbed.Tail(n.Log(), 30))
		}
	}
	s.n1.WaitRsc("local", moveBound)
	s.n2.WaitRsc("none", moveBound)
	srv.waitMail(t, "split brain", "split-brain  node=", "split-brain-healed  node=")
}
