// Package e2elinks holds the end-to-end tests of the heartbeat links: our
// daemons joined by a UDP link (ucast) and a serial link (a null-modem cable
// made of two pty pairs and a copy loop in the test), with link cuts, a lossy
// network, line noise, a tty that disappears and comes back, and a real
// Linux-HA Heartbeat 3.0.6 node joined to ours by the serial link only.
//
// The tests need root and network namespaces; without them they skip (and
// fail under CI=true). Run them with
//
//	go test ./test/e2elinks/
//
// HB_LOSS_SOAK sets the length of the lossy-network soak (a Go duration,
// default 60s; the acceptance run uses HB_LOSS_SOAK=5m, then give go test a
// -timeout above it). HBT_KEEP=1 keeps the logs and per-node state of every
// test bed.
package e2elinks
