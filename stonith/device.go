package stonith

import (
	"context"
	"errors"
	"fmt"
	"os"
	"strings"
	"time"
)

// Device is one fencing device.
type Device interface {
	// Name is the device type, e.g. "external/ssh".
	Name() string
	// Reset fences (power-cycles) node. nil means the node is down or was
	// rebooted; an error wraps an *Error with the Result.
	Reset(ctx context.Context, node string) error
	// Status reports whether the device is operational.
	Status(ctx context.Context) error
	// Hosts lists the nodes the device can fence.
	Hosts(ctx context.Context) ([]string, error)
}

// DefaultTimeout bounds every plugin or `stonith` run when
// Options.Timeout is zero.
const DefaultTimeout = 60 * time.Second

// pluginDirs are where distributions install cluster-glue's external
// plugins; the first that exists is the default Options.PluginDir.
var pluginDirs = []string{
	"/usr/lib/stonith/plugins/external",
	"/usr/lib64/stonith/plugins/external",
	"/usr/lib/x86_64-linux-gnu/stonith/plugins/external",
	"/usr/local/lib/stonith/plugins/external",
}

// stonithCmds are tried after $PATH for the `stonith` command.
var stonithCmds = []string{"/usr/sbin/stonith", "/sbin/stonith", "/usr/local/sbin/stonith"}

// glueShareDir holds cluster-glue's ha_log.sh, which external plugins find
// through PATH.
const glueShareDir = "/usr/share/cluster-glue"

// Options configure how devices run.
type Options struct {
	// PluginDir holds external/<name> plugins. Default: cluster-glue's
	// directory, /usr/lib/stonith/plugins/external on Debian.
	PluginDir string
	// StonithCmd is the cluster-glue `stonith` command. Default: found in
	// $PATH, else /usr/sbin/stonith.
	StonithCmd string
	// Timeout bounds each plugin or `stonith` run (and a suicide's
	// SelfFence); on expiry the process group is killed. Default
	// DefaultTimeout. A meatware reset waits for the operator as long as
	// its context lasts.
	Timeout time.Duration
	// Log receives one line per notable event (fence started, succeeded,
	// failed). nil discards.
	Log func(string)
	// SelfFence reboots (or, in tests, powers off a stand-in of) the local
	// node; the suicide device refuses to exist without it. The package
	// itself never reboots anything.
	SelfFence func(ctx context.Context) error
}

func (o Options) withDefaults() Options {
	if o.PluginDir == "" {
		o.PluginDir = pluginDirs[0]
		for _, d := range pluginDirs {
			if fi, err := os.Stat(d); err == nil && fi.IsDir() {
				o.PluginDir = d
				break
			}
		}
	}
	if o.Timeout <= 0 {
		o.Timeout = DefaultTimeout
	}
	if o.Log == nil {
		o.Log = func(string) {}
	}
	return o
}

// Applies reports whether a stonith or stonith_host line configures a
// device of localNode: stonith lines and stonith_host lines for "*" or
// localNode do.
func Applies(spec Spec, localNode string) bool {
	return spec.Host == "" || spec.Host == "*" || strings.EqualFold(spec.Host, localNode)
}

// Spec is one configured STONITH device: a stonith or stonith_host line of
// ha.cf. The daemon converts its configuration into Specs, so this package
// does not depend on the configuration parser.
type Spec struct {
	Host   string // "" for a stonith line, else the stonith_host host (lower case) or "*"
	Type   string // device type, e.g. "external/ipmi"
	File   string // parameter file of a stonith line
	Params string // parameters of a stonith_host line, as written
	// Where is the line's position ("/etc/ha.d/ha.cf:12"), the prefix of
	// configuration errors; "" for none.
	Where string
	// Dir is the directory a relative File is found in (that of ha.cf).
	Dir string
}

// New builds the device of one stonith or stonith_host line for
// localNode: null, meatware and suicide are built in, external/<name> runs
// a cluster-glue external plugin, and every other type goes through the
// `stonith` command. Configuration errors are BadConfig *Errors prefixed
// with the line's position.
func New(spec Spec, localNode string, opts Options) (Device, error) {
	opts = opts.withDefaults()
	localNode = strings.ToLower(localNode)
	d, err := build(spec, localNode, opts)
	if err != nil {
		var e *Error
		if !errors.As(err, &e) {
			err = newError(spec.Type, "config", "", BadConfig, err)
		}
		if spec.Where != "" {
			err = fmt.Errorf("%s: %w", spec.Where, err)
		}
		return nil, err
	}
	return d, nil
}

func build(spec Spec, localNode string, opts Options) (Device, error) {
	if !Applies(spec, localNode) {
		return nil, fmt.Errorf("the line is for host %s, not for the local node %q", spec.Host, localNode)
	}
	if err := checkType(spec.Type); err != nil {
		return nil, err
	}
	switch {
	case spec.Type == "null":
		line, err := paramLine(spec, opts.Log)
		if err != nil {
			return nil, err
		}
		return NewNull(fields(line)...), nil
	case spec.Type == "meatware":
		line, err := paramLine(spec, opts.Log)
		if err != nil {
			return nil, err
		}
		hosts := fields(line)
		if len(hosts) == 0 {
			return nil, errors.New("meatware needs a host list")
		}
		return NewMeatware(hosts, opts.Log), nil
	case spec.Type == "suicide":
		if spec.Params != "" || spec.File != "" {
			opts.Log("stonith suicide: takes no parameters; ignoring them")
		}
		return NewSuicide(localNode, opts)
	case strings.HasPrefix(spec.Type, "external/"):
		return newExternal(spec, opts)
	default:
		return newCommand(spec, opts)
	}
}

// NewChain builds one device for every line in specs that applies to
// localNode, in order (Heartbeat uses only the last one; a Chain tries all).
// A line that fails to build is left out and its error joined into err, so
// a non-nil err with a non-empty Chain means some devices are usable.
func NewChain(specs []Spec, localNode string, opts Options) (Chain, error) {
	var c Chain
	var errs []error
	for _, s := range specs {
		if !Applies(s, localNode) {
			continue
		}
		d, err := New(s, localNode, opts)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		c = append(c, d)
	}
	return c, errors.Join(errs...)
}

// checkType refuses type names that could be mistaken for options or
// paths.
func checkType(t string) error {
	if t == "" || strings.HasPrefix(t, "-") || strings.ContainsAny(t, delims+"\x00") {
		return fmt.Errorf("invalid STONITH type %q", t)
	}
	return nil
}

// normNode lower-cases a node name (as cluster-glue does before a reset)
// and refuses names that could be taken for options or split into
// several arguments.
func normNode(device, op, node string) (string, error) {
	n := strings.ToLower(node)
	if n == "" || len(n) > 255 || strings.HasPrefix(n, "-") || strings.ContainsAny(n, delims+"\x00/") {
		return "", newError(device, op, node, Inval, errors.New("invalid node name"))
	}
	for _, r := range n {
		if r < 0x20 || r == 0x7f {
			return "", newError(device, op, node, Inval, errors.New("invalid node name"))
		}
	}
	return n, nil
}

// ctxError returns a Timeout *Error when ctx has ended.
func ctxError(device, op, node string, ctx context.Context) error {
	if err := ctx.Err(); err != nil {
		return newError(device, op, node, Timeout, err)
	}
	return nil
}
