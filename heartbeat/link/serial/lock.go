package serial

import (
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"sync"
	"sync/atomic"

	"golang.org/x/sys/unix"
)

// ErrLocked means another live process (or another link of this process)
// holds the tty's UUCP lock.
var ErrLocked = errors.New("tty is locked")

// held records the lock files this process holds, so that a second link on
// the same tty in this process is refused although the pid in the file is
// ours, while a file with our pid left by an earlier process that had the
// same pid (a daemon restarted as pid 1 of a container) is taken over.
var held = struct {
	sync.Mutex
	m map[string]*uucpLock
}{m: map[string]*uucpLock{}}

// tmpSeq makes the temporary file names of concurrent acquires unique.
var tmpSeq atomic.Uint64

// lockAttempts bounds the create / remove-stale rounds of one acquire.
const lockAttempts = 4

// uucpLock is a UUCP/HDB lock file, as Heartbeat, uucp, cu, minicom and
// lockdev use: <dir>/LCK..<basename of the tty>, holding the owner's pid as
// ten right-aligned decimal digits and a newline.
type uucpLock struct {
	path string
	pid  int
}

func newLock(dir, tty string) *uucpLock {
	return &uucpLock{path: filepath.Join(dir, "LCK.."+filepath.Base(tty)), pid: os.Getpid()}
}

// lockContent is the HDB form of pid.
func lockContent(pid int) []byte { return fmt.Appendf(nil, "%10d\n", pid) }

// acquire takes the lock, or confirms that l still holds it (it is called
// again at every reopen, and re-creates a file that was removed meanwhile).
// A lock whose owner is dead, or whose content is not a pid, is stale and
// removed. A lock of a live process fails with ErrLocked.
func (l *uucpLock) acquire() error {
	held.Lock()
	defer held.Unlock()
	if o := held.m[l.path]; o != nil && o != l {
		return fmt.Errorf("lock %s: %w by another link of this process", l.path, ErrLocked)
	}
	for range lockAttempts {
		err := l.create()
		if err == nil {
			held.m[l.path] = l
			return nil
		}
		if !errors.Is(err, fs.ErrExist) {
			return fmt.Errorf("lock %s: %w", l.path, err)
		}
		content, err := os.ReadFile(l.path)
		if errors.Is(err, fs.ErrNotExist) {
			continue // released meanwhile: try again
		}
		if err != nil {
			return fmt.Errorf("lock %s: %w", l.path, err)
		}
		pid, ok := parseLockPID(content)
		switch {
		case ok && pid == l.pid && held.m[l.path] == l:
			return nil // ours, still in place
		case ok && pid != l.pid && processAlive(pid):
			return fmt.Errorf("lock %s: %w by pid %d", l.path, ErrLocked, pid)
		}
		// Stale: a dead owner, garbage, or our pid from an earlier life.
		// Remove it only if it has not changed since it was read, which
		// narrows (as lockdev does) the race with another process that
		// removes the same stale lock and creates its own.
		if err := removeIfUnchanged(l.path, content); err != nil {
			return fmt.Errorf("lock %s: removing stale lock: %w", l.path, err)
		}
	}
	return fmt.Errorf("lock %s: %w (it keeps changing)", l.path, ErrLocked)
}

// create makes the lock file atomically: a complete temporary file in the
// same directory is hard-linked to the lock name, so no reader ever sees a
// partial file. It fails with fs.ErrExist when the lock exists.
func (l *uucpLock) create() error {
	dir := filepath.Dir(l.path)
	tmp := filepath.Join(dir, fmt.Sprintf("LTMP.%d.%d", l.pid, tmpSeq.Add(1)))
	if err := os.WriteFile(tmp, lockContent(l.pid), 0o644); err != nil {
		return err
	}
	defer os.Remove(tmp)
	// WriteFile applies the umask; lock files are world-readable so that
	// other programs can tell who holds the port.
	if err := os.Chmod(tmp, 0o644); err != nil {
		return err
	}
	return os.Link(tmp, l.path)
}

// release removes the lock file if it still holds our pid.
func (l *uucpLock) release() error {
	held.Lock()
	defer held.Unlock()
	if held.m[l.path] != l {
		return nil
	}
	delete(held.m, l.path)
	content, err := os.ReadFile(l.path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("lock %s: %w", l.path, err)
	}
	if pid, ok := parseLockPID(content); !ok || pid != l.pid {
		return nil // taken over by someone else: not ours to remove
	}
	if err := os.Remove(l.path); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("lock %s: %w", l.path, err)
	}
	return nil
}

// parseLockPID reads the pid of an HDB lock file (ASCII decimal, blanks
// around it allowed).
func parseLockPID(b []byte) (int, bool) {
	s := bytes.TrimSpace(b)
	if len(s) == 0 || len(s) > 10 {
		return 0, false
	}
	pid, err := strconv.Atoi(string(s))
	if err != nil || pid <= 0 {
		return 0, false
	}
	return pid, true
}

// processAlive reports whether a process with this pid exists (kill 0:
// EPERM means it exists but belongs to someone else).
func processAlive(pid int) bool {
	err := unix.Kill(pid, 0)
	return err == nil || errors.Is(err, unix.EPERM)
}

// removeIfUnchanged removes path if it still has content.
func removeIfUnchanged(path string, content []byte) error {
	now, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		return err
	}
	if !bytes.Equal(now, content) {
		return nil // changed: look again
	}
	if err := os.Remove(path); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return err
	}
	return nil
}
