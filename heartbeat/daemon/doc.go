// Package daemon is the heartbeat daemon's IO: it loads the configuration,
// opens the links, the control socket and the watchdog, and runs the loop
// that feeds the node layer (heartbeat/node, where every decision is made)
// with packets, the clock, operator commands and the results of group
// actions and fencing, and carries out what the node layer asks for: send
// on every link, start and stop groups through the runner, fence, log,
// persist the peer marks, answer commands.
//
// One goroutine, the loop, owns the node layer and all mutable daemon
// state. Start-up (build) is separate from the loop (runLoop); each loop
// step reads the clock once. The loop waits in heartbeat/evloop and reads
// the UDP links itself; everything else (signals, control connections,
// resource results, fencing, serial frames) arrives on channels that a
// pump goroutine forwards to it as posted work. On every wake-up the loop
// reads all that arrived (every readable socket to the end, then the
// posted serial frames), each datagram with its kernel receive time,
// before the node layer judges any deadline. The loop wakes for each
// packet, each posted piece of work, and at its next deadline (the node
// layer's: the next heartbeat to send, a peer's timeout, a resource
// protocol timer, an operator command's wait; the peer marks' save every
// 5 s; the load average read every second; the fencing check; the
// watchdogs' kicks). Besides it, two goroutines wake on tickers even on an
// idle node: link maintenance every 2 s (link.MaintainEvery: multicast
// groups, broadcast addresses) and the resource runner's monitor every
// second (it checks the VIPs of the groups running here, if any).
//
// What the loop tells the outside without waiting for it (observe.go):
// each node event goes to the event hub (heartbeat/events, streamed by
// hactl events on control connections' goroutines) and to the metrics
// exporter (heartbeat/metrics); after each flush the loop publishes a
// metrics snapshot when events happened or a second has passed. The
// metrics HTTP server (metrics_listen) runs on goroutines of its own and
// only reads what was published.
package daemon
