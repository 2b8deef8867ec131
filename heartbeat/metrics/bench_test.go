package metrics

import (
	"io"
	"net/http"
	"net/http/httptest"
	"syscall"
	"testing"
	"time"

	"github.com/hasuite/hasuite/heartbeat/node"
)

// BenchmarkScrape is one /metrics request as Prometheus makes it (gzip
// accepted) on a two-node cluster with two links and five groups, after a
// few events: the CPU a scrape costs the daemon.
func BenchmarkScrape(b *testing.B) {
	x := New("node2")
	s := snapshot()
	s.Links = append(s.Links, Link{Name: "eth1", Dropped: map[string]uint64{}})
	for _, g := range []string{"g1", "g2", "g3", "g4"} {
		s.Groups = append(s.Groups, Group{Key: g, Preferred: "node1", State: "stopped"})
	}
	x.Publish(s)
	for _, k := range []node.EventKind{node.NodeDead, node.LinkDead, node.GroupState, node.LateHeartbeat, node.FenceOK} {
		x.Event(node.Event{Kind: k, Node: "node1", Group: "g1"}, time.Now())
	}
	h := x.Handler()
	req := httptest.NewRequest(http.MethodGet, "/metrics", nil)
	req.Header.Set("Accept-Encoding", "gzip")
	req.Header.Set("Accept", "application/openmetrics-text;version=1.0.0;q=0.75,text/plain;version=0.0.4;q=0.5,*/*;q=0.1")
	b.ReportAllocs()
	var before, after syscall.Rusage
	_ = syscall.Getrusage(syscall.RUSAGE_SELF, &before)
	for b.Loop() {
		w := httptest.NewRecorder()
		h.ServeHTTP(w, req)
		if w.Code != 200 {
			b.Fatal(w.Code)
		}
		_, _ = io.Copy(io.Discard, w.Body)
	}
	_ = syscall.Getrusage(syscall.RUSAGE_SELF, &after)
	cpu := time.Duration(after.Utime.Nano() + after.Stime.Nano() - before.Utime.Nano() - before.Stime.Nano())
	// The process's CPU (GC included) per scrape; at one scrape a second,
	// this per second: cpu-ns/op / 1e7 is the percentage of one core.
	b.ReportMetric(float64(cpu.Nanoseconds())/float64(b.N), "cpu-ns/op")
	b.ReportMetric(float64(cpu.Nanoseconds())/float64(b.N)/1e7, "%core@1Hz")
}
