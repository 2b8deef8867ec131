// Package daemon is the heartbeat daemon: it loads the configuration, opens
// the links and the control socket, and runs the loop that feeds the
// membership core with packets, timer ticks and commands, and carries out
// what the core asks for (send, log, persist).
//
// One goroutine, the loop, owns the core and all mutable daemon state. It
// waits in heartbeat/evloop and reads the UDP links itself; everything
// else (signals, control connections, resource results, fencing, serial
// frames) arrives on channels that a pump goroutine forwards to it as
// posted work, so an idle node wakes only the loop, once per packet. On
// every wake-up the loop reads all that arrived (every readable socket to
// the end, then the posted serial frames), each datagram with its kernel
// receive time, before the core judges any deadline.
package daemon
