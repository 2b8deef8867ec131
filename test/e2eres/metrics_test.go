package e2eres

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"

	"github.com/hasuite/hasuite/heartbeat/api"
	"github.com/hasuite/hasuite/internal/testbed"
	"github.com/hasuite/hasuite/test/internal/e2ekit"
)

const metricsPort = "9101"

// startMetricsSeed is the seed scenario with metrics_listen on both nodes
// (their own address, port 9101).
func startMetricsSeed(t *testing.T) *seed {
	t.Helper()
	c := newCluster(t)
	spec := func(name, own, peer string) nodeSpec {
		return nodeSpec{name: name, hacf: ourHACF(peer, "on") + "metrics_listen " + own + ":" + metricsPort + "\n",
			authkeys: sha256Authkeys, haresources: seedHaresources, initD: map[string]string{"httpd": lsbHTTPD(name)}}
	}
	s := &seed{cluster: c, n1: newNode(t, c.h1, spec("node1", node1Addr, node2Addr)),
		n2: newNode(t, c.h2, spec("node2", node2Addr, node1Addr))}
	if g := os.Getenv("HASUITE_MEASURE_GOGC"); g != "" {
		s.n2.Env = []string{"GOGC=" + g} // TestMeasureScrapeCPU: the garbage collector's share
	}
	s.n1.Start()
	s.n2.Start()
	s.n1.WaitRsc("local", settleBound)
	s.n2.WaitRsc("none", settleBound)
	return s
}

// scrape GETs http://ip:9101/metrics from the client's namespace and parses
// it with the Prometheus text parser.
func scrape(t *testing.T, client *testbed.Host, ip string) map[string]*dto.MetricFamily {
	t.Helper()
	var fams map[string]*dto.MetricFamily
	err := client.Do(func() error {
		c, err := net.DialTimeout("tcp4", ip+":"+metricsPort, 2*time.Second)
		if err != nil {
			return err
		}
		defer c.Close()
		if err := c.SetDeadline(time.Now().Add(5 * time.Second)); err != nil {
			return err
		}
		if _, err := fmt.Fprintf(c, "GET /metrics HTTP/1.0\r\nHost: %s\r\n\r\n", ip); err != nil {
			return err
		}
		resp, err := http.ReadResponse(bufio.NewReader(c), nil)
		if err != nil {
			return err
		}
		defer resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			return fmt.Errorf("status %s", resp.Status)
		}
		p := expfmt.NewTextParser(model.UTF8Validation)
		fams, err = p.TextToMetricFamilies(io.LimitReader(resp.Body, 8<<20))
		return err
	})
	if err != nil {
		t.Fatalf("scrape %s: %v", ip, err)
	}
	return fams
}

// metricValue is the value of family name's sample whose labels include want
// ("k=v"); for a histogram its count. ok is false without such a sample.
func metricValue(fams map[string]*dto.MetricFamily, name string, want ...string) (v float64, ok bool) {
next:
	for _, m := range fams[name].GetMetric() {
		have := map[string]string{}
		for _, l := range m.Label {
			have[l.GetName()] = l.GetValue()
		}
		for _, kv := range want {
			k, v, _ := strings.Cut(kv, "=")
			if have[k] != v {
				continue next
			}
		}
		switch {
		case m.Counter != nil:
			return m.Counter.GetValue(), true
		case m.Gauge != nil:
			return m.Gauge.GetValue(), true
		case m.Histogram != nil:
			return float64(m.Histogram.GetSampleCount()), true
		}
	}
	return 0, false
}

func histogramSum(fams map[string]*dto.MetricFamily, name, label string) float64 {
	for _, m := range fams[name].GetMetric() {
		for _, l := range m.Label {
			k, v, _ := strings.Cut(label, "=")
			if l.GetName() == k && l.GetValue() == v && m.Histogram != nil {
				return m.Histogram.GetSampleSum()
			}
		}
	}
	return -1
}

// eventsClient runs hactl events --json against a node and collects its lines.
type eventsClient struct {
	cmd   *exec.Cmd
	mu    sync.Mutex
	lines []string
	done  chan struct{}
}

func followEvents(t *testing.T, n *ourNode) *eventsClient {
	t.Helper()
	cmd := exec.Command(e2ekit.Bin("hactl"), "--run-dir", n.RunDir, "events", "--json")
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	var stderr strings.Builder
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	ec := &eventsClient{cmd: cmd, done: make(chan struct{})}
	go func() {
		defer close(ec.done)
		sc := bufio.NewScanner(out)
		for sc.Scan() {
			ec.mu.Lock()
			ec.lines = append(ec.lines, sc.Text())
			ec.mu.Unlock()
		}
	}()
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		<-ec.done
		_ = cmd.Wait()
		if stderr.Len() > 0 {
			t.Logf("hactl events stderr: %s", stderr.String())
		}
	})
	return ec
}

// events parses every line so far; each must be one valid JSON object.
func (ec *eventsClient) events(t *testing.T) []api.Event {
	t.Helper()
	ec.mu.Lock()
	defer ec.mu.Unlock()
	var out []api.Event
	for i, l := range ec.lines {
		var e api.Event
		dec := json.NewDecoder(strings.NewReader(l))
		dec.DisallowUnknownFields()
		if err := dec.Decode(&e); err != nil || dec.More() {
			t.Fatalf("hactl events --json line %d is not one JSON event: %q: %v", i+1, l, err)
		}
		out = append(out, e)
	}
	return out
}

// TestMetricsAndEventsDuringFailover: node1 loses power while a client
// scrapes node2's /metrics and hactl events --json follows node2. The
// scrapes before and after show node1 active then dead, the group stopped
// then running here, one peer-dead failover observed with its duration,
// one death with its detection latency, and the counters moving; the
// event lines are valid JSON, in order, node-dead before the group's
// starting and running.
func TestMetricsAndEventsDuringFailover(t *testing.T) {
	t.Parallel()
	s := startMetricsSeed(t)
	const group = "198.18.0.100/24/eth0"
	ec := followEvents(t, s.n2)
	before := scrape(t, s.client, node2Addr)
	for _, c := range []struct {
		name   string
		labels []string
		want   float64
	}{
		{"hasuite_node_state", []string{"node=node1", "state=active"}, 1},
		{"hasuite_node_state", []string{"node=node1", "state=dead"}, 0},
		{"hasuite_node_link_up", []string{"node=node1", "link=eth0"}, 1},
		{"hasuite_group_state", []string{"group=" + group, "state=stopped"}, 1},
		{"hasuite_group_held_here", []string{"group=" + group}, 0},
	} {
		if v, ok := metricValue(before, c.name, c.labels...); !ok || v != c.want {
			t.Errorf("before: %s%v = %v (present %v), want %v", c.name, c.labels, v, ok, c.want)
		}
	}
	if _, ok := metricValue(before, "hasuite_failover_duration_seconds", "trigger=peer-dead"); ok {
		t.Errorf("before: a peer-dead failover already observed")
	}
	if v, ok := metricValue(before, "hasuite_node_last_heard_seconds", "node=node1"); !ok || v > 1 {
		t.Errorf("before: node1 last heard %v ago (present %v)", v, ok)
	}
	sentBefore, _ := metricValue(before, "hasuite_link_packets_sent_total", "link=eth0")
	rxBefore, _ := metricValue(before, "hasuite_messages_received_total", "result=accepted")

	at := time.Now()
	s.powerOff()
	s.n2.WaitRsc("foreign", moveBound)
	t.Logf("node2 holds node1's group %v after node1's power-off", time.Since(at).Round(time.Millisecond))
	time.Sleep(300 * time.Millisecond) // a few heartbeats more
	after := scrape(t, s.client, node2Addr)
	for _, c := range []struct {
		name   string
		labels []string
		want   float64
	}{
		{"hasuite_node_state", []string{"node=node1", "state=dead"}, 1},
		{"hasuite_node_state", []string{"node=node1", "state=active"}, 0},
		{"hasuite_node_link_up", []string{"node=node1", "link=eth0"}, 0},
		{"hasuite_group_state", []string{"group=" + group, "state=running"}, 1},
		{"hasuite_group_held_here", []string{"group=" + group}, 1},
		{"hasuite_failover_duration_seconds", []string{"trigger=peer-dead"}, 1},
		{"hasuite_failovers_total", []string{"trigger=peer-dead"}, 1},
		{"hasuite_node_deaths_total", []string{"node=node1", "reason=timeout"}, 1},
		{"hasuite_death_detection_seconds", []string{"node=node1"}, 1},
	} {
		if v, ok := metricValue(after, c.name, c.labels...); !ok || v != c.want {
			t.Errorf("after: %s%v = %v (present %v), want %v", c.name, c.labels, v, ok, c.want)
		}
	}
	dur := histogramSum(after, "hasuite_failover_duration_seconds", "trigger=peer-dead")
	det := histogramSum(after, "hasuite_death_detection_seconds", "node=node1")
	t.Logf("metrics: failover duration %.3fs (death to running), detection latency %.3fs", dur, det)
	if dur <= 0 || dur > moveBound.Seconds() {
		t.Errorf("failover duration %v s", dur)
	}
	if det < 0.5 || det > 2 {
		t.Errorf("detection latency %v s, want about deadtime (500 ms)", det)
	}
	sentAfter, _ := metricValue(after, "hasuite_link_packets_sent_total", "link=eth0")
	rxAfter, _ := metricValue(after, "hasuite_messages_received_total", "result=accepted")
	if sentAfter <= sentBefore {
		t.Errorf("packets sent did not move: %v -> %v", sentBefore, sentAfter)
	}
	if rxAfter < rxBefore {
		t.Errorf("messages received went back: %v -> %v", rxBefore, rxAfter)
	}
	if after["process_cpu_seconds_total"] == nil || after["go_goroutines"] == nil {
		t.Errorf("process or Go metrics missing")
	}

	// The event stream: valid JSON lines, in order.
	var evs []api.Event
	testbed.WaitFor(5*time.Second, e2ekit.SlowPoll, func() bool {
		evs = ec.events(t)
		for _, e := range evs {
			if e.Event == "group-state" && e.To == "running" {
				return true
			}
		}
		return false
	})
	idx := func(match func(api.Event) bool) int {
		for i, e := range evs {
			if match(e) {
				return i
			}
		}
		return -1
	}
	dead := idx(func(e api.Event) bool { return e.Event == "node-dead" && e.Node == "node1" })
	starting := idx(func(e api.Event) bool { return e.Event == "group-state" && e.Group == group && e.To == "starting" })
	running := idx(func(e api.Event) bool { return e.Event == "group-state" && e.Group == group && e.To == "running" })
	var names []string
	for i, e := range evs {
		names = append(names, e.Event+":"+e.Node+e.Group+":"+e.To)
		if i > 0 && (e.Seq <= evs[i-1].Seq || e.Time.Before(evs[i-1].Time)) {
			t.Errorf("event %d out of order: seq %d at %v after seq %d at %v", i, e.Seq, e.Time, evs[i-1].Seq, evs[i-1].Time)
		}
	}
	t.Logf("hactl events --json: %d lines: %s", len(evs), strings.Join(names, " "))
	if dead < 0 || starting < 0 || running < 0 || !(dead < starting && starting < running) {
		t.Fatalf("events out of order or missing: node-dead %d, starting %d, running %d", dead, starting, running)
	}
	if evs[dead].SilenceMS < 500 || evs[dead].Reason != "no heartbeat" {
		t.Errorf("node-dead event %+v", evs[dead])
	}
}

// TestMetricsAddressInUse: metrics_listen on a port another process holds
// stops the daemon at start with the address in the error (exit 1);
// with metrics_required off it starts without metrics (and says so).
func TestMetricsAddressInUse(t *testing.T) {
	t.Parallel()
	c := newCluster(t)
	var ln net.Listener
	if err := c.h2.Do(func() error {
		var err error
		ln, err = net.Listen("tcp4", node2Addr+":"+metricsPort)
		return err
	}); err != nil {
		t.Fatal(err)
	}
	defer func() { _ = ln.Close() }()
	spec := nodeSpec{name: "node2", hacf: ourHACF(node1Addr, "on") + "metrics_listen " + node2Addr + ":" + metricsPort + "\n",
		authkeys: sha256Authkeys, haresources: seedHaresources, initD: map[string]string{"httpd": lsbHTTPD("node2")}}
	n := newNode(t, c.h2, spec)
	p := c.h2.StartSandboxed(t, *n.Sandbox, e2ekit.Bin("heartbeat"), n.Args()...)
	if err := p.Wait(e2ekit.StartBound); err == testbed.ErrTimeout {
		t.Fatalf("heartbeat kept running with its metrics address in use")
	}
	log := p.Log()
	if p.ExitCode() != 1 || !strings.Contains(log, "metrics_listen "+node2Addr+":"+metricsPort) ||
		!strings.Contains(log, "address already in use") || !strings.Contains(log, "metrics_required off") {
		t.Fatalf("exit %d; log:\n%s", p.ExitCode(), log)
	}
	t.Logf("refused: %s", lastLine(log, "address already in use"))

	n.WriteConf(spec.hacf+"metrics_required off\n", spec.authkeys)
	n.Start()
	if v := n.Status(); v.Core.Node != "node2" {
		t.Fatalf("status %+v", v.Core)
	}
	if !strings.Contains(n.Log(), "metrics not served: retrying every 30s") {
		t.Fatalf("no error logged; log:\n%s", n.Log())
	}
}

func lastLine(log, with string) string {
	var last string
	for _, l := range strings.Split(log, "\n") {
		if strings.Contains(l, with) {
			last = l
		}
	}
	return last
}

// TestMeasureScrapeCPU (HASUITE_MEASURE=1) measures what scraping
// /metrics every second costs node2's daemon: its CPU time (the sum of its
// threads' /proc schedstat run times, in ns)
// over a window without scrapes and over one with a scrape every second
// on one kept-alive connection, as Prometheus scrapes.
func TestMeasureScrapeCPU(t *testing.T) {
	if os.Getenv("HASUITE_MEASURE") == "" {
		t.Skip("a measurement of about 2 minutes: set HASUITE_MEASURE=1")
	}
	s := startMetricsSeed(t)
	const window = 60 * time.Second
	pid := s.n2.Status().Pid
	// The daemon's time on a CPU in ns (every thread's schedstat), precise
	// where process_cpu_seconds_total counts 10 ms ticks.
	cpu := func() float64 {
		tasks, err := filepath.Glob(fmt.Sprintf("/proc/%d/task/*/schedstat", pid))
		if err != nil || len(tasks) == 0 {
			t.Fatalf("threads of %d: %v", pid, err)
		}
		var ns float64
		for _, f := range tasks {
			b, err := os.ReadFile(f)
			if err != nil {
				continue // a thread that ended
			}
			var run float64
			if _, err := fmt.Sscan(string(b), &run); err == nil {
				ns += run
			}
		}
		return ns / 1e9
	}
	idle0 := cpu()
	time.Sleep(window)
	idle := cpu() - idle0
	busy0 := cpu()
	if out := os.Getenv("HASUITE_MEASURE_PERF"); out != "" { // a profile of the busy window
		perf := exec.Command("perf", "record", "-F", "999", "-g", "-p", fmt.Sprint(pid), "-o", out, "--", "sleep", "60")
		if err := perf.Start(); err != nil {
			t.Fatalf("perf: %v", err)
		}
		defer func() { _ = perf.Wait() }()
	}
	// As Prometheus scrapes: one kept-alive HTTP/1.1 connection (opened
	// now: the server gives a new connection 5 s for its first request).
	var conn net.Conn
	if err := s.client.Do(func() error {
		var err error
		conn, err = net.DialTimeout("tcp4", node2Addr+":"+metricsPort, 2*time.Second)
		return err
	}); err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	br := bufio.NewReader(conn)
	end := time.Now().Add(window)
	n := 0
	for time.Now().Before(end) {
		_ = conn.SetDeadline(time.Now().Add(5 * time.Second))
		if _, err := fmt.Fprintf(conn, "GET /metrics HTTP/1.1\r\nHost: %s\r\nAccept-Encoding: gzip\r\n\r\n", node2Addr); err != nil {
			t.Fatal(err)
		}
		resp, err := http.ReadResponse(br, nil)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := io.Copy(io.Discard, resp.Body); err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK || resp.Close {
			t.Fatalf("scrape %d: %s, close %v", n, resp.Status, resp.Close)
		}
		n++
		time.Sleep(time.Second)
	}
	busy := cpu() - busy0
	w := window.Seconds()
	t.Logf("node2's daemon CPU: %.3f s in %.0f s without scrapes (%.3f %% of a core), %.3f s with %d scrapes (%.3f %%); "+
		"cost of scraping every second: %.3f %% of a core (%.2f ms per scrape)",
		idle, w, 100*idle/w, busy, n, 100*busy/w, 100*(busy-idle)/w, 1000*(busy-idle)/float64(n))
}
