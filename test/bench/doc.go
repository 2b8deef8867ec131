// Package bench holds the suite's performance benchmarks. They run the real
// binaries (built once per benchmark from this module) in network namespaces
// of internal/testbed, next to the real Linux-HA Heartbeat 3.0.6 as a
// reference, and report their figures with testing.B.ReportMetric.
//
// Run them with "make bench" (root, network namespaces; about 25 minutes),
// which is:
//
//	go test -count=1 -timeout 60m -run '^$' -bench . -benchtime 1x -v ./test/bench/
//
// The benchmarks:
//
//   - BenchmarkDetection: how long after a SIGKILL of node2 node1 declares it
//     dead (50 trials; p50, p99, max), for hasuite and for Heartbeat 3.0.6.
//   - BenchmarkIdleFootprint: RSS and CPU of an idle node over 60 s, for
//     hasuite and Heartbeat 3.0.6 (all processes of the node), and for
//     testdata/floor.c, a C loop that only sends and reads the datagrams:
//     the floor under any implementation on the machine (skipped without
//     a C compiler); floor-c-timer-only is the same loop reading only when
//     its timer fires (one wake-up per keepalive), the floor of a design
//     that lets incoming messages wait.
//   - BenchmarkNoFalseDeaths: an idle pair for HB_SOAK (default 10m); counts
//     "is dead" and "late heartbeat" log lines on both nodes.
//
// Environment knobs (for quick runs; the documented figures use the
// defaults): HB_TRIALS (detection trials, default 50), HB_IDLE (footprint
// interval, default 60s), HB_SOAK (soak duration, default 10m), HB_BIN (use
// the binaries in this directory instead of building them),
// HB_REAL_KEEPALIVE, HB_REAL_DEADTIME, HB_REAL_WARNTIME (timings of the real
// Heartbeat; by default 20ms/100ms/60ms for detection, 10ms/50ms/30ms for
// the footprint) and HB_REAL_MODE=restart (restart only node2 between
// detection trials of the real Heartbeat). A soak longer than about 35
// minutes needs a larger go test -timeout.
//
// docs/benchmarks.md has the figures measured and how they were measured.
package bench
