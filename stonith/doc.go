// Package stonith fences (power-cycles) a peer node: "Shoot The Other Node
// In The Head". It is the daemon's Fencer: the membership core decides that
// a dead peer must be fenced, the daemon calls Device.Reset, and the peer's
// resources are taken over only after Reset returned nil.
//
// Devices are built from the ha.cf lines of Heartbeat 3.0.6 (see
// Spec):
//
//	stonith <type> <file>                 parameters on the first non-comment line of <file>
//	stonith_host <host|*> <type> <params> parameters on the line itself
//
// The parameters are positional: they are mapped to the device's parameter
// names in the order the device reports them (an external plugin's
// getconfignames, `stonith -t TYPE -n`), and the last name takes the rest
// of the line, white space and all (ParseParams).
//
// Kinds of device (New picks one by type):
//
//   - external/<name>: a cluster-glue external plugin, an executable in
//     Options.PluginDir run as `<plugin> <op> [<host>]` with every parameter
//     in its environment under its own name (External).
//   - null, meatware, suicide: implemented here (Null, Meatware, Suicide).
//     suicide never reboots by itself: it calls Options.SelfFence.
//   - any other type (ipmilan, apcmaster, ...): the cluster-glue `stonith`
//     command, parameters in the environment (-E) so that passwords never
//     appear on a command line (Command).
//
// Heartbeat uses one device; a Chain tries several in order.
//
// Every external process runs in its own process group with a time limit
// (Options.Timeout); on expiry the whole group is killed. Configuration
// values are only ever passed as argv elements or environment variables,
// never through a shell.
//
// Failures are *Error values carrying a Result, the cluster-glue return
// code (S_OK ... S_OOPS); ResultOf extracts it and errors.Is(err, BadHost)
// matches it.
package stonith
