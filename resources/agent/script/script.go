package script

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"golang.org/x/sys/unix"

	"github.com/hasuite/hasuite/resources/agent"
	"github.com/hasuite/hasuite/resources/haresources"
)

// Defaults of Env.
const (
	DefaultResourceDir = "/etc/ha.d/resource.d"
	DefaultInitDir     = "/etc/init.d"
	DefaultOCFRoot     = "/usr/lib/ocf"
	DefaultRscTmp      = "/run/resource-agents"
	DefaultTimeout     = 20 * time.Second
	// DefaultPath is the PATH of every child (overridable with ExtraEnv).
	DefaultPath = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
)

// Env is where agents are found and how they are run. The zero value means
// Heartbeat's defaults.
type Env struct {
	// ResourceDirs are searched first for a script (default
	// [DefaultResourceDir]); a script found there follows Heartbeat's rules.
	ResourceDirs []string
	// InitDir is searched after ResourceDirs (default DefaultInitDir); a
	// script found there follows the LSB rules.
	InitDir string
	// OCFRoot holds OCF agents in <root>/resource.d/<provider>/<agent> and
	// their shell library in <root>/lib/heartbeat (default DefaultOCFRoot).
	OCFRoot string
	// RscTmp is HA_RSCTMP for OCF agents, created (0755) before every OCF
	// operation when missing (default DefaultRscTmp).
	RscTmp string
	// Timeout bounds each operation when Resource.Timeout is 0 (default
	// DefaultTimeout).
	Timeout time.Duration
	// Log receives every line of output of every operation, prefixed by
	// the operation, and a last line with its exit code. Nil discards.
	Log agent.Logger
	// ExtraEnv are NAME=value variables added to every child's environment
	// (e.g. HA_ variables); they may override PATH and LC_ALL but not the
	// OCF variables this package sets.
	ExtraEnv []string
}

// flavour is how a program's results are read.
type flavour int

const (
	flavourHeartbeat flavour = iota // resource.d script: stdout rule for status
	flavourLSB                      // init.d script: LSB exit codes
	flavourOCF                      // OCF agent: OCF exit codes
)

func (f flavour) String() string {
	switch f {
	case flavourHeartbeat:
		return "heartbeat resource script"
	case flavourLSB:
		return "LSB init script"
	default:
		return "OCF agent"
	}
}

// Internal timing of process handling; fields of scriptAgent so tests can
// shorten them.
const (
	defaultKillGrace = 2 * time.Second        // SIGTERM → SIGKILL of a timed-out group
	defaultReapWait  = 2 * time.Second        // after SIGKILL, for the leader to be reaped
	defaultDrainWait = 300 * time.Millisecond // after exit, for the output pipes to close
)

// scriptAgent is an agent.Agent running one external program.
type scriptAgent struct {
	name      string
	flavour   flavour
	path      string
	args      []string // passed before the action
	env       []string
	timeout   time.Duration
	log       agent.Logger
	rscTmp    string // OCF: HA_RSCTMP to create before each op; "" otherwise
	killGrace time.Duration
	reapWait  time.Duration
	drainWait time.Duration
}

var _ agent.Agent = (*scriptAgent)(nil)

// New returns the agent of a KindScript or KindOCF resource. It resolves the
// program now: an error names every path searched and why each was refused
// (missing, a directory, not a regular file, not executable). For the
// OCF::agent::instance form it also reads OCF.ParamFile now.
func New(res haresources.Resource, env Env) (agent.Agent, error) {
	env = env.withDefaults()
	a := &scriptAgent{
		name:      resourceName(res),
		log:       env.Log,
		timeout:   env.Timeout,
		killGrace: defaultKillGrace,
		reapWait:  defaultReapWait,
		drainWait: defaultDrainWait,
	}
	if res.Timeout > 0 {
		a.timeout = res.Timeout
	}
	if a.log == nil {
		a.log = func(string, string) {}
	}
	base, err := baseEnv(env.ExtraEnv)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", a.name, err)
	}
	switch res.Kind {
	case haresources.KindScript:
		if err := checkName("script", res.Type); err != nil {
			return nil, fmt.Errorf("%s: %w", a.name, err)
		}
		a.path, a.flavour, err = findScript(res.Type, env.ResourceDirs, env.InitDir)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", a.name, err)
		}
		a.args = append([]string(nil), res.Args...)
		a.env = base
	case haresources.KindOCF:
		if err := a.setupOCF(res, env, base); err != nil {
			return nil, fmt.Errorf("%s: %w", a.name, err)
		}
	default:
		return nil, fmt.Errorf("%s: resource kind %q is not run by a script agent", a.name, res.Kind)
	}
	return a, nil
}

func (e Env) withDefaults() Env {
	if len(e.ResourceDirs) == 0 {
		e.ResourceDirs = []string{DefaultResourceDir}
	}
	if e.InitDir == "" {
		e.InitDir = DefaultInitDir
	}
	if e.OCFRoot == "" {
		e.OCFRoot = DefaultOCFRoot
	}
	if e.RscTmp == "" {
		e.RscTmp = DefaultRscTmp
	}
	if e.Timeout <= 0 {
		e.Timeout = DefaultTimeout
	}
	return e
}

func (a *scriptAgent) setupOCF(res haresources.Resource, env Env, base []string) error {
	spec := res.OCF
	if spec == nil {
		return errors.New("OCF resource without an OCF specification")
	}
	provider := spec.Provider
	if provider == "" {
		provider = "heartbeat"
	}
	if err := checkName("OCF provider", provider); err != nil {
		return err
	}
	if err := checkName("OCF agent", spec.Agent); err != nil {
		return err
	}
	instance := spec.Instance
	if instance == "" {
		instance = spec.Agent
	}
	if strings.IndexByte(instance, 0) >= 0 {
		return errors.New("OCF instance name contains a NUL byte")
	}
	path := filepath.Join(env.OCFRoot, "resource.d", provider, spec.Agent)
	if reason := checkExecutable(path); reason != "" {
		return fmt.Errorf("cannot locate OCF agent %s/%s: %s: %s", provider, spec.Agent, path, reason)
	}
	vars := base
	if spec.ParamFile != "" {
		fileVars, err := ReadParamFile(spec.ParamFile)
		if err != nil {
			return err
		}
		for _, v := range fileVars {
			vars = setEnv(vars, v.EnvName(), v.Value)
		}
	}
	for _, name := range sortedKeys(spec.Params) {
		value := spec.Params[name]
		if !validName(name) {
			return fmt.Errorf("OCF parameter name %q is not a valid variable name", name)
		}
		if strings.IndexByte(value, 0) >= 0 {
			return fmt.Errorf("OCF parameter %s contains a NUL byte", name)
		}
		vars = setEnv(vars, "OCF_RESKEY_"+name, value)
	}
	for _, kv := range [][2]string{
		{"OCF_ROOT", env.OCFRoot},
		{"OCF_FUNCTIONS_DIR", filepath.Join(env.OCFRoot, "lib", "heartbeat")},
		{"OCF_RA_VERSION_MAJOR", "1"},
		{"OCF_RA_VERSION_MINOR", "0"},
		{"OCF_RESOURCE_INSTANCE", instance},
		{"OCF_RESOURCE_TYPE", spec.Agent},
		{"OCF_RESOURCE_PROVIDER", provider},
		// Agents scale their internal waits to the operation timeout
		// (Pacemaker passes it the same way, in milliseconds).
		{"OCF_RESKEY_CRM_meta_timeout", strconv.FormatInt(a.timeout.Milliseconds(), 10)},
		{"HA_RSCTMP", env.RscTmp},
	} {
		vars = setEnv(vars, kv[0], kv[1])
	}
	a.flavour = flavourOCF
	a.path = path
	a.env = vars
	a.rscTmp = env.RscTmp
	return nil
}

// findScript applies Heartbeat's scriptpath: the first regular executable
// file named name in dirs, then initDir.
func findScript(name string, dirs []string, initDir string) (string, flavour, error) {
	var refused []string
	try := func(dir string) (string, bool) {
		p := filepath.Join(dir, name)
		if reason := checkExecutable(p); reason != "" {
			refused = append(refused, p+": "+reason)
			return "", false
		}
		return p, true
	}
	for _, dir := range dirs {
		if p, ok := try(dir); ok {
			return p, flavourHeartbeat, nil
		}
	}
	if p, ok := try(initDir); ok {
		return p, flavourLSB, nil
	}
	return "", 0, fmt.Errorf("cannot locate resource script %q (searched %s)", name, strings.Join(refused, "; "))
}

// checkExecutable returns why path cannot be run, or "" when it is a regular
// file we may execute (symbolic links followed, like test -f -a -x).
func checkExecutable(path string) string {
	fi, err := os.Stat(path)
	switch {
	case errors.Is(err, os.ErrNotExist):
		return "not found"
	case err != nil:
		return err.Error()
	case fi.IsDir():
		return "is a directory"
	case !fi.Mode().IsRegular():
		return "not a regular file"
	case fi.Mode().Perm()&0o111 == 0:
		return "not executable"
	}
	if err := unix.Access(path, unix.X_OK); err != nil {
		return "not executable: " + err.Error()
	}
	return ""
}

// checkName refuses names that would leave their directory.
func checkName(what, name string) error {
	switch {
	case name == "":
		return fmt.Errorf("empty %s name", what)
	case name == "." || name == "..", strings.ContainsAny(name, "/\x00"):
		return fmt.Errorf("invalid %s name %q", what, name)
	}
	return nil
}

// resourceName is the agent's String.
func resourceName(res haresources.Resource) string {
	if res.Raw != "" {
		return res.Raw
	}
	if res.Kind == haresources.KindOCF && res.OCF != nil {
		if res.OCF.Instance != "" {
			return "OCF::" + res.OCF.Agent + "::" + res.OCF.Instance
		}
		return "ocf:" + res.OCF.Provider + ":" + res.OCF.Agent
	}
	return strings.Join(append([]string{res.Type}, res.Args...), "::")
}

// String names the resource as written in haresources.
func (a *scriptAgent) String() string { return a.name }

// Start runs the start action.
func (a *scriptAgent) Start(ctx context.Context) error {
	r := a.run(ctx, "start", false)
	if r.err != nil {
		return r.err
	}
	if r.code == 0 {
		return nil
	}
	return r.failure(a.codeName(r.code, "start"))
}

// Stop runs the stop action. LSB scripts and OCF agents may also answer 7
// ("not running"), which is success for a stop.
func (a *scriptAgent) Stop(ctx context.Context) error {
	r := a.run(ctx, "stop", false)
	if r.err != nil {
		return r.err
	}
	if r.code == 0 || (r.code == 7 && a.flavour != flavourHeartbeat) {
		return nil
	}
	return r.failure(a.codeName(r.code, "stop"))
}

// Status runs status (monitor for OCF) and reads the answer by the
// flavour's rule.
func (a *scriptAgent) Status(ctx context.Context) (bool, error) {
	op := "status"
	if a.flavour == flavourOCF {
		op = "monitor"
	}
	r := a.run(ctx, op, a.flavour == flavourHeartbeat)
	if r.err != nil {
		return false, r.err
	}
	switch a.flavour {
	case flavourHeartbeat:
		// Heartbeat ignores the exit code of status.
		return r.running, nil
	case flavourLSB:
		switch r.code {
		case 0:
			return true, nil
		case 1, 2, 3:
			return false, nil
		}
	case flavourOCF:
		switch r.code {
		case 0:
			return true, nil
		case 7:
			return false, nil
		}
	}
	return false, r.failure(a.codeName(r.code, op))
}

// codeName explains an exit code in the flavour's terms.
func (a *scriptAgent) codeName(code int, op string) string {
	switch a.flavour {
	case flavourOCF:
		return ocfCodeName(code)
	case flavourLSB:
		if op == "status" {
			return lsbStatusName(code)
		}
		return lsbActionName(code)
	}
	return shellCodeName(code)
}
