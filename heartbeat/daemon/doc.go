// Package daemon is the heartbeat daemon: it loads the configuration, opens
// the links and the control socket, and runs the loop that feeds the
// membership core with packets, timer ticks and commands, and carries out
// what the core asks for (send, log, persist).
//
// One goroutine, the loop, owns the core and all mutable daemon state. It
// waits in heartbeat/evloop and reads the UDP links itself; everything
// else (signals, control connections, resource results, fencing, serial
// frames) arrives on channels that a pump goroutine forwards to it as
// posted work. The loop wakes for each packet, each posted piece of work,
// and at its next deadline (the core's: the next heartbeat to send, a
// peer's timeout; the resource manager's; an operator command's wait; the
// peer marks' save every 5 s; the fencing check; the watchdogs' kicks). Besides it, two
// goroutines wake on tickers even on an idle node: link maintenance every
// 2 s (link.MaintainEvery: multicast groups, broadcast addresses) and the
// resource runner's monitor every second (it checks the VIPs of the groups
// running here, if any).
package daemon
