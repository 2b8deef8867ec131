// Package benchres holds the resource-failover benchmarks: how fast a
// virtual IP moves between the two nodes, as the daemon and as a client see
// it. They run the suite's real binaries in network namespaces of
// internal/testbed (switch "lan", hosts node1 198.18.0.1, node2 198.18.0.2
// and client 198.18.0.10), with the demo HTTP server (internal/demo/httpd)
// listening on :80 on both nodes all the time, so that only the address
// moves and the outage the client sees is the failover itself.
//
// Run them as root (network namespaces; about 5 minutes with the
// comparison with Heartbeat 3.0.6 and keepalived):
//
//	go test -count=1 -timeout 60m -run '^$' -bench . -benchtime 1x -v ./test/benchres/
//
// The benchmarks (figures via testing.B.ReportMetric, in milliseconds):
//
//   - BenchmarkTakeoverLatency/vip1 and /vip100: from node2 declaring node1
//     dead (the timestamp of its log line, after node1's power was cut) to
//     the VIP(s) being announced (first gratuitous ARP at the client) and
//     answering the client (first SYN-ACK and first HTTP answer from node2;
//     the client probes every 1 ms).
//   - BenchmarkSwitchoverOutage/standby, /standby-vip100 and /failback: the
//     gap in the client's answers (last answer from the old node to the
//     first from the new one, probing every 1 ms) for hb_standby on the
//     active node (one VIP; a group of 100, probing the VIP stopped first),
//     and for the automatic failback when the preferred node1 returns.
//   - BenchmarkPowerOffOutage: the same gap when the active node loses power
//     (keepalive 10ms, deadtime 50ms).
//   - BenchmarkCompare: power-off, graceful-switchover and failback outages
//     of the real Heartbeat 3.0.6 (IPaddr2) and of keepalived 2.2.7 (VRRPv3,
//     unicast, a track script), measured the same way.
//   - BenchmarkSideBySide (make bench): ours (VIP only, the service on both
//     nodes), keepalived and Heartbeat 3.0.6 through the same scenarios
//     (idle CPU and RSS, power-off, failback, links returning after a
//     partition, daemon SIGKILL, graceful switchover); min / median / max
//     per system and scenario into a JSON file (BENCH_JSON) that
//     test/benchreport renders as a Markdown table and a PNG chart.
//   - BenchmarkFalseDeathsVIP100 (make bench): false deaths in hb_standby
//     moves of a 100-VIP group at deadtime 50ms with CPU hogs running.
//   - BenchmarkCheckFailover/hasuite-100ms, /hasuite-1s and /keepalived-1s:
//     from a check starting to fail on the active node (fall 2) to the
//     client's first answer from the peer; keepalived with a vrrp_script
//     of the same script, interval and fall.
//   - BenchmarkChecksCPU/hasuite and /keepalived: the CPU (per cent of one
//     core) of a lone node running 100 checks of /bin/true at 1 s, the
//     daemon's whole process tree.
//   - BenchmarkLocalRestart/monitor-1s and /monitor-200ms: the demo httpd
//     as a monitored resource.d service after the VIP in one group
//     (haresources.toml, monitor_interval 1s or 200ms) is SIGKILLed on the
//     active node; the client's outage (last answer before, first answer
//     from the restarted server after, probing every 1 ms) against
//     interval + the script's start time (measured alone on the idle
//     node2) + 5 ms; the daemon's "restarted in place" took; trials where
//     the group moved (must be 0).
//   - BenchmarkReproFailbackFalseDeath (HB_REPRO=1 only): reproduces a bug
//     these benchmarks found (see docs/benchmarks-resources.md).
//
// Times that matter are kernel receive timestamps of a packet socket in the
// client's namespace (SO_TIMESTAMPNS); HTTP answer times are taken by this
// process. Trials spoiled by the instrument are repeated, a misbehaving
// pair is reset; both are counted in the metrics (trials_test.go).
//
// Environment knobs: HB_TRIALS (trials per figure, default 20),
// HB_CMP_TRIALS (comparison trials, default 10), HB_BIN (a directory with
// already built heartbeat, cl_status, hactl, hb_standby, hb_takeover and
// httpd), HB_CMP=0 (skip the comparison), BENCH_QUICK=1 (few trials and
// short runs, to check the harness), BENCH_JSON, BENCH_VERSION,
// HB_FD_SWITCHES, HB_FD_HOGS, HB_CPUPROFILE (docs/benchmarks.md).
//
// docs/benchmarks-resources.md has the figures measured and the method.
package benchres
