// Package e2e holds the end-to-end tests of the heartbeat suite: the real
// binaries (heartbeat, cl_status, hactl, built once per test binary) run in
// network namespaces made by internal/testbed, against each other and
// against the real Linux-HA Heartbeat 3.0.6, with crashes, graceful stops,
// link failures and a hostile third host.
//
// The tests need root and network namespaces; without them they skip (and
// fail under CI=true). Run them with
//
//	go test ./test/e2e/
//
// HBT_KEEP=1 keeps the logs and per-node state of every test bed.
package e2e
