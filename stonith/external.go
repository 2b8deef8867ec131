package stonith

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"syscall"
)

// External is a cluster-glue external plugin (external/<name>): the
// executable <PluginDir>/<name>, run as `<plugin> <op> [<host>]` with
// every parameter in its environment under its own name, plus
// HA_LOGTAG=external/<name> and PATH prefixed with cluster-glue's share
// directory (for ha_log.sh). Exit status 0 is success.
//
// Like cluster-glue, the plugin must be a regular executable file that is
// not writable by group or others; in addition it must belong to root or
// to the running user. This is checked before every run.
type External struct {
	name   string // external/<plugin>
	path   string
	params []Param
	opts   Options
}

var _ Device = (*External)(nil)

func newExternal(spec Spec, opts Options) (*External, error) {
	plugin := strings.TrimPrefix(spec.Type, "external/")
	if plugin == "" || plugin == "." || plugin == ".." || strings.ContainsAny(plugin, "/\x00") {
		return nil, fmt.Errorf("invalid external plugin name %q", plugin)
	}
	e := &External{name: spec.Type, path: filepath.Join(opts.PluginDir, plugin), opts: opts}
	if err := e.check("config"); err != nil {
		return nil, err
	}
	line, err := paramLine(spec, opts.Log)
	if err != nil {
		return nil, err
	}
	ctx, cancel := context.WithTimeout(context.Background(), opts.Timeout)
	defer cancel()
	names, err := e.ConfigNames(ctx)
	if err != nil {
		return nil, err
	}
	e.params, err = ParseParams(line, names)
	if err != nil {
		return nil, newError(e.name, "config", "", BadConfig, err)
	}
	return e, nil
}

// Name returns "external/<name>".
func (e *External) Name() string { return e.name }

// Path is the plugin executable.
func (e *External) Path() string { return e.path }

// Params returns the named parameters the plugin runs with.
func (e *External) Params() []Param { return append([]Param(nil), e.params...) }

// check refuses a plugin that is missing, not a regular executable file,
// writable by group or others, or owned by another user than root or us.
func (e *External) check(op string) error {
	fi, err := os.Stat(e.path)
	if err != nil {
		return newError(e.name, op, "", BadConfig, err)
	}
	mode := fi.Mode()
	var why string
	switch {
	case !mode.IsRegular():
		why = "not a regular file"
	case mode.Perm()&0o111 == 0:
		why = "not executable"
	case mode.Perm()&0o022 != 0:
		why = "writable by group/others"
	}
	if st, ok := fi.Sys().(*syscall.Stat_t); ok && why == "" && st.Uid != 0 && int(st.Uid) != os.Geteuid() {
		why = fmt.Sprintf("owned by uid %d, neither root nor the running user", st.Uid)
	}
	if why != "" {
		return newError(e.name, op, "", BadConfig, fmt.Errorf("plugin %s refused: %s", e.path, why))
	}
	return nil
}

// exec runs the plugin with op (and host) after checking it again.
func (e *External) exec(ctx context.Context, op, host string) (outcome, error) {
	if err := e.check(op); err != nil {
		return outcome{}, err
	}
	args := []string{op}
	if host != "" {
		args = append(args, host)
	}
	path := glueShareDir
	if p := os.Getenv("PATH"); p != "" {
		path += ":" + p
	}
	envv := env(os.Environ(), e.params, "HA_LOGTAG="+e.name, "PATH="+path)
	o, err := run(ctx, e.opts.Timeout, e.path, args, envv)
	if err != nil {
		return o, runError(e.name, op, host, err)
	}
	return o, nil
}

// ConfigNames runs getconfignames: the parameter names, in the order of
// the positional v1 syntax.
func (e *External) ConfigNames(ctx context.Context) ([]string, error) {
	o, err := e.exec(ctx, "getconfignames", "")
	if err != nil {
		return nil, err
	}
	if o.code != 0 {
		return nil, newError(e.name, "getconfignames", "", BadConfig, errors.New(o.detail()))
	}
	names := fields(o.stdout)
	for _, n := range names {
		if !validParamName(n) {
			return nil, newError(e.name, "getconfignames", "", BadConfig, fmt.Errorf("invalid parameter name %q", n))
		}
	}
	return names, nil
}

// Reset runs `<plugin> reset <node>` (node lower-cased); a non-zero exit
// is ResetFail.
func (e *External) Reset(ctx context.Context, node string) error {
	return e.power(ctx, "reset", node)
}

// PowerOff runs `<plugin> off <node>`; a non-zero exit is ResetFail.
func (e *External) PowerOff(ctx context.Context, node string) error {
	return e.power(ctx, "off", node)
}

// PowerOn runs `<plugin> on <node>`; a non-zero exit is ResetFail.
func (e *External) PowerOn(ctx context.Context, node string) error {
	return e.power(ctx, "on", node)
}

func (e *External) power(ctx context.Context, op, node string) error {
	n, err := normNode(e.name, op, node)
	if err != nil {
		return err
	}
	e.opts.Log(fmt.Sprintf("stonith %s: %s %s", e.name, op, n))
	o, err := e.exec(ctx, op, n)
	if err == nil && o.code != 0 {
		err = newError(e.name, op, n, ResetFail, errors.New(o.detail()))
	}
	if err != nil {
		e.opts.Log(fmt.Sprintf("stonith %s: %s %s failed: %v", e.name, op, n, err))
		return err
	}
	e.opts.Log(fmt.Sprintf("stonith %s: %s %s succeeded", e.name, op, n))
	return nil
}

// Status runs `<plugin> status`; as in cluster-glue a non-zero exit
// status is the Result (1-8; anything else is Oops).
func (e *External) Status(ctx context.Context) error {
	o, err := e.exec(ctx, "status", "")
	if err != nil {
		return err
	}
	if o.code != 0 {
		return newError(e.name, "status", "", resultFromExit(o.code), errors.New(o.detail()))
	}
	return nil
}

// Hosts runs `<plugin> gethosts`; a non-zero exit or an empty list is an
// error.
func (e *External) Hosts(ctx context.Context) ([]string, error) {
	o, err := e.exec(ctx, "gethosts", "")
	if err != nil {
		return nil, err
	}
	if o.code != 0 {
		return nil, newError(e.name, "gethosts", "", Oops, errors.New(o.detail()))
	}
	hosts := fields(o.stdout)
	if len(hosts) == 0 {
		return nil, newError(e.name, "gethosts", "", Oops, errors.New("empty host list"))
	}
	return hosts, nil
}
