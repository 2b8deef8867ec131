// Package core is the cluster membership state machine: Heartbeat 3.0.6's
// status/sequence/retransmission/join protocol as a pure, deterministic
// object in the style of etcd-io/raft's RawNode.
//
// The core owns no goroutines, sockets or clocks. The daemon feeds it
//
//   - Tick(now) whenever the deadline returned by Next is reached, after
//     handing over everything that arrived before now (TickUpTo(now,
//     horizon) when only what arrived before horizon has been read),
//   - Receive(now, link, m) for every packet that decoded and
//     authenticated, now being when it arrived (the kernel's receive
//     time), which after a stall of the daemon lies in the past,
//   - Stalled(from, until) when the daemon was not running between from
//     (the deadline it slept for) and until (when it woke),
//   - Stop(now) for a graceful shutdown,
//
// and after each call drains Ready(): the messages to send on every link and
// the events (state changes, warnings, delivered messages) to act upon.
// Because nothing inside reads a clock or the network, the simulator in the
// tests can run thousands of seeded scenarios quickly and reproducibly.
package core
