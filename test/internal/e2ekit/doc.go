// Package e2ekit is what the netns end-to-end test packages (test/e2e,
// test/e2elinks, test/e2eres, test/e2efence) and the benchmarks
// (test/bench, test/benchres) share: the tests' TestMain (Main builds the
// suite's binaries once per test binary), one of our heartbeat daemons in a
// test host (Node: its files, start, logs and the tools that query it) and
// the checks of a host's addresses and neighbour table. Its helpers take a
// testing.TB.
//
// Each package keeps its own bounds, configurations and scenario helpers,
// and wraps Node in its own node type for what only it needs. The
// benchmarks build their binaries with a testbed.BinSet and point
// Node.BinDir at them.
package e2ekit
