package control

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"golang.org/x/sys/unix"
)

// PidFileName is the daemon's pid file inside the run directory.
const PidFileName = "heartbeat.pid"

// WritePidFile writes the calling process's pid to <runDir>/heartbeat.pid
// (replacing the file atomically) and returns a function that removes it
// again, but only while it still holds our pid, so a stopping daemon never
// deletes the pid file of its successor. The pid file is informational (for
// init scripts and ReadPid); the control socket's lock is what keeps a
// second daemon from starting.
func WritePidFile(runDir string) (func(), error) {
	if err := ensureRunDir(runDir); err != nil {
		return nil, err
	}
	pid := os.Getpid()
	content := strconv.Itoa(pid) + "\n"
	f, err := os.CreateTemp(runDir, "."+PidFileName+".tmp*")
	if err != nil {
		return nil, fmt.Errorf("write pid file: %w", err)
	}
	tmp := f.Name()
	_, werr := f.WriteString(content)
	cerr := f.Close()
	if err := errors.Join(werr, cerr, os.Chmod(tmp, 0o644)); err != nil {
		_ = os.Remove(tmp)
		return nil, fmt.Errorf("write pid file %s: %w", tmp, err)
	}
	path := filepath.Join(runDir, PidFileName)
	if err := os.Rename(tmp, path); err != nil {
		_ = os.Remove(tmp)
		return nil, fmt.Errorf("write pid file: %w", err)
	}
	remove := func() {
		if got, ok := readPidFile(path); ok && got == pid {
			_ = os.Remove(path)
		}
	}
	return remove, nil
}

// ReadPid returns the pid recorded in <runDir>/heartbeat.pid and whether a
// process with that pid exists. A missing or malformed file gives (0, false);
// a stale one gives (pid, false).
func ReadPid(runDir string) (int, bool) {
	pid, ok := readPidFile(filepath.Join(runDir, PidFileName))
	if !ok {
		return 0, false
	}
	// Signal 0 checks existence; EPERM means it exists but is not ours.
	err := unix.Kill(pid, 0)
	return pid, err == nil || errors.Is(err, unix.EPERM)
}

func readPidFile(path string) (int, bool) {
	b, err := os.ReadFile(path)
	if err != nil || len(b) > 32 {
		return 0, false
	}
	pid, err := strconv.Atoi(strings.TrimSpace(string(b)))
	if err != nil || pid <= 0 {
		return 0, false
	}
	return pid, true
}

// PidFileExists reports whether <runDir>/heartbeat.pid exists, whatever it
// holds: a daemon that did not stop gracefully leaves it behind.
func PidFileExists(runDir string) bool {
	_, err := os.Lstat(filepath.Join(runDir, PidFileName))
	return err == nil
}
