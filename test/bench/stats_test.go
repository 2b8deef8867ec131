package bench

import (
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"
)

// summary holds the order statistics of a sample.
type summary struct {
	n                       int
	min, p50, p90, p99, max time.Duration
	mean                    time.Duration
}

// percentile is the nearest-rank percentile of a sorted sample: the smallest
// value with at least p% of the sample at or below it. With 50 samples, p99
// is the maximum.
func percentile(sorted []time.Duration, p float64) time.Duration {
	if len(sorted) == 0 {
		return 0
	}
	rank := int(p/100*float64(len(sorted)) + 0.999999999)
	if rank < 1 {
		rank = 1
	}
	if rank > len(sorted) {
		rank = len(sorted)
	}
	return sorted[rank-1]
}

func summarize(d []time.Duration) summary {
	s := slices.Clone(d)
	slices.Sort(s)
	var sum time.Duration
	for _, v := range s {
		sum += v
	}
	out := summary{n: len(s)}
	if len(s) == 0 {
		return out
	}
	out.min, out.max = s[0], s[len(s)-1]
	out.p50, out.p90, out.p99 = percentile(s, 50), percentile(s, 90), percentile(s, 99)
	out.mean = sum / time.Duration(len(s))
	return out
}

func ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }

func (s summary) String() string {
	return fmt.Sprintf("n=%d min=%.1fms p50=%.1fms p90=%.1fms p99=%.1fms max=%.1fms mean=%.1fms",
		s.n, ms(s.min), ms(s.p50), ms(s.p90), ms(s.p99), ms(s.max), ms(s.mean))
}

// report puts a summary into the benchmark's metrics with a name prefix.
func (s summary) report(b *testing.B, prefix string) {
	b.ReportMetric(ms(s.p50), prefix+"p50-ms")
	b.ReportMetric(ms(s.p99), prefix+"p99-ms")
	b.ReportMetric(ms(s.max), prefix+"max-ms")
	b.ReportMetric(ms(s.min), prefix+"min-ms")
}

// envInt and envDuration read the benchmarks' knobs.
func envInt(b *testing.B, name string, def int) int {
	v := os.Getenv(name)
	if v == "" {
		return def
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < 1 {
		b.Fatalf("%s=%q: want a positive integer", name, v)
	}
	return n
}

func envDuration(b *testing.B, name string, def time.Duration) time.Duration {
	v := os.Getenv(name)
	if v == "" {
		return def
	}
	d, err := time.ParseDuration(v)
	if err != nil || d <= 0 {
		b.Fatalf("%s=%q: want a positive duration such as 10m", name, v)
	}
	return d
}

// procSample is what /proc says about one process at one moment.
type procSample struct {
	pid        int
	comm       string
	cmdline    string
	ticks      uint64 // utime+stime, in USER_HZ (100 per second on Linux)
	childTicks uint64 // cutime+cstime: children that exited and were reaped
	rssKB      uint64 // VmRSS
	hwmKB      uint64 // VmHWM
	anonKB     uint64 // RssAnon: heap, stacks (the rest of VmRSS is mostly the mapped binary and libraries)
	pssKB      uint64 // Pss from smaps_rollup (shared pages split between sharers)
	threads    int
	at         time.Time
	mountNSRef string
}

// userHZ is the unit of utime/stime in /proc/PID/stat (fixed at 100 for
// user space on Linux, whatever the kernel's HZ).
const userHZ = 100

// readProc samples one process.
func readProc(pid int) (procSample, error) {
	s := procSample{pid: pid, at: time.Now()}
	stat, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return s, err
	}
	// comm is in parentheses and may contain spaces: parse after the last ')'.
	str := string(stat)
	lp, rp := strings.IndexByte(str, '('), strings.LastIndexByte(str, ')')
	if lp < 0 || rp < lp {
		return s, fmt.Errorf("/proc/%d/stat: unexpected %q", pid, str)
	}
	s.comm = str[lp+1 : rp]
	f := strings.Fields(str[rp+1:])
	// f[0] is field 3 (state); utime is field 14, stime field 15.
	if len(f) < 15 {
		return s, fmt.Errorf("/proc/%d/stat: short", pid)
	}
	ut, err1 := strconv.ParseUint(f[11], 10, 64)
	st, err2 := strconv.ParseUint(f[12], 10, 64)
	if err1 != nil || err2 != nil {
		return s, fmt.Errorf("/proc/%d/stat: bad times %q %q", pid, f[11], f[12])
	}
	s.ticks = ut + st
	cut, err1 := strconv.ParseUint(f[13], 10, 64)
	cst, err2 := strconv.ParseUint(f[14], 10, 64)
	if err1 != nil || err2 != nil {
		return s, fmt.Errorf("/proc/%d/stat: bad child times %q %q", pid, f[13], f[14])
	}
	s.childTicks = cut + cst
	if cmd, err := os.ReadFile(fmt.Sprintf("/proc/%d/cmdline", pid)); err == nil {
		s.cmdline = strings.TrimSpace(strings.ReplaceAll(string(cmd), "\x00", " "))
	}
	status, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return s, err
	}
	for _, l := range strings.Split(string(status), "\n") {
		k, v, ok := strings.Cut(l, ":")
		if !ok {
			continue
		}
		fields := strings.Fields(v)
		if len(fields) == 0 {
			continue
		}
		n, _ := strconv.ParseUint(fields[0], 10, 64)
		switch k {
		case "VmRSS":
			s.rssKB = n
		case "VmHWM":
			s.hwmKB = n
		case "RssAnon":
			s.anonKB = n
		case "Threads":
			s.threads = int(n)
		}
	}
	if rollup, err := os.ReadFile(fmt.Sprintf("/proc/%d/smaps_rollup", pid)); err == nil {
		for _, l := range strings.Split(string(rollup), "\n") {
			if k, v, ok := strings.Cut(l, ":"); ok && k == "Pss" {
				if fields := strings.Fields(v); len(fields) > 0 {
					s.pssKB, _ = strconv.ParseUint(fields[0], 10, 64)
				}
			}
		}
	}
	s.mountNSRef, _ = os.Readlink(fmt.Sprintf("/proc/%d/ns/mnt", pid))
	return s, nil
}

// pidsInMountNS lists the processes whose mount namespace is ns (as
// readlink /proc/PID/ns/mnt prints it, "mnt:[4026532...]"). A real
// Heartbeat node runs in a private mount namespace of the test bed, so
// these are exactly its master control process and children.
func pidsInMountNS(ns string) []int {
	ents, err := os.ReadDir("/proc")
	if err != nil {
		return nil
	}
	var out []int
	for _, e := range ents {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		if l, err := os.Readlink(filepath.Join("/proc", e.Name(), "ns", "mnt")); err == nil && l == ns {
			out = append(out, pid)
		}
	}
	return out
}

func TestPercentile(t *testing.T) {
	var d []time.Duration
	for i := 1; i <= 50; i++ {
		d = append(d, time.Duration(i)*time.Millisecond)
	}
	s := summarize(d)
	if s.p50 != 25*time.Millisecond || s.p99 != 50*time.Millisecond || s.max != 50*time.Millisecond || s.min != time.Millisecond {
		t.Fatalf("summary %v", s)
	}
	if got := percentile([]time.Duration{7}, 99); got != 7 {
		t.Fatalf("single sample p99 = %v", got)
	}
}

func TestReadProcSelf(t *testing.T) {
	s, err := readProc(os.Getpid())
	if err != nil {
		t.Fatal(err)
	}
	if s.rssKB == 0 || s.comm == "" || s.mountNSRef == "" {
		t.Fatalf("sample %+v", s)
	}
	found := false
	for _, p := range pidsInMountNS(s.mountNSRef) {
		found = found || p == os.Getpid()
	}
	if !found {
		t.Fatal("own PID not in own mount namespace")
	}
}

func TestScanLate(t *testing.T) {
	log := "2025-11-22T05:44:03.922Z\tWARN\tlate heartbeat from node2\t{\"node\": \"node2\", \"interval\": \"44ms\"}\n" +
		"2025-11-22T05:44:03.923Z\tWARN\tlate heartbeat from node2\t{\"node\": \"node2\", \"interval\": \"45ms\"}\n" +
		"2025-11-22T05:44:09.000Z\tINFO\tsomething else\n" +
		"2025-11-22T05:44:10.000Z\tWARN\tlate heartbeat from node2\t{\"node\": \"node2\", \"interval\": \"31ms\"}\n"
	s := scanLate(log)
	if s.lines != 3 || s.episodes != 2 || s.max != 45*time.Millisecond {
		t.Fatalf("scanLate = %+v", s)
	}
}
