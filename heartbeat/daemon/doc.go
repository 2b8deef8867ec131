// Package daemon is the heartbeat daemon: it loads the configuration, opens
// the links and the control socket, and runs the loop that feeds the
// membership core with packets, timer ticks and commands, and carries out
// what the core asks for (send, log, persist).
//
// One goroutine, the loop, owns the core and all mutable daemon state. Link
// readers and control connections only hand work to it over channels.
package daemon
