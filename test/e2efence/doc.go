// Package e2efence holds end-to-end tests of fencing and watchdogs: two of
// the suite's heartbeat daemons in network namespaces (internal/testbed),
// a softdog emulator behind a FIFO (watchdog/watchdogtest) instead of
// /dev/watchdog, and a cluster-glue "external" STONITH plugin stand-in that
// "powers off" a test node (kills every process of its namespace, downs its
// links) and records every fence in a file. Nothing here reboots anything.
package e2efence
