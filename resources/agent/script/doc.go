// Package script runs resources whose work is done by an external program:
// Heartbeat resource.d scripts, LSB init scripts and OCF resource agents.
//
// New resolves the program once (Heartbeat's lookup order: the resource.d
// directories, then /etc/init.d; for OCF <root>/resource.d/<provider>/<agent>)
// and returns an agent.Agent. Every operation execs the program through
// internal/childproc: directly (no shell), with stdin on /dev/null, in a
// process group of its own, at normal scheduling, with a clean environment (PATH, LC_ALL=C, then Env.ExtraEnv, then the flavour's
// variables). Each line the program writes is passed to Env.Log as it
// arrives; only the last lines are kept, for error messages.
//
// The three flavours interpret results differently:
//
//   - Heartbeat script (found in a resource.d directory): "<path> <args...>
//     start|stop|status". Start and stop fail on a non-zero exit. Status
//     ignores the exit code and applies Heartbeat's stdout rule
//     (ResourceManager we_own_resource): output matching the shell glob
//     "*[Nn][Oo][Tt] *[Rr]unning*" is not running, else "*[Rr]unning*" or
//     "*OK*" is running, anything else is not running.
//   - LSB init script (found in the init directory): start and stop succeed
//     on exit 0 (stop also on 7, "program is not running"); status goes by
//     the exit code: 0 running, 1, 2 and 3 not running, others unknown (an
//     error).
//   - OCF agent: actions start, stop and monitor with OCF_* variables and
//     parameters as OCF_RESKEY_<name>. Monitor: 0 running, 7 not running,
//     any other code is an error naming the OCF code. Stop also accepts 7.
//
// A timed-out operation has its whole process group sent SIGTERM, then
// SIGKILL after a short grace, and returns an *OpError wrapping
// agent.ErrTimeout. Children that outlive a finished operation while still
// holding its output pipe (a daemon that did not close stdout) do not delay
// the result: after a short drain wait the operation returns and their
// remaining output is still logged in the background until they close it.
package script
