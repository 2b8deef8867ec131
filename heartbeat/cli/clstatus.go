package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"github.com/hasuite/hasuite/heartbeat/api"
	"github.com/hasuite/hasuite/heartbeat/control"
)

// cl_status exit codes, as in Heartbeat 3.0.6's tools/cl_status.c. Scripts
// (and ipfail-era monitoring) test these numbers, so they are fixed.
const (
	ClOK           = 0  // success; the node or link asked about is up
	ClNormalFail   = 1  // heartbeat stopped, node or link down, parameter unset
	ClParamError   = 11 // bad sub-command, option or node name
	ClTimeout      = 12 // no answer within ClStatusTimeout
	ClUnknownError = 13 // anything else (no such link, no resource status)
)

// ClStatusTimeout is Heartbeat's global alarm(5) for cl_status.
const ClStatusTimeout = 5 * time.Second

// Default node attributes: this suite has no "weight" or "site" directives,
// and Heartbeat reports these values for nodes declared without them.
const (
	defaultNodeWeight = 100
	defaultNodeSite   = ""
)

// errCommNotUp is the signon failure before cluster communication is up:
// Heartbeat opens its API socket only then, so API sub-commands fail until
// every node has been heard from or declared dead.
var errCommNotUp = errors.New("cluster communication is not up yet")

// ClStatusCmd runs cl_status. Only Stdout, Stderr and Daemon are required.
type ClStatusCmd struct {
	Stdout, Stderr io.Writer
	Daemon         Daemon
	// Timeout replaces ClStatusTimeout when positive (tests).
	Timeout time.Duration
	// Now, Host and Pid stamp stderr log lines; nil, "" and 0 mean the
	// real ones (Host: the kernel's host name, uname -n).
	Now  func() time.Time
	Host string
	Pid  int
}

// ClStatus runs cl_status with args (os.Args[1:]) and returns its exit code.
func ClStatus(ctx context.Context, args []string, stdout, stderr io.Writer, d Daemon) int {
	c := &ClStatusCmd{Stdout: stdout, Stderr: stderr, Daemon: d}
	return c.Run(ctx, args)
}

// clSub is one cl_status sub-command. needSignon: the sub-command cannot
// run without the daemon's API (all but hbstatus, which reports on exactly
// that).
type clSub struct {
	name       string
	needSignon bool
	run        func(r *clRun, args []string) int
}

var clSubs = []clSub{
	{"hbstatus", false, clHbstatus},
	{"listnodes", true, clListnodes},
	{"nodestatus", true, clNodestatus},
	{"nodeweight", true, clNodeweight},
	{"nodesite", true, clNodesite},
	{"nodetype", true, clNodetype},
	{"listhblinks", true, clListhblinks},
	{"hblinkstatus", true, clHblinkstatus},
	{"clientstatus", true, clClientstatus},
	{"rscstatus", true, clRscstatus},
	{"hbparameter", true, clHbparameter},
	{"test", true, clTest},
}

// clHelp is Heartbeat's help screen (spelling mistakes fixed), plus this
// implementation's own option.
const clHelp = `Usage: cl_status <sub-command> [<options>] [<parameters>]

Sub-commands:
clientstatus <node-name> <client-id> [<timeout>]
	Show the status of heartbeat clients.
hblinkstatus <node-name> <link-name>
	Show the status of a heartbeat link
hbstatus
	Indicate if heartbeat is running on the local system.
	Options:
		-v	verbose: also add "listnodes -v" output
listnodes [<option>]
	List the nodes in the cluster.
	Options:
		-p	list only 'ping' type nodes
		-n	list only 'normal' type nodes
		-v	verbose: also list type and status,
			then add "listhblinks -v" output
listhblinks <node-name>
	List the network interfaces used as heartbeat links.
	Options:
		-v	verbose: list link status as well
nodestatus <node-name>
	List the node status.
nodeweight <node-name>
	List the node weight.
nodesite <node-name>
	List the node site.
nodetype <node-name>
	List the nodes of a given type.
rscstatus
	Show the status of cluster resources.
hbparameter -p <parameter-name>
	Retrieve the value of a cluster parameter.
	As for the valid parameter names, please refer to the man page.

All sub-commands accept -m (human-readable output).
--run-dir <dir> (anywhere before "--") selects the daemon's run directory
(default $HA_RUNDIR, else /run/heartbeat).
`

// Run executes cl_status with args (without the program name).
func (c *ClStatusCmd) Run(ctx context.Context, args []string) int {
	runDir, args, err := splitRunDir(args)
	if err != nil {
		c.logf("%v", err)
		return ClParamError
	}
	// Heartbeat checks argc before anything else: help never needs the
	// daemon and never fails.
	if len(args) == 0 || (len(args) == 1 && args[0] == "-h") {
		fmt.Fprint(c.Stdout, clHelp)
		return ClOK
	}
	var sub *clSub
	for i := range clSubs {
		if clSubs[i].name == args[0] {
			sub = &clSubs[i]
		}
	}
	if sub == nil {
		c.logf("%s: invalid sub-command.", args[0])
		return ClParamError
	}
	timeout := c.Timeout
	if timeout <= 0 {
		timeout = ClStatusTimeout
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	r := &clRun{c: c, ctx: ctx, runDir: control.DefaultRunDir(runDir), sub: sub.name, timeout: timeout}

	// Sign on before looking at the options, as Heartbeat does: with the
	// daemon down, "cl_status nodestatus" (no node) exits 1, not 11.
	st, err := within(ctx, func(ctx context.Context) (*api.Status, error) { return c.Daemon.Status(ctx, r.runDir) })
	if errors.Is(err, errNoAnswer) {
		return r.noAnswer(err)
	}
	if err == nil && !st.Core.CommUp {
		err = errCommNotUp
	}
	if err != nil {
		if sub.needSignon {
			c.logf("Cannot signon with heartbeat")
			c.logf("REASON: %v", err)
			return ClNormalFail
		}
		r.signonErr = err
	} else {
		r.st = st
	}
	return sub.run(r, args[1:])
}

// splitRunDir removes "--run-dir DIR" and "--run-dir=DIR" from args. They
// are accepted anywhere before a "--" so that they can be added to any
// Heartbeat-style command line without reordering it.
func splitRunDir(args []string) (runDir string, rest []string, err error) {
	rest = make([]string, 0, len(args))
	for i := 0; i < len(args); i++ {
		a := args[i]
		switch {
		case a == "--":
			return runDir, append(rest, args[i:]...), nil
		case a == "--run-dir":
			if i+1 >= len(args) || args[i+1] == "" {
				return "", nil, errors.New("option --run-dir requires a directory")
			}
			i++
			runDir = args[i]
		case strings.HasPrefix(a, "--run-dir="):
			runDir = strings.TrimPrefix(a, "--run-dir=")
			if runDir == "" {
				return "", nil, errors.New("option --run-dir requires a directory")
			}
		default:
			rest = append(rest, a)
		}
	}
	return runDir, rest, nil
}

// logf writes an error the way Heartbeat 3.0.6's cl_status (cluster-glue's
// cl_log) does on stderr: "Mon DD HH:MM:SS host cl_status: [pid]: ERROR:
// message", the day zero-padded, the host uname's full node name.
func (c *ClStatusCmd) logf(format string, a ...any) {
	now, host, pid := time.Now, c.Host, c.Pid
	if c.Now != nil {
		now = c.Now
	}
	if host == "" {
		host, _ = os.Hostname() // uname -n on Linux
	}
	if pid == 0 {
		pid = os.Getpid()
	}
	fmt.Fprintf(c.Stderr, "%s %s cl_status: [%d]: ERROR: %s\n", now().Format("Jan 02 15:04:05"), host, pid, fmt.Sprintf(format, a...))
}

// clRun is the state of one cl_status invocation after signon.
type clRun struct {
	c         *ClStatusCmd
	ctx       context.Context
	runDir    string
	sub       string // the sub-command; getopt's program name
	timeout   time.Duration
	human     bool        // -m
	st        *api.Status // nil when signon failed
	signonErr error       // why signon failed (hbstatus only)
}

func (r *clRun) printf(format string, a ...any) { fmt.Fprintf(r.c.Stdout, format, a...) }

// complain writes a bare line on stderr, as Heartbeat's fprintf(stderr) does.
func (r *clRun) complain(s string) { fmt.Fprintln(r.c.Stderr, s) }

// noAnswer ends the command when ctx ran out, like Heartbeat's SIGALRM.
func (r *clRun) noAnswer(err error) int {
	if errors.Is(err, context.DeadlineExceeded) {
		r.c.logf("No answer from heartbeat within %v", r.timeout)
		return ClTimeout
	}
	r.c.logf("%v", err)
	return ClUnknownError
}

// parseOpts applies getopt's result for sub-commands whose only option is
// -m (Heartbeat's general_simple_opt_deal) and for those with extra flags
// (set gets the others). A bad option is a parameter error.
func (r *clRun) parseOpts(args []string, optstr string, set func(option)) (operands []string, ok bool) {
	opts, operands := getopt(r.sub, args, optstr)
	for _, o := range opts {
		switch o.c {
		case 'm':
			r.human = true
		case '?':
			r.complain(o.msg)
			r.c.logf("Error: getopt returned character code %c.", o.c)
			return nil, false
		default:
			set(o)
		}
	}
	return operands, true
}

// noOtherOpts is parseOpts' set for sub-commands whose only option is -m.
func noOtherOpts(option) {}

// node finds a node by name; Heartbeat compares node names case-insensitively.
func (r *clRun) node(name string) *api.NodeSnapshot {
	for i := range r.st.Core.Nodes {
		if strings.EqualFold(r.st.Core.Nodes[i].Name, name) {
			return &r.st.Core.Nodes[i]
		}
	}
	return nil
}

// nodeType maps a node's type to the three words Heartbeat's API knows.
func nodeType(n *api.NodeSnapshot) string {
	switch n.Type {
	case "normal", "ping":
		return n.Type
	}
	return "unknown"
}

func clHbstatus(r *clRun, args []string) int {
	verbose := false
	opts, _ := getopt(r.sub, args, "mv")
	for _, o := range opts {
		switch o.c {
		case 'm':
			r.human = true
		case 'v':
			verbose = true
		case '?':
			// Heartbeat's hbstatus has no default case: getopt
			// complains and the command goes on.
			r.complain(o.msg)
		}
	}
	if r.signonErr != nil {
		rc := ClOK
		if errors.Is(r.signonErr, control.ErrNotRunning) {
			r.printf("Heartbeat is stopped on this machine.\n")
			rc = ClNormalFail
		} else {
			// It answered (or owns the socket) but cannot serve us yet:
			// running, as far as scripts are concerned.
			r.printf("Heartbeat is apparently running on this machine, but refuses my connection\n")
		}
		if verbose {
			r.printf("(%v)\n", r.signonErr)
		}
		return rc
	}
	if !verbose {
		r.printf("Heartbeat is running on this machine.\n")
		return ClOK
	}
	p, err := within(r.ctx, func(ctx context.Context) (*api.Parameter, error) {
		return r.c.Daemon.Parameter(ctx, r.runDir, "hbversion")
	})
	if errors.Is(err, errNoAnswer) {
		return r.noAnswer(err)
	}
	version := ""
	if err == nil && p.Set && p.Value != "" {
		// Heartbeat appends its build id "(node: <hg hash>)"; ours is
		// the suite's version.
		version = p.Value
		if r.st.Version != "" {
			version += " (hasuite " + r.st.Version + ")"
		}
	}
	haresources := r.st.Managed == "haresources"
	if r.human {
		if version != "" {
			r.printf("Heartbeat version %s\n", version)
		} else {
			r.printf("Heartbeat is running on this machine.\n")
		}
		if haresources {
			r.printf("Resources controlled by \"haresources\"\n")
		} else {
			r.printf("Resources controlled by %s\n", orUnknown(r.st.Managed))
		}
	} else {
		r.printf("version:\t%s\n", orUnknown(version))
		if haresources {
			r.printf("managed by:\t\"haresources\"\n")
		} else {
			r.printf("managed by:\t%s\n", orUnknown(r.st.Managed))
		}
	}
	r.listNodes(false, false, true)
	return ClOK
}

func orUnknown(s string) string {
	if s == "" {
		return "unknown"
	}
	return s
}

func clListnodes(r *clRun, args []string) int {
	var normal, ping, verbose bool
	_, ok := r.parseOpts(args, "mpnv", func(o option) {
		switch o.c {
		case 'p':
			ping = true
		case 'n':
			normal = true
		case 'v':
			verbose = true
		}
	})
	if !ok {
		return ClParamError
	}
	r.listNodes(normal, ping, verbose)
	return ClOK
}

// listNodes prints the node walk. Heartbeat's client library hands nodes
// out in reverse declaration order, and scripts that take the first line
// of "listnodes" depend on that.
func (r *clRun) listNodes(normalOnly, pingOnly, verbose bool) {
	if normalOnly && pingOnly {
		normalOnly, pingOnly = false, false
	}
	if r.human {
		r.printf("The nodes are as follow:\n")
	}
	nodes := r.st.Core.Nodes
	for i := len(nodes) - 1; i >= 0; i-- {
		n := &nodes[i]
		t := nodeType(n)
		if (normalOnly && t != "normal") || (pingOnly && t != "ping") {
			continue
		}
		if !verbose {
			r.printf("%s\n", n.Name)
			continue
		}
		r.printf("\n%s\t%s\t(nodetype: %s)\n", n.Name, n.State, t)
		r.listLinks(n, true)
	}
}

// linkState is a link's state as Heartbeat's API reports it: a node's own
// links are "dead" (it hears no heartbeats of its own on them), whatever
// they carry; the peers' links as the core sees them.
func linkState(n *api.NodeSnapshot, l *api.LinkSnapshot) string {
	if n.Local {
		return api.LinkDead
	}
	return l.State
}

func (r *clRun) listLinks(n *api.NodeSnapshot, verbose bool) {
	if r.human {
		r.printf("\tthis node has the following heartbeat links:\n")
	}
	for i := range n.Links {
		l := &n.Links[i]
		if verbose {
			r.printf("\t%s\t%s\n", l.Name, linkState(n, l))
		} else {
			r.printf("\t%s\n", l.Name)
		}
	}
}

// nodeOperand parses the options of a sub-command that takes one node
// name (only -m) and looks the node up. On failure it has complained, with
// Heartbeat's wording for that sub-command, and n is nil.
func (r *clRun) nodeOperand(args []string, tooFew, unknown string) (ops []string, n *api.NodeSnapshot, code int) {
	ops, ok := r.parseOpts(args, "m", noOtherOpts)
	if !ok {
		return nil, nil, ClParamError
	}
	if len(ops) < 1 {
		r.complain(tooFew)
		return nil, nil, ClParamError
	}
	if n = r.node(ops[0]); n == nil {
		r.complain(unknown)
		return nil, nil, ClParamError
	}
	return ops, n, ClOK
}

func clNodestatus(r *clRun, args []string) int {
	ops, n, code := r.nodeOperand(args, "Not enough parameters.", "Error. May be due to incorrect node name")
	if n == nil {
		return code
	}
	if r.human {
		r.printf("The cluster node %s is %s\n", ops[0], n.State)
	} else {
		r.printf("%s\n", n.State)
	}
	switch n.State {
	case "active", "up", "ping":
		return ClOK
	}
	return ClNormalFail
}

func clNodeweight(r *clRun, args []string) int {
	// Heartbeat words the unknown-node error differently from its siblings.
	ops, n, code := r.nodeOperand(args, "Not enough parameters.", "Error. Maybe due to incorrect node name.")
	if n == nil {
		return code
	}
	if r.human {
		r.printf("The weight of the cluster node %s is %d\n", ops[0], defaultNodeWeight)
	} else {
		r.printf("%d\n", defaultNodeWeight)
	}
	return ClOK
}

func clNodesite(r *clRun, args []string) int {
	ops, n, code := r.nodeOperand(args, "Not enough parameters.", "Error. May be due to incorrect node name")
	if n == nil {
		return code
	}
	if r.human {
		r.printf("The site of the cluster node %s is %s\n", ops[0], defaultNodeSite)
	} else {
		r.printf("%s\n", defaultNodeSite)
	}
	return ClOK
}

func clNodetype(r *clRun, args []string) int {
	ops, n, code := r.nodeOperand(args, "No enough parameter.", "Error. May be due to incorrect node name")
	if n == nil {
		return code
	}
	if r.human {
		r.printf("The node %s's type: %s\n", ops[0], nodeType(n))
	} else {
		r.printf("%s\n", nodeType(n))
	}
	return ClOK
}

func clListhblinks(r *clRun, args []string) int {
	verbose := false
	ops, ok := r.parseOpts(args, "mv", func(option) { verbose = true })
	if !ok {
		return ClParamError
	}
	if len(ops) < 1 {
		r.complain("No enough parameter.")
		return ClParamError
	}
	n := r.node(ops[0])
	if n == nil {
		// Heartbeat's interface walk fails as a whole for an unknown
		// node: an API error (13), not a parameter error.
		r.c.logf("Cannot start heartbeat link interface walk.")
		r.c.logf("REASON: no node named %q", ops[0])
		return ClUnknownError
	}
	r.listLinks(n, verbose)
	return ClOK
}

func clHblinkstatus(r *clRun, args []string) int {
	ops, ok := r.parseOpts(args, "m", noOtherOpts)
	if !ok {
		return ClParamError
	}
	if len(ops) < 2 {
		r.complain("No enough parameter.")
		return ClParamError
	}
	var link *api.LinkSnapshot
	reason := fmt.Sprintf("no node named %q", ops[0])
	n := r.node(ops[0])
	if n != nil {
		reason = fmt.Sprintf("node %s has no heartbeat link %q", n.Name, ops[1])
		for i := range n.Links {
			// Link names are interface or device names: exact match.
			if n.Links[i].Name == ops[1] {
				link = &n.Links[i]
			}
		}
	}
	if link == nil {
		r.c.logf("Cannot get heartbeat link status")
		r.c.logf("REASON: %s", reason)
		return ClUnknownError
	}
	state := linkState(n, link)
	if r.human {
		r.printf("The node %s's heartbeat link %s is %s\n", ops[0], ops[1], state)
	} else {
		r.printf("%s\n", state)
	}
	if state == api.LinkUp {
		return ClOK
	}
	return ClNormalFail
}

func clClientstatus(r *clRun, args []string) int {
	ops, ok := r.parseOpts(args, "m", noOtherOpts)
	if !ok {
		return ClParamError
	}
	if len(ops) < 2 {
		r.complain("No enough parameter.")
		return ClParamError
	}
	// ops[2], the timeout in ms, is accepted and unused: this suite has
	// no API clients on any node, so the answer needs no round trip.
	if r.node(ops[0]) == nil {
		r.c.logf("Cannot get heartbeat client %s's status", ops[1])
		r.c.logf("REASON: no node named %q", ops[0])
		return ClUnknownError
	}
	// Heartbeat prints the bare word even with -m.
	r.printf("offline\n")
	return ClNormalFail
}

func clRscstatus(r *clRun, args []string) int {
	if _, ok := r.parseOpts(args, "m", noOtherOpts); !ok {
		return ClParamError
	}
	reason := ""
	switch {
	case r.st.Managed != "haresources":
		// heartbeat -M, or a daemon without resource management.
		reason = "resources are not managed by heartbeat on this node"
	case r.st.Resources == "":
		reason = "the daemon reported no resource state"
	}
	if reason != "" {
		r.c.logf("Cannot get cluster resource status")
		r.c.logf("REASON: %s", reason)
		return ClUnknownError
	}
	if r.human {
		r.printf("This node is holding %s resources.\n", r.st.Resources)
	} else {
		r.printf("%s\n", r.st.Resources)
	}
	return ClOK
}

func clHbparameter(r *clRun, args []string) int {
	name, have := "", false
	if _, ok := r.parseOpts(args, "mp:", func(o option) {
		if o.c == 'p' {
			name, have = o.arg, true
		}
	}); !ok {
		return ClParamError
	}
	if !have {
		r.c.logf("parameter name required")
		return ClParamError
	}
	p, err := within(r.ctx, func(ctx context.Context) (*api.Parameter, error) {
		return r.c.Daemon.Parameter(ctx, r.runDir, name)
	})
	if errors.Is(err, errNoAnswer) {
		return r.noAnswer(err)
	}
	if err == nil && !p.Set {
		err = errors.New("parameter is not set")
	}
	if err != nil {
		r.c.logf("Cannot get parameter %s's value", name)
		r.c.logf("REASON: %v", err)
		return ClNormalFail
	}
	if r.human {
		r.printf("Heartbeat parameter %s's value: %s\n", name, p.Value)
	} else {
		r.printf("%s\n", p.Value)
	}
	return ClOK
}

// clTest is Heartbeat's undocumented "test" sub-command (spelling kept:
// it is output someone may have grepped for).
func clTest(r *clRun, _ []string) int {
	c := r.st.Core
	r.printf("Dead time: %d\n keeplive time: %d\n mynodeid: %s\n rsc: %s\n",
		c.Deadtime.Milliseconds(), c.Keepalive.Milliseconds(), c.Node, r.st.Resources)
	return ClOK
}
