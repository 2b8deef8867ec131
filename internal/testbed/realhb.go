package testbed

import (
	"bufio"
	"fmt"
	"io"
	"os"
	"os/user"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// Paths of the Debian heartbeat package (1:3.0.6-13).
const (
	clStatusPath = "/usr/bin/cl_status"
	haDir        = "/etc/ha.d"
)

// heartbeatCandidates are where distributions put the daemon.
var heartbeatCandidates = []string{
	"/usr/libexec/heartbeat/heartbeat", // Debian bookworm
	"/usr/lib/heartbeat/heartbeat",     // older Debian/Ubuntu
	"/usr/lib64/heartbeat/heartbeat",   // RPM-based
}

// Bounds for the real daemon.
const (
	// DefaultStopTimeout bounds a graceful stop. Heartbeat needs ~3 s with no
	// resources; resource scripts add their own time.
	DefaultStopTimeout = 60 * time.Second
	// realHBStartTimeout bounds the start up to config validation (the FIFO).
	realHBStartTimeout = 30 * time.Second
	// clStatusPollInterval paces WaitNodeStatus; cl_status itself takes ~5 ms.
	clStatusPollInterval = 100 * time.Millisecond
)

// RealHeartbeatAvailable finds the real heartbeat daemon; ok is false when it
// or cl_status is not installed.
func RealHeartbeatAvailable() (path string, ok bool) {
	if _, err := os.Stat(clStatusPath); err != nil {
		return "", false
	}
	for _, p := range heartbeatCandidates {
		if st, err := os.Stat(p); err == nil && st.Mode().IsRegular() && st.Mode()&0o111 != 0 {
			return p, true
		}
	}
	return "", false
}

// RequireRealHeartbeat returns the daemon's path, or skips the test (fails
// under CI=true) when the heartbeat package is not installed completely.
func RequireRealHeartbeat(t testing.TB) string {
	t.Helper()
	path, ok := RealHeartbeatAvailable()
	if !ok {
		Unavailable(t, "testbed: the real heartbeat 3.0.6 is not installed (no %s or no daemon in %v); run scripts/install-test-deps.sh", clStatusPath, heartbeatCandidates)
	}
	if _, err := user.Lookup("hacluster"); err != nil {
		Unavailable(t, "testbed: user hacluster missing (the heartbeat package creates it): %v", err)
	}
	if _, err := user.LookupGroup("haclient"); err != nil {
		Unavailable(t, "testbed: group haclient missing (the heartbeat package creates it): %v", err)
	}
	return path
}

// RealHBConfig configures one real heartbeat node.
type RealHBConfig struct {
	// Node is the node's name (its uname -n); it must be listed on a "node"
	// line of HACF. Heartbeat lower-cases names, so use lower case.
	Node string
	// HACF is the full text of ha.cf. When it has no use_logd, logfile or
	// debugfile directive, "use_logd no", "logfile <dir>/log/ha-log" and
	// "debugfile <dir>/log/ha-debug" are put in front of it (there is no
	// ha_logd in the test bed and logging directives act when read).
	HACF string
	// Authkeys is written with mode 0600 (heartbeat refuses group/world-
	// readable keys).
	Authkeys string
	// Haresources may be empty (heartbeat wants the file to exist).
	Haresources string
	// Files are extra files under /etc/ha.d (relative path -> content), e.g.
	// "resource.d/Probe"; files under resource.d/ and rc.d/ are made executable.
	Files map[string]string
	// Args are extra daemon flags; "-f" (foreground) is always given.
	Args []string
	// StopTimeout bounds Stop (default DefaultStopTimeout).
	StopTimeout time.Duration
}

// RealHB is a running (or stopped) real heartbeat node in a host.
type RealHB struct {
	Host *Host
	Node string

	cfg     RealHBConfig
	dir     string
	logfile string
	proc    *Proc
}

var nodeName = regexp.MustCompile(`^[a-z0-9][a-z0-9._-]{0,62}$`)

// StartRealHeartbeat starts the real Linux-HA heartbeat in a sandbox of the
// host (see the package documentation for the private paths), and returns
// once the daemon has validated its configuration. A configuration error
// fails the test with the daemon's log. Starting the same node on the same
// host again (after Stop, Kill or PowerOff) reuses its /var/lib/heartbeat, so
// its generation number grows as on a real machine.
func (h *Host) StartRealHeartbeat(t testing.TB, cfg RealHBConfig) *RealHB {
	t.Helper()
	bin := RequireRealHeartbeat(t)
	if !nodeName.MatchString(cfg.Node) {
		t.Fatalf("testbed: node name %q: want lower-case [a-z0-9._-]", cfg.Node)
	}
	b := h.bed
	b.mu.Lock()
	for _, n := range h.nodes {
		if n.Node == cfg.Node && !n.proc.Exited() {
			b.mu.Unlock()
			t.Fatalf("testbed: heartbeat node %s is already running in %s", cfg.Node, h.Name)
		}
	}
	b.mu.Unlock()
	if cfg.StopTimeout <= 0 {
		cfg.StopTimeout = DefaultStopTimeout
	}
	r := &RealHB{Host: h, Node: cfg.Node, cfg: cfg, dir: filepath.Join(b.Dir, h.Name, "node-"+cfg.Node)}
	if err := r.prepare(); err != nil {
		t.Fatalf("testbed: preparing heartbeat node %s: %v", cfg.Node, err)
	}
	sb := Sandbox{
		Hostname: cfg.Node,
		Binds: []Bind{
			{Source: r.ConfDir(), Target: haDir},
			{Source: r.StateDir(), Target: "/var/lib/heartbeat"},
			{Source: r.RunDir(), Target: "/run"},
		},
		// A clean, fixed environment: heartbeat passes it on to resource
		// scripts, and HA_* variables of the caller must not leak in.
		Env: []string{"PATH=/usr/sbin:/usr/bin:/sbin:/bin", "LC_ALL=C", "HOME=/root"},
	}
	r.proc = h.StartSandboxed(t, sb, bin, append([]string{"-f"}, cfg.Args...)...)
	b.mu.Lock()
	h.nodes = append(h.nodes, r)
	b.mu.Unlock()

	// The FIFO is (re)created right after the configuration is validated; a
	// configuration error makes the daemon exit (code 6) before that.
	fifo := filepath.Join(r.StateDir(), "fifo")
	deadline := time.Now().Add(realHBStartTimeout)
	for {
		if _, err := os.Stat(fifo); err == nil {
			return r
		}
		if r.proc.Exited() {
			t.Fatalf("testbed: heartbeat %s exited during start-up (exit %d); ha.cf:\n%s\nlog:\n%s%s",
				cfg.Node, r.proc.ExitCode(), readFile(filepath.Join(r.ConfDir(), "ha.cf")), r.proc.Log(), r.Log())
		}
		if time.Now().After(deadline) {
			t.Fatalf("testbed: heartbeat %s did not create %s within %v; log:\n%s", cfg.Node, fifo, realHBStartTimeout, r.proc.Log())
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// ConfDir is the node's private /etc/ha.d, as a path of the machine. Edit
// ha.cf there and send SIGHUP (Proc().Signal) to test a reload.
func (r *RealHB) ConfDir() string { return filepath.Join(r.dir, "etc") }

// StateDir is the node's private /var/lib/heartbeat.
func (r *RealHB) StateDir() string { return filepath.Join(r.dir, "lib") }

// RunDir is the node's private /run.
func (r *RealHB) RunDir() string { return filepath.Join(r.dir, "run") }

// LogPath is heartbeat's logfile (the default one in the bed's directory, or
// the ha.cf logfile as written there).
func (r *RealHB) LogPath() string { return r.logfile }

// Log returns heartbeat's log file (its stdout/stderr are in Proc().Log()).
func (r *RealHB) Log() string { return readFile(r.logfile) }

// Proc returns the daemon's process (the master control process).
func (r *RealHB) Proc() *Proc { return r.proc }

// Pid returns the PID of the master control process.
func (r *RealHB) Pid() int { return r.proc.Pid() }

// Running reports whether the master control process is alive.
func (r *RealHB) Running() bool { return !r.proc.Exited() }

// Exec runs a command as this node would: inside its mount, UTS and network
// namespaces (for example "/usr/share/heartbeat/hb_standby", "all").
func (r *RealHB) Exec(t testing.TB, name string, args ...string) ExecResult {
	t.Helper()
	return r.proc.Exec(t, name, args...)
}

// ClStatus runs the real cl_status on this node and returns its standard
// output (unmodified, with the trailing newline) and exit code; -1 if it
// could not run (the reason is logged).
func (r *RealHB) ClStatus(t testing.TB, args ...string) (string, int) {
	t.Helper()
	res := r.proc.Exec(t, clStatusPath, args...)
	if res.Err != nil {
		t.Logf("testbed: cl_status %s on %s: %v", strings.Join(args, " "), r.Node, res.Err)
	}
	return res.Stdout, res.Code
}

// WaitNodeStatus polls "cl_status nodestatus <node>" on r until it prints
// want (active, up, init, dead, ping), and returns how long that took. It
// fails the test after timeout with the last answer and the log.
func (r *RealHB) WaitNodeStatus(t testing.TB, node, want string, timeout time.Duration) time.Duration {
	t.Helper()
	return r.WaitClStatus(t, timeout, want, "nodestatus", node)
}

// WaitClStatus polls "cl_status args..." until its output (trimmed) is want.
func (r *RealHB) WaitClStatus(t testing.TB, timeout time.Duration, want string, args ...string) time.Duration {
	t.Helper()
	took, out, code, ok := r.poll(t, timeout, func(out string, _ int) bool { return out == want }, args...)
	if !ok {
		t.Fatalf("testbed: on %s, cl_status %s: want %q within %v, last %q (exit %d), daemon running=%v; log:\n%s",
			r.Node, strings.Join(args, " "), want, timeout, out, code, r.Running(), Tail(r.Log(), 40))
	}
	return took
}

// WaitSettled waits until "cl_status rscstatus" answers and is no longer
// "transition". After comm-up both nodes stay in transition for about 10 s
// (the initial resource negotiation), even with no resources. Killing the
// peer or stopping the node during that window can leave the node in
// transition for good, and then SIGTERM only logs "Shutdown delayed until
// current resource activity finishes" and never stops; so let the cluster
// settle before injecting a fault that a test does not mean to overlap.
func (r *RealHB) WaitSettled(t testing.TB, timeout time.Duration) time.Duration {
	t.Helper()
	took, out, code, ok := r.poll(t, timeout, func(out string, code int) bool { return code == 0 && out != "transition" }, "rscstatus")
	if !ok {
		t.Fatalf("testbed: %s did not settle within %v: rscstatus %q (exit %d); log:\n%s", r.Node, timeout, out, code, Tail(r.Log(), 40))
	}
	return took
}

// poll runs cl_status until done accepts its trimmed output and exit code,
// the daemon exits, or timeout passes.
func (r *RealHB) poll(t testing.TB, timeout time.Duration, done func(string, int) bool, args ...string) (time.Duration, string, int, bool) {
	t.Helper()
	start := time.Now()
	var out string
	code := -1
	for time.Since(start) < timeout {
		var raw string
		raw, code = r.ClStatus(t, args...)
		out = strings.TrimSpace(raw)
		if done(out, code) {
			return time.Since(start), out, code, true
		}
		if r.proc.Exited() {
			break
		}
		time.Sleep(clStatusPollInterval)
	}
	return time.Since(start), out, code, false
}

// Stop stops the node gracefully: SIGTERM, then a bounded wait. A node still
// in a resource transition is first given up to half of StopTimeout to settle
// (see WaitSettled). A daemon that does not stop in time is an error of the
// test and is killed.
func (r *RealHB) Stop(t testing.TB) {
	t.Helper()
	if r.Running() {
		_, out, code, ok := r.poll(t, r.cfg.StopTimeout/2, func(out string, code int) bool { return code != 0 || out != "transition" }, "rscstatus")
		if !ok && r.Running() {
			t.Logf("testbed: stopping %s while rscstatus is %q (exit %d); heartbeat may delay the shutdown", r.Node, out, code)
		}
	}
	if err := r.proc.Signal(syscall.SIGTERM); err != nil && err != os.ErrProcessDone {
		t.Errorf("testbed: SIGTERM to heartbeat %s: %v", r.Node, err)
	}
	if err := r.proc.Wait(r.cfg.StopTimeout); err == ErrTimeout {
		t.Errorf("testbed: heartbeat %s did not stop within %v after SIGTERM; killing it", r.Node, r.cfg.StopTimeout)
	}
	// Kill also removes children that outlived the master.
	r.proc.Kill()
}

// Kill crashes the node's heartbeat: SIGKILL to the master control process
// and every child (read/write/FIFO processes, resource scripts) in its mount
// namespace. The node's /run is kept, as after a real crash.
func (r *RealHB) Kill() { r.proc.Kill() }

// prepare builds the node's private directories.
func (r *RealHB) prepare() error {
	hacl, err := user.Lookup("hacluster")
	if err != nil {
		return err
	}
	grp, err := user.LookupGroup("haclient")
	if err != nil {
		return err
	}
	uid, _ := strconv.Atoi(hacl.Uid)
	gid, _ := strconv.Atoi(grp.Gid)
	// Every directory on the way to the logs must be traversable by the
	// children that drop privileges, whatever the test's umask.
	for _, d := range []string{filepath.Dir(r.dir), r.dir} {
		if err := mkdirMode(d, 0o755, -1, -1); err != nil {
			return err
		}
	}
	nobody := -1
	if u, err := user.Lookup("nobody"); err == nil {
		nobody, _ = strconv.Atoi(u.Uid)
	}

	// /etc/ha.d: the package's scripts (harc, rc.d, resource.d, shellfuncs)
	// plus this node's files. A host nodeinfo would override uname -n.
	etc := r.ConfDir()
	if err := os.RemoveAll(etc); err != nil {
		return err
	}
	skip := map[string]bool{"ha.cf": true, "authkeys": true, "haresources": true, "nodeinfo": true}
	if err := copyTree(haDir, etc, skip); err != nil {
		return err
	}
	logDir := filepath.Join(r.dir, "log")
	if err := mkdirMode(logDir, 0o777, -1, -1); err != nil {
		return err
	}
	hacf, logfile := augmentHACF(r.cfg.HACF, filepath.Join(logDir, "ha-log"), filepath.Join(logDir, "ha-debug"))
	r.logfile = logfile
	// Pre-created writable, because processes that dropped privileges append too.
	for _, f := range []string{"ha-log", "ha-debug"} {
		p := filepath.Join(logDir, f)
		if err := writeFileMode(p, "", 0o666, true); err != nil {
			return err
		}
	}
	files := map[string]struct {
		content string
		mode    os.FileMode
	}{
		"ha.cf":       {hacf, 0o644},
		"authkeys":    {r.cfg.Authkeys, 0o600},
		"haresources": {r.cfg.Haresources, 0o644},
	}
	for name, content := range r.cfg.Files {
		mode := os.FileMode(0o644)
		if strings.HasPrefix(name, "resource.d/") || strings.HasPrefix(name, "rc.d/") {
			mode = 0o755
		}
		files[name] = struct {
			content string
			mode    os.FileMode
		}{content, mode}
	}
	for name, f := range files {
		p := filepath.Join(etc, filepath.Clean("/"+name))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			return err
		}
		if err := writeFileMode(p, f.content, f.mode, false); err != nil {
			return err
		}
	}

	// /var/lib/heartbeat with the package's owners and modes (postinst).
	lib := r.StateDir()
	type d struct {
		path     string
		mode     os.FileMode
		uid, gid int
	}
	dirs := []d{
		{"", 0o755, 0, 0}, {"api", 0o755, 0, 0}, {"casual", 0o755, 0, 0}, {"ckpt", 0o755, 0, 0},
		{"lrm", 0o755, 0, 0}, {"ccm", 0o750, uid, gid}, {"crm", 0o750, uid, gid}, {"pengine", 0o750, uid, gid},
		{"cores", 0o755, 0, 0}, {"cores/root", 0o700, 0, 0}, {"cores/hacluster", 0o700, uid, 0},
	}
	if nobody >= 0 {
		dirs = append(dirs, d{"cores/nobody", 0o700, nobody, 0})
	}
	for _, x := range dirs {
		if err := mkdirMode(filepath.Join(lib, x.path), x.mode, x.uid, x.gid); err != nil {
			return err
		}
	}
	// Recreated by heartbeat; its appearance tells StartRealHeartbeat that
	// the configuration was accepted.
	if err := os.Remove(filepath.Join(lib, "fifo")); err != nil && !os.IsNotExist(err) {
		return err
	}
	return r.prepareRun(uid, gid)
}

// prepareRun creates the node's /run as the init script and tmpfiles.d would,
// and removes a stale heartbeat.pid (heartbeat refuses to start when the PID
// written there belongs to a live process, which a reused PID can).
func (r *RealHB) prepareRun(uid, gid int) error {
	run := r.RunDir()
	for _, x := range []struct {
		path string
		mode os.FileMode
		uid  int
		gid  int
	}{
		{"", 0o755, 0, 0},
		{"lock", 0o1777, 0, 0},
		{"resource-agents", 0o1755, 0, 0},
		{"crm", 0o750, uid, gid},
		{"heartbeat", 0o750, uid, gid},
		{"heartbeat/ccm", 0o750, uid, gid},
		{"heartbeat/crm", 0o750, uid, gid},
		{"heartbeat/dopd", 0o750, uid, gid},
	} {
		if err := mkdirMode(filepath.Join(run, x.path), x.mode, x.uid, x.gid); err != nil {
			return err
		}
	}
	if _, err := os.Lstat(filepath.Join(run, "shm")); os.IsNotExist(err) {
		if err := os.Symlink("/dev/shm", filepath.Join(run, "shm")); err != nil {
			return err
		}
	}
	if err := os.Remove(filepath.Join(run, "heartbeat.pid")); err != nil && !os.IsNotExist(err) {
		return err
	}
	return nil
}

// resetVolatile empties the node's /run, as a reboot would.
func (r *RealHB) resetVolatile() error {
	if err := os.RemoveAll(r.RunDir()); err != nil {
		return err
	}
	uid, gid := 0, 0
	if u, err := user.Lookup("hacluster"); err == nil {
		uid, _ = strconv.Atoi(u.Uid)
	}
	if g, err := user.LookupGroup("haclient"); err == nil {
		gid, _ = strconv.Atoi(g.Gid)
	}
	return r.prepareRun(uid, gid)
}

// augmentHACF puts the logging directives the test bed needs in front of
// ha.cf when they are missing, and returns the text and the log file in use.
func augmentHACF(hacf, logfile, debugfile string) (string, string) {
	have := map[string]string{}
	sc := bufio.NewScanner(strings.NewReader(hacf))
	for sc.Scan() {
		line := sc.Text()
		if i := strings.IndexByte(line, '#'); i >= 0 {
			line = line[:i]
		}
		f := strings.Fields(line)
		if len(f) > 0 {
			v := ""
			if len(f) > 1 {
				v = f[1]
			}
			have[f[0]] = v
		}
	}
	var head strings.Builder
	if _, ok := have["use_logd"]; !ok {
		head.WriteString("use_logd no\n")
	}
	if v, ok := have["logfile"]; ok {
		logfile = v
	} else {
		fmt.Fprintf(&head, "logfile %s\n", logfile)
	}
	if _, ok := have["debugfile"]; !ok {
		fmt.Fprintf(&head, "debugfile %s\n", debugfile)
	}
	if head.Len() == 0 {
		return hacf, logfile
	}
	return "# logging added by internal/testbed\n" + head.String() + hacf, logfile
}

// copyTree copies a directory tree (files, directories, symlinks) keeping
// modes; top-level names in skip are left out.
func copyTree(src, dst string, skip map[string]bool) error {
	return filepath.Walk(src, func(p string, info os.FileInfo, err error) error {
		if err != nil {
			return err
		}
		rel, err := filepath.Rel(src, p)
		if err != nil {
			return err
		}
		if skip[rel] {
			return nil
		}
		out := filepath.Join(dst, rel)
		switch {
		case info.Mode()&os.ModeSymlink != 0:
			target, err := os.Readlink(p)
			if err != nil {
				return err
			}
			return os.Symlink(target, out)
		case info.IsDir():
			return mkdirMode(out, info.Mode().Perm(), -1, -1)
		case info.Mode().IsRegular():
			in, err := os.Open(p)
			if err != nil {
				return err
			}
			defer in.Close()
			o, err := os.OpenFile(out, os.O_CREATE|os.O_WRONLY|os.O_TRUNC, info.Mode().Perm())
			if err != nil {
				return err
			}
			if _, err := io.Copy(o, in); err != nil {
				o.Close()
				return err
			}
			return o.Close()
		default:
			return nil // sockets, FIFOs: nothing to copy
		}
	})
}

// mkdirMode creates dir (if needed) and sets mode and owner (-1 keeps).
// Explicit chmod because the umask would strip sticky/group bits.
func mkdirMode(dir string, mode os.FileMode, uid, gid int) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	if uid >= 0 || gid >= 0 {
		if err := os.Chown(dir, uid, gid); err != nil {
			return err
		}
	}
	return os.Chmod(dir, mode)
}

// writeFileMode writes a file with an exact mode; keep leaves an existing
// file's content alone.
func writeFileMode(p, content string, mode os.FileMode, keep bool) error {
	flags := os.O_CREATE | os.O_WRONLY
	if !keep {
		flags |= os.O_TRUNC
	}
	f, err := os.OpenFile(p, flags, mode)
	if err != nil {
		return err
	}
	if !keep {
		if _, err := f.WriteString(content); err != nil {
			f.Close()
			return err
		}
	}
	if err := f.Close(); err != nil {
		return err
	}
	return os.Chmod(p, mode)
}

func readFile(p string) string {
	b, err := os.ReadFile(p)
	if err != nil {
		return fmt.Sprintf("(%v)", err)
	}
	return string(b)
}
