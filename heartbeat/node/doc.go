// Package node is the whole decision layer of one cluster node: it owns the
// membership core (heartbeat/core) and the resource ownership manager
// (resources/manager), translates between them with typed values, answers
// operator commands, and decides when to fence and when a graceful stop is
// complete. It does no IO: no sockets, no goroutines, no clock, no global
// state. The daemon (heartbeat/daemon) does the IO and is the only caller.
//
// # Inputs
//
// Every input takes the current time (Time: a monotonic offset for every
// timeout, and the wall clock in seconds, only for the informational "ts"
// field of sent messages):
//
//   - Start(now): begin heartbeating. Called once, first.
//   - Receive(at, link, m): a packet that decoded and authenticated; at is
//     when it arrived (the kernel's receive time), not when it was read.
//   - Tick(now): the deadline returned by Next was reached; TickUpTo(now,
//     horizon) when not everything that arrived before now could be read
//     yet (peers' silence is judged up to horizon only).
//   - Stalled(from, until): the caller did not run in between (a late
//     wake-up): a timeout that ran out meanwhile gets a keepalive's grace.
//   - Stop(now): graceful stop: release every group, then announce shutdone.
//   - Move(now, id, kind, word): hb_standby / hb_takeover; answered later.
//   - GroupStarted / GroupStopped(now, group, err): a group Action's outcome.
//   - FenceDone(now, node, err): the outcome of a Ready.Fence request.
//   - SetLoadAvg(text): the load average sent in the "ld" field.
//   - ResourceFailed(now, group, resource, reason): a monitor found
//     resource (its index in the group) not running, or could not tell
//     (an error, a timeout). Answered with a Restart action, or, once the
//     group's restarts within its window are used up, a Stop and a hand-over
//     to the peer (the group is then failed here until Cleanup).
//   - GroupRestarted(now, group, err): a Restart action's outcome; an err
//     wrapping manager.ErrStopFailed is a failed stop (FenceSelf).
//   - Cleanup(now, group): hactl cleanup: the group's failures here are
//     cleared, and it is started here if it runs nowhere.
//   - PingReply(now, addr, seq): an ICMP echo reply with the daemon's
//     identifier (reach.go); matched against the echoes sent to addr
//     within deadping, else counted and ignored.
//   - CheckResult(now, group, check, ok): one run of a [[group.check]]
//     (its index in the group); keepalived's fall and rise count it, and
//     the group's health here (Health) is advertised in the hasuite_health
//     status field. The peer's field arrives with its status messages.
//     healthChoice decides; the holder moves a set with the standby
//     handshake (see health.go).
//
// Later inputs (interface states; ping-node reachability as a failover
// input, the built-in ipfail) are added here the same way: each a method
// that takes now, each one more term of Health.
//
// # Outputs
//
// After any input, Ready returns (and clears) one batch:
//
//   - Messages to send on every link, in order;
//   - Actions for the resource runner (start, stop, announce a group, or
//     restart it in place from resource Action.Resource on);
//   - Fence: nodes to fence with the STONITH devices, answered with FenceDone;
//   - FenceSelf: a group could not be stopped; this node must be fenced;
//   - Events: typed state changes and decisions, in order, for logs, notify
//     hooks, mail and metrics (resource-failed and group-failed among them);
//   - Answers to operator commands (Move), by the caller's id;
//   - Probes: ICMP echoes to send to ping node addresses (one per host
//     every Config.Ping.Interval; events ping-up and ping-dead follow
//     the replies and their absence for deadping).
//
// Next returns the monotonic time at which Tick must next run; Done reports
// that a graceful stop has finished and the daemon may exit.
package node
