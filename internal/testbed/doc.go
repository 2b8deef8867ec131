// Package testbed builds throw-away virtual networks of network namespaces for
// end-to-end tests and benchmarks, and runs real Linux-HA Heartbeat 3.0.6 nodes
// (and the suite's own daemons) inside them.
//
// The rules it enforces come from shared/TESTBED.md:
//
//   - every host is a network namespace "<prefix>-<name>", every switch a Linux
//     bridge in its own namespace "<prefix>-sw<name>", joined by veth pairs that
//     are created directly inside those namespaces (never in the root namespace,
//     so parallel runs cannot collide on interface names);
//   - only addresses from 198.18.0.0/15 (and the IPv6 benchmarking range
//     2001:2::/48) are accepted by Host.Connect and Host.AddAddr;
//   - the prefix is "hbt<pid>-<4 hex>"; New also removes namespaces and
//     directories left behind by earlier runs whose process is gone (a go test
//     timeout panics without running cleanups);
//   - a cleanup registered with t.Cleanup kills every process of every host (by
//     PID, found by scanning /proc for members of the host's network namespace,
//     so daemons that setsid() and fork are found too) and deletes every
//     namespace, also when the test fails;
//   - without root or a working "ip netns" the test is skipped with the reason,
//     except when CI=true, where it fails (see Unavailable).
//
// Methods that take no testing.TB report errors with the TB given to New, so
// call them from the test goroutine only.
//
// # Running the real heartbeat (gotchas found by experiment)
//
// The Debian package heartbeat 1:3.0.6-13 installs the daemon as
// /usr/libexec/heartbeat/heartbeat and cl_status as /usr/bin/cl_status (setgid
// haclient). Running two real nodes on one machine needs private copies of
// every path the daemon shares:
//
//   - /etc/ha.d (ha.cf, authkeys, haresources and the packaged harc, rc.d/,
//     resource.d/, shellfuncs which ResourceManager needs): a per-node copy is
//     bind-mounted over it;
//   - /var/lib/heartbeat (hb_uuid, hb_generation, hostcache, delhostcache and the
//     FIFO "fifo" that every heartbeat client writes to): a per-node directory
//     with the package's owners (ccm, crm, pengine hacluster:haclient 0750;
//     cores/{root,nobody,hacluster} 0700) is bind-mounted over it; it survives
//     restarts of the node, so the generation counter grows like on a real
//     machine;
//   - /run (= /var/run): /run/heartbeat.pid, the API socket
//     /run/heartbeat/register that cl_status connects to, /run/heartbeat/rsctmp,
//     and the resource agents' state in /run/resource-agents (HA_RSCTMP; e.g. the
//     Dummy agent's state file). A per-node directory is bind-mounted over all of
//     /run; it survives a daemon crash (Kill, as on a real machine) but is
//     emptied by Host.PowerOff (a reboot empties the tmpfs /run). A stale
//     heartbeat.pid is removed before every start, because heartbeat refuses to
//     start when the PID in it happens to be alive again.
//   - the host name: heartbeat takes its node name from uname -n, so each node
//     runs in its own UTS namespace (unshare --uts) with its name written to
//     /proc/sys/kernel/hostname.
//
// Further observations with heartbeat 3.0.6 in a namespace:
//
//   - "-f" keeps it in the foreground; it still calls setsid() and logs
//     "ERROR: setsid() failure" when it is a process-group leader, so
//     sandboxed processes are not given their own group (Start's plain
//     processes are). After setsid() its process group is its own.
//   - Its children (FIFO reader, one read and one write process per medium)
//     outlive a SIGKILL of the master control process for a few seconds; Kill
//     therefore kills every process in the node's mount namespace, which
//     is exactly the set of processes that node started.
//   - SIGTERM is a graceful stop that takes about 3 s even with no resources
//     (it gives up resources, then waits for its children); Stop waits for it
//     with a bound and falls back to Kill.
//   - Without a logging daemon it must be told "use_logd no" and given a
//     "logfile"/"debugfile"; the runner puts these (pointing into the bed's
//     directory) in front of ha.cf when it has none, because logging
//     directives take effect when read. The daemon chowns the files to
//     hacluster:haclient. In the foreground it also prints its log lines on
//     stderr (captured in the Proc log), some without a newline.
//   - realtime (SCHED_RR, the default) works as root here; mlockall fails with
//     "Cannot lock ourselves into memory" (logged as ERROR, harmless) because
//     the container lacks CAP_SYS_RESOURCE.
//   - "initdead" below 10 s only draws a warning; "udpport setting must
//     precede media statements" is printed on every start even when it does.
//   - The API socket exists only after comm-up, so cl_status exits 1 ("Cannot
//     signon") until then; poll with WaitNodeStatus rather than sleeping.
//   - cl_status must run in the node's mount namespace (for /run/heartbeat) and
//     UTS namespace; ClStatus uses nsenter into the running daemon, and a fresh
//     sandbox with the same bind mounts when the daemon is gone (then it
//     reports "Heartbeat is stopped", exit 1, as on a real machine).
//   - Resource scripts work unchanged in the sandbox (IPaddr2 adds the VIP to
//     the host's interface and leaves send_arp running in the background with
//     its state in the private /run/resource-agents). Kill takes send_arp with
//     it but leaves the VIP configured, as a crash would; PowerOff removes it.
//   - After comm-up both nodes report rscstatus "transition" for about 10 s
//     (the initial resource negotiation), even with an empty haresources. A
//     peer crash or a SIGTERM inside that window can leave a node in
//     transition for good; SIGTERM then only logs "Shutdown delayed until
//     current resource activity finishes" and the daemon never exits (seen
//     once under load). Tests call WaitSettled before injecting faults, and
//     Stop waits for the transition to end before sending SIGTERM.
//   - Run at most one heartbeat node per host: they would share udpport.
//   - The kernels of the development machines have no sch_netem: Netem falls
//     back to an nftables netdev egress rule for "loss N%" only and skips (fails
//     under CI=true) for anything else.
//
// Everything the tests need is installed by scripts/install-test-deps.sh.
package testbed
