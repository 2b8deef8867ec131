// Package e2ekit is what the netns end-to-end test packages (test/e2e,
// test/e2elinks, test/e2eres, test/e2efence) share: their TestMain (Main
// builds the suite's binaries once per test binary), one of our heartbeat
// daemons in a test host (Node: its files, start, logs and the tools that
// query it) and the checks of a host's addresses and neighbour table.
//
// Each package keeps its own bounds, configurations and scenario helpers,
// and wraps Node in its own node type for what only it needs.
package e2ekit
