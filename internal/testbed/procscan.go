package testbed

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// nsID identifies a namespace by the device and inode of its nsfs file.
type nsID struct{ dev, ino uint64 }

func (n nsID) zero() bool { return n == nsID{} }

// statNS returns the identity of the namespace file at path (for example
// /run/netns/NAME or /proc/PID/ns/mnt). Zombies have no namespaces and fail.
func statNS(path string) (nsID, error) {
	var st syscall.Stat_t
	if err := syscall.Stat(path, &st); err != nil {
		return nsID{}, err
	}
	return nsID{dev: uint64(st.Dev), ino: st.Ino}, nil
}

// pids lists the numeric entries of /proc.
func pids() []int {
	ents, err := os.ReadDir("/proc")
	if err != nil {
		return nil
	}
	out := make([]int, 0, len(ents))
	for _, e := range ents {
		if pid, err := strconv.Atoi(e.Name()); err == nil {
			out = append(out, pid)
		}
	}
	return out
}

// pidsInNS returns the live processes whose namespace of the given kind
// ("net", "mnt") is id.
func pidsInNS(kind string, id nsID) []int {
	var out []int
	for _, pid := range pids() {
		got, err := statNS(filepath.Join("/proc", strconv.Itoa(pid), "ns", kind))
		if err == nil && got == id {
			out = append(out, pid)
		}
	}
	return out
}

// alive reports whether pid is a process that has not exited. A zombie has
// exited: it only waits for its parent to reap it, and an orphan's new
// parent (PID 1 of a container or sandbox) may take its time over that,
// while kill(pid, 0) still succeeds on it.
func alive(pid int) bool {
	if err := syscall.Kill(pid, 0); errors.Is(err, syscall.ESRCH) {
		return false
	}
	st, ok := statField(pid, 0)
	return ok && st != "Z" && st != "X"
}

// statField returns field n (0 = the state) after the command name of
// /proc/PID/stat, which may itself contain spaces or parentheses.
func statField(pid, n int) (string, bool) {
	data, err := os.ReadFile(filepath.Join("/proc", strconv.Itoa(pid), "stat"))
	if err != nil {
		return "", false
	}
	s := string(data)
	i := strings.LastIndexByte(s, ')')
	if i < 0 {
		return "", false
	}
	f := strings.Fields(s[i+1:])
	if len(f) <= n {
		return "", false
	}
	return f[n], true
}

// pgidOf reads the process group from /proc/PID/stat (field 5, after the
// parenthesised command name, which may itself contain spaces or parentheses).
func pgidOf(pid int) (int, bool) {
	f, ok := statField(pid, 2)
	if !ok {
		return 0, false
	}
	pg, err := strconv.Atoi(f)
	return pg, err == nil
}

// killSweep SIGKILLs every process that list returns, repeatedly, until list
// returns nothing (a process may fork while it is being killed) or the bound
// expires.
func killSweep(what string, list func() []int) error {
	deadline := time.Now().Add(killSweepTimeout)
	for {
		ps := list()
		if len(ps) == 0 {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("processes of %s still alive after %v: %v", what, killSweepTimeout, ps)
		}
		for _, pid := range ps {
			if pid == os.Getpid() {
				continue // never ourselves, whatever namespace we are in
			}
			_ = syscall.Kill(pid, syscall.SIGKILL)
		}
		time.Sleep(killSweepInterval)
	}
}

// killNetns kills every process in the named network namespace.
func killNetns(ns string) error {
	id, err := statNS(filepath.Join(netnsDir, ns))
	if errors.Is(err, os.ErrNotExist) {
		return nil
	}
	if err != nil {
		return err
	}
	self, _ := statNS("/proc/self/ns/net")
	if id == self {
		return fmt.Errorf("refusing to kill the processes of our own network namespace %s", ns)
	}
	return killSweep("netns "+ns, func() []int { return pidsInNS("net", id) })
}

// killMntNS kills every process in a mount namespace.
func killMntNS(id nsID) error {
	if id.zero() {
		return nil
	}
	self, _ := statNS("/proc/self/ns/mnt")
	if id == self {
		return errors.New("refusing to kill the processes of our own mount namespace")
	}
	return killSweep(fmt.Sprintf("mount namespace %d", id.ino), func() []int { return pidsInNS("mnt", id) })
}

// ProcessGone reports whether pid has exited: no such process, or a
// zombie (see alive).
func ProcessGone(pid int) bool { return !alive(pid) }
