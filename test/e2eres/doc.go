// Package e2eres holds the end-to-end tests of resource management: the
// suite's heartbeat daemons (and the real Linux-HA Heartbeat 3.0.6) run in
// network namespaces made by internal/testbed and move virtual IPs, an HTTP
// service (an LSB init script), OCF agents from resource-agents and
// Heartbeat resource.d scripts between two nodes, while a client host polls
// the service and its neighbour table is checked after every move.
//
// Each of our daemons runs in a sandbox (private mount and UTS namespaces)
// so that every node has its own /etc/init.d (LSB scripts), /etc/ha.d (the
// fixed home of OCF::agent::instance parameter files) and /srv (where the
// scripts and the OCF Dummy agent keep their state), as two machines would.
//
// The tests need root and network namespaces; without them they skip (and
// fail under CI=true). Run them with
//
//	go test ./test/e2eres/
//
// HBT_KEEP=1 keeps the logs and per-node state of every test bed.
package e2eres
