package testbed

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// ErrTimeout is returned by Proc.Wait when the process is still running.
var ErrTimeout = errors.New("testbed: timed out waiting for the process")

// sandboxReadyTimeout bounds the in-namespace setup (a few mounts).
const sandboxReadyTimeout = 30 * time.Second

// Run runs "ip netns exec NS name args..." bounded by the bed's RunTimeout and
// returns the combined output. It does not fail the test; t marks the helper.
func (h *Host) Run(t testing.TB, name string, args ...string) ([]byte, error) {
	t.Helper()
	return runBounded(h.bed.RunTimeout, nil, "ip", append([]string{"netns", "exec", h.ns, name}, args...)...)
}

// runStdin is Run with standard input.
func (h *Host) runStdin(stdin []byte, name string, args ...string) ([]byte, error) {
	return runBounded(h.bed.RunTimeout, stdin, "ip", append([]string{"netns", "exec", h.ns, name}, args...)...)
}

// Bind is a bind mount made inside a sandbox: Source (a path of the machine)
// appears at Target (which must already exist) for the sandboxed processes only.
type Bind struct{ Source, Target string }

// Sandbox is a private mount and UTS namespace inside a host's network
// namespace: a machine of its own for a daemon that insists on fixed paths
// (/etc/ha.d, /run/heartbeat.pid) and on uname -n.
type Sandbox struct {
	// Hostname is written to /proc/sys/kernel/hostname in the new UTS
	// namespace (empty: keep the machine's).
	Hostname string
	// Binds are mounted in order, after the host name is set.
	Binds []Bind
	// Setup lines run in /bin/sh (set -e) as root inside, after the binds and
	// before the command is exec'd.
	Setup []string
	// Env is the command's environment; nil inherits the test's.
	Env []string
}

// script is the /bin/sh program that prepares the sandbox and execs "$@".
// With ready, it reports on fd 3 that setup is complete (then closes fd 3 so
// the daemon does not inherit it).
func (sb *Sandbox) script(ready bool) string {
	var s strings.Builder
	s.WriteString("set -e\n")
	if sb.Hostname != "" {
		fmt.Fprintf(&s, "printf %%s %s > /proc/sys/kernel/hostname\n", shQuote(sb.Hostname))
	}
	for _, m := range sb.Binds {
		fmt.Fprintf(&s, "mount --bind %s %s\n", shQuote(m.Source), shQuote(m.Target))
	}
	for _, l := range sb.Setup {
		s.WriteString(l)
		s.WriteByte('\n')
	}
	if ready {
		s.WriteString("echo ready >&3\nexec 3>&-\n")
	}
	s.WriteString("exec \"$@\"\n")
	return s.String()
}

// argv is the command line that runs name in a new sandbox of host h.
func (sb *Sandbox) argv(h *Host, ready bool, name string, args []string) []string {
	return append([]string{"ip", "netns", "exec", h.ns,
		"unshare", "--mount", "--uts", "--propagation", "private", "--",
		"/bin/sh", "-c", sb.script(ready), "sh", name}, args...)
}

// shQuote quotes s for /bin/sh.
func shQuote(s string) string {
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}

// Proc is a background process started by the bed in a host.
type Proc struct {
	host    *Host
	name    string
	cmd     *exec.Cmd
	logPath string
	done    chan struct{}
	err     error // valid after done is closed
	sb      *Sandbox

	mu sync.Mutex
	// mnt is the sandbox's mount namespace (zero if not sandboxed or done
	// with). mntFile holds it open: nsfs inode numbers are reused once a
	// namespace is freed, and a sweep by a stale number could hit another
	// test's processes.
	mnt     nsID
	mntFile *os.File
}

// Start runs "ip netns exec NS name args..." in the background with stdout and
// stderr appended to a log file in the bed's directory. The process is killed
// in cleanup (by PID, and every process of the host's namespace).
func (h *Host) Start(t testing.TB, name string, args ...string) *Proc {
	t.Helper()
	p := h.newProc(t, name)
	p.cmd = exec.Command("ip", append([]string{"netns", "exec", h.ns, name}, args...)...)
	h.launch(t, p, nil)
	return p
}

// StartSandboxed runs name in a new Sandbox of the host:
//
//	ip netns exec NS unshare --mount --uts --propagation private -- sh -c '<setup>; exec "$@"' sh name args...
//
// It returns once the setup has completed (the mounts are in place), and fails
// the test with the log if the setup fails.
func (h *Host) StartSandboxed(t testing.TB, sb Sandbox, name string, args ...string) *Proc {
	t.Helper()
	p := h.newProc(t, name)
	p.sb = &sb
	argv := sb.argv(h, true, name, args)
	p.cmd = exec.Command(argv[0], argv[1:]...)
	p.cmd.Env = sb.Env
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatalf("testbed: %v", err)
	}
	defer r.Close()
	p.cmd.ExtraFiles = []*os.File{w} // fd 3 in the child
	h.launch(t, p, w)

	got := make(chan []byte, 1)
	go func() {
		// EOF comes when the child wrote "ready" and closed fd 3, or died.
		b, _ := io.ReadAll(io.LimitReader(r, 64))
		got <- b
	}()
	select {
	case b := <-got:
		if !bytes.HasPrefix(b, []byte("ready")) {
			p.waitDone(killSweepTimeout)
			t.Fatalf("testbed: sandbox setup for %s in %s failed (%v); log %s:\n%s", name, h.Name, p.err, p.logPath, p.Log())
		}
	case <-time.After(sandboxReadyTimeout):
		p.Kill()
		t.Fatalf("testbed: sandbox setup for %s in %s did not finish within %v; log:\n%s", name, h.Name, sandboxReadyTimeout, p.Log())
	}
	// The process (same PID through every exec) is now in its final mount
	// namespace; remember it to find all of the sandbox's processes later.
	f, err := os.Open(fmt.Sprintf("/proc/%d/ns/mnt", p.Pid()))
	var st syscall.Stat_t
	if err == nil {
		err = syscall.Fstat(int(f.Fd()), &st)
	}
	if err != nil || p.Exited() {
		if f != nil {
			f.Close()
		}
		p.waitDone(killSweepTimeout)
		t.Fatalf("testbed: %s exited right after sandbox setup (%v); log:\n%s", name, p.err, p.Log())
	}
	p.mu.Lock()
	p.mnt, p.mntFile = nsID{uint64(st.Dev), st.Ino}, f
	p.mu.Unlock()
	return p
}

func (h *Host) newProc(t testing.TB, name string) *Proc {
	t.Helper()
	b := h.bed
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.closed {
		t.Fatalf("testbed: Start after cleanup")
	}
	dir := filepath.Join(b.Dir, h.Name)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatalf("testbed: %v", err)
	}
	return &Proc{
		host:    h,
		name:    name,
		logPath: filepath.Join(dir, fmt.Sprintf("%02d-%s.log", len(b.procs), filepath.Base(name))),
		done:    make(chan struct{}),
	}
}

// launch starts p.cmd with its output in the log file. closeAfter (the child's
// end of a pipe) is closed in the parent once the child has it.
func (h *Host) launch(t testing.TB, p *Proc, closeAfter *os.File) {
	t.Helper()
	logf, err := os.OpenFile(p.logPath, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		t.Fatalf("testbed: %v", err)
	}
	defer logf.Close()
	p.cmd.Stdout = logf
	p.cmd.Stderr = logf
	p.cmd.SysProcAttr = &syscall.SysProcAttr{
		// Own process group, so killGroup finds the helpers a plain process
		// forks. Not for sandboxes: their processes are found by mount
		// namespace, and a group leader cannot setsid() (heartbeat -f
		// calls it and logs "ERROR: setsid() failure" if it fails).
		Setpgid: p.sb == nil,
		// If the test binary dies without cleanup (go test -timeout panics),
		// the daemon dies with it instead of running on.
		Pdeathsig: syscall.SIGKILL,
	}
	err = p.cmd.Start()
	if closeAfter != nil {
		closeAfter.Close()
	}
	if err != nil {
		t.Fatalf("testbed: start %s in %s: %v", p.name, h.Name, err)
	}
	b := h.bed
	b.mu.Lock()
	b.procs = append(b.procs, p)
	b.mu.Unlock()
	go func() {
		p.err = p.cmd.Wait()
		close(p.done)
	}()
}

// Pid returns the process ID (that of the daemon itself: ip netns exec,
// unshare and sh all exec).
func (p *Proc) Pid() int { return p.cmd.Process.Pid }

// Log returns what the process wrote to stdout and stderr so far.
func (p *Proc) Log() string {
	b, err := os.ReadFile(p.logPath)
	if err != nil {
		return fmt.Sprintf("(log %s: %v)", p.logPath, err)
	}
	return string(b)
}

// LogPath returns the log file's path.
func (p *Proc) LogPath() string { return p.logPath }

// Exited reports whether the process has exited (and been reaped).
func (p *Proc) Exited() bool {
	select {
	case <-p.done:
		return true
	default:
		return false
	}
}

// ExitCode returns the exit code, -1 if killed by a signal or still running.
func (p *Proc) ExitCode() int {
	if !p.Exited() {
		return -1
	}
	return p.cmd.ProcessState.ExitCode()
}

// Signal sends sig to the process.
func (p *Proc) Signal(sig syscall.Signal) error {
	if p.Exited() {
		return os.ErrProcessDone
	}
	return p.cmd.Process.Signal(sig)
}

// Wait waits up to timeout for the process to exit and returns its exit
// error (nil for status 0), or ErrTimeout.
func (p *Proc) Wait(timeout time.Duration) error {
	if !p.waitDone(timeout) {
		return ErrTimeout
	}
	return p.err
}

func (p *Proc) waitDone(timeout time.Duration) bool {
	select {
	case <-p.done:
		return true
	case <-time.After(timeout):
		return false
	}
}

// Kill SIGKILLs the process and what belongs to it, and waits (bounded) until
// it is reaped. For a plain process that is its process group; for a
// sandboxed one every process in the sandbox's mount namespace (daemons such
// as heartbeat setsid() and fork, and their children outlive the parent).
func (p *Proc) Kill() {
	p.killGroup()
	if !p.waitDone(killSweepTimeout) {
		p.host.bed.t.Errorf("testbed: %s (pid %d) did not exit after SIGKILL", p.name, p.Pid())
		return
	}
	p.killGroup() // reaped now: sweeps stragglers once more and lets the namespace go
}

// release drops the reference to the mount namespace (cleanup, all dead).
func (p *Proc) release() {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.mntFile != nil {
		p.mntFile.Close()
		p.mnt, p.mntFile = nsID{}, nil
	}
}

// killGroup sends SIGKILL without waiting. The process group is looked up
// among the host's processes only, so a reused group ID elsewhere is safe.
func (p *Proc) killGroup() {
	if !p.Exited() {
		_ = p.cmd.Process.Signal(syscall.SIGKILL)
	}
	pg := p.cmd.Process.Pid
	if id, err := statNS(filepath.Join(netnsDir, p.host.ns)); err == nil {
		_ = killSweep(p.name, func() []int {
			var out []int
			for _, pid := range pidsInNS("net", id) {
				if g, ok := pgidOf(pid); ok && g == pg {
					out = append(out, pid)
				}
			}
			return out
		})
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.mnt.zero() {
		return
	}
	if err := killMntNS(p.mnt); err != nil {
		p.host.bed.t.Errorf("testbed: %v", err)
		return
	}
	// Once the process is reaped and no member is left, nothing can enter
	// the namespace again: let it go.
	if p.Exited() {
		p.mntFile.Close()
		p.mnt, p.mntFile = nsID{}, nil
	}
}

// Exec runs a command inside the namespaces of p: for a sandboxed process its
// mount, UTS and network namespaces (nsenter), so it sees the daemon's private
// /etc/ha.d and /run; when p has exited, a fresh sandbox with the same binds
// and host name (which is what the machine would look like with the daemon
// stopped). For a plain process it is Host.Exec.
func (p *Proc) Exec(t testing.TB, name string, args ...string) ExecResult {
	t.Helper()
	if p.sb == nil {
		return p.host.Exec(t, name, args...)
	}
	timeout := p.host.bed.RunTimeout
	if files, ok := p.openNS(); ok {
		defer func() {
			for _, f := range files {
				f.Close()
			}
		}()
		// The namespaces are passed as open files, so the PID being reused
		// between the check and nsenter cannot send us somewhere else.
		argv := append([]string{"--mount=/proc/self/fd/3", "--uts=/proc/self/fd/4", "--net=/proc/self/fd/5", "--", name}, args...)
		return runCmd(timeout, p.sb.Env, files, "nsenter", argv...)
	}
	argv := p.sb.argv(p.host, false, name, args)
	return runCmd(timeout, p.sb.Env, nil, argv[0], argv[1:]...)
}

// openNS opens the mount, UTS and network namespaces of the live process and
// checks that the mount namespace is still the sandbox's.
func (p *Proc) openNS() ([]*os.File, bool) {
	p.mu.Lock()
	mnt := p.mnt
	p.mu.Unlock()
	if p.Exited() || mnt.zero() {
		return nil, false
	}
	var files []*os.File
	for _, kind := range []string{"mnt", "uts", "net"} {
		f, err := os.Open(fmt.Sprintf("/proc/%d/ns/%s", p.Pid(), kind))
		if err != nil {
			for _, g := range files {
				g.Close()
			}
			return nil, false
		}
		files = append(files, f)
	}
	var st syscall.Stat_t
	if err := syscall.Fstat(int(files[0].Fd()), &st); err != nil || (nsID{uint64(st.Dev), st.Ino}) != mnt {
		for _, f := range files {
			f.Close()
		}
		return nil, false
	}
	return files, true
}
