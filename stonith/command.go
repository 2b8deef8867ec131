package stonith

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
)

// Command is a device driven through cluster-glue's `stonith` command,
// for every type this package does not implement itself (ipmilan,
// apcmaster, riloe, ...). Parameters go in the environment (-E), never on
// the command line, where `ps` would show passwords:
//
//	stonith -t TYPE -E -T reset NODE   Reset; the exit status is the Result
//	stonith -t TYPE -E -S              Status
//	stonith -t TYPE -E -l              Hosts
type Command struct {
	typ    string
	cmd    string
	params []Param
	opts   Options
}

var _ Device = (*Command)(nil)

// NewCommand builds a device of spec.Type that goes through the `stonith`
// command even for types New would implement itself (e.g. null).
func NewCommand(spec Spec, localNode string, opts Options) (*Command, error) {
	opts = opts.withDefaults()
	if !Applies(spec, localNode) {
		return nil, newError(spec.Type, "config", "", BadConfig, fmt.Errorf("the line is for host %s, not for the local node %q", spec.Host, localNode))
	}
	if err := checkType(spec.Type); err != nil {
		return nil, newError(spec.Type, "config", "", BadConfig, err)
	}
	return newCommand(spec, opts)
}

func newCommand(spec Spec, opts Options) (*Command, error) {
	path, err := findStonithCmd(opts.StonithCmd)
	if err != nil {
		return nil, newError(spec.Type, "config", "", BadConfig, err)
	}
	c := &Command{typ: spec.Type, cmd: path, opts: opts}
	line, err := paramLine(spec, opts.Log)
	if err != nil {
		return nil, newError(spec.Type, "config", "", BadConfig, err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), opts.Timeout)
	defer cancel()
	names, err := c.ConfigNames(ctx)
	if err != nil {
		return nil, err
	}
	if c.params, err = ParseParams(line, names); err != nil {
		return nil, newError(c.typ, "config", "", BadConfig, err)
	}
	return c, nil
}

// findStonithCmd returns the configured command, else `stonith` from
// $PATH or the usual sbin directories.
func findStonithCmd(configured string) (string, error) {
	if configured != "" {
		fi, err := os.Stat(configured)
		if err != nil {
			return "", err
		}
		if !fi.Mode().IsRegular() || fi.Mode().Perm()&0o111 == 0 {
			return "", fmt.Errorf("%s is not an executable file", configured)
		}
		return configured, nil
	}
	if p, err := exec.LookPath("stonith"); err == nil {
		return p, nil
	}
	for _, p := range stonithCmds {
		if fi, err := os.Stat(p); err == nil && fi.Mode().IsRegular() && fi.Mode().Perm()&0o111 != 0 {
			return p, nil
		}
	}
	return "", errors.New("the cluster-glue stonith command is not installed (Debian package cluster-glue)")
}

// Name returns the device type.
func (c *Command) Name() string { return c.typ }

// Path is the `stonith` command used.
func (c *Command) Path() string { return c.cmd }

// Params returns the named parameters.
func (c *Command) Params() []Param { return append([]Param(nil), c.params...) }

func (c *Command) exec(ctx context.Context, op, node string, args ...string) (outcome, error) {
	argv := append([]string{"-t", c.typ}, args...)
	o, err := run(ctx, c.opts.Timeout, c.cmd, argv, env(os.Environ(), c.params))
	if err != nil {
		return o, runError(c.typ, op, node, err)
	}
	return o, nil
}

// ConfigNames runs `stonith -t TYPE -n`. An unknown type is BadConfig.
func (c *Command) ConfigNames(ctx context.Context) ([]string, error) {
	o, err := c.exec(ctx, "config", "", "-n")
	if err != nil {
		return nil, err
	}
	if o.code != 0 {
		why := o.detail()
		if o.code == int(Oops) {
			why = "unknown STONITH type (`stonith -L` lists the types): " + why
		}
		return nil, newError(c.typ, "config", "", BadConfig, errors.New(why))
	}
	names := fields(o.stdout)
	for _, n := range names {
		if !validParamName(n) {
			return nil, newError(c.typ, "config", "", BadConfig, fmt.Errorf("invalid parameter name %q", n))
		}
	}
	return names, nil
}

// Reset runs `stonith -t TYPE -E -T reset NODE`; the exit status is the
// Result.
func (c *Command) Reset(ctx context.Context, node string) error {
	n, err := normNode(c.typ, "reset", node)
	if err != nil {
		return err
	}
	c.opts.Log(fmt.Sprintf("stonith %s: reset %s", c.typ, n))
	o, err := c.exec(ctx, "reset", n, "-E", "-T", "reset", n)
	if err == nil && o.code != 0 {
		err = newError(c.typ, "reset", n, resultFromExit(o.code), errors.New(o.detail()))
	}
	if err != nil {
		c.opts.Log(fmt.Sprintf("stonith %s: reset %s failed: %v", c.typ, n, err))
		return err
	}
	c.opts.Log(fmt.Sprintf("stonith %s: reset %s succeeded", c.typ, n))
	return nil
}

// Status runs `stonith -t TYPE -E -S`; the exit status is the Result.
func (c *Command) Status(ctx context.Context) error {
	o, err := c.exec(ctx, "status", "", "-E", "-S")
	if err != nil {
		return err
	}
	if o.code != 0 {
		return newError(c.typ, "status", "", resultFromExit(o.code), errors.New(o.detail()))
	}
	return nil
}

// Hosts runs `stonith -t TYPE -E -l`.
func (c *Command) Hosts(ctx context.Context) ([]string, error) {
	o, err := c.exec(ctx, "gethosts", "", "-E", "-l")
	if err != nil {
		return nil, err
	}
	if o.code != 0 {
		return nil, newError(c.typ, "gethosts", "", resultFromExit(o.code), errors.New(o.detail()))
	}
	hosts := fields(o.stdout)
	if len(hosts) == 0 {
		return nil, newError(c.typ, "gethosts", "", Oops, errors.New("empty host list"))
	}
	return hosts, nil
}
