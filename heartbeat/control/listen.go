package control

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"net"
	"os"
	"path/filepath"
	"syscall"
	"time"

	"golang.org/x/sys/unix"
)

// lockName is the file whose flock marks a live server in a run directory.
// It is never removed: deleting a lock file races with its next user.
const lockName = "control.lock"

// probeTimeout bounds the check whether a daemon answers on an existing
// socket.
const probeTimeout = time.Second

// Listen creates <runDir>/control.sock and serves h on it until Close.
//
// It fails with an "already running" error if another server holds the run
// directory's lock or answers on the socket. A leftover socket nobody
// answers on (a crashed daemon's) is removed. The socket is created mode
// 0600 without touching the process-wide umask: it is bound inside a
// private 0700 directory, chmodded, then renamed into place, so no client
// can connect before the mode is final.
func Listen(runDir string, h Handler) (*Server, error) {
	if h == nil {
		return nil, errors.New("control: nil handler")
	}
	if err := ensureRunDir(runDir); err != nil {
		return nil, err
	}
	lock, err := lockRunDir(runDir)
	if err != nil {
		return nil, err
	}
	path := filepath.Join(runDir, SocketName)
	ln, info, err := createSocket(path)
	if err != nil {
		_ = lock.Close()
		return nil, err
	}
	return newServer(ln, path, info, lock, h), nil
}

// lockRunDir takes the run directory's exclusive lock, held (via the
// returned file) for the server's lifetime. The kernel drops it when the
// process dies, so it never goes stale.
func lockRunDir(runDir string) (*os.File, error) {
	path := filepath.Join(runDir, lockName)
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return nil, fmt.Errorf("open control lock: %w", err)
	}
	if err := unix.Flock(int(f.Fd()), unix.LOCK_EX|unix.LOCK_NB); err != nil {
		_ = f.Close()
		if errors.Is(err, unix.EWOULDBLOCK) {
			return nil, fmt.Errorf("heartbeat is already running (%s is locked)", path)
		}
		return nil, fmt.Errorf("lock %s: %w", path, err)
	}
	return f, nil
}

// createSocket removes a stale socket at path and binds a new one there.
func createSocket(path string) (*net.UnixListener, os.FileInfo, error) {
	if err := removeStale(path); err != nil {
		return nil, nil, err
	}
	ln, err := bindSocket(path)
	if err != nil {
		return nil, nil, fmt.Errorf("control socket %s: %w", path, err)
	}
	info, err := os.Lstat(path)
	if err != nil {
		_ = ln.Close()
		return nil, nil, fmt.Errorf("control socket: %w", err)
	}
	return ln, info, nil
}

// bindSocket creates a listening socket at path with mode 0600.
//
// On Linux the file bind(2) creates takes the socket inode's mode, filtered
// by the umask; fchmod on the socket before bind therefore fixes the mode
// without touching the process-wide umask (which would race with every
// other goroutine creating files) and without a window in which the socket
// exists with a wider mode.
func bindSocket(path string) (*net.UnixListener, error) {
	fd, err := unix.Socket(unix.AF_UNIX, unix.SOCK_STREAM|unix.SOCK_CLOEXEC|unix.SOCK_NONBLOCK, 0)
	if err != nil {
		return nil, fmt.Errorf("socket: %w", err)
	}
	f := os.NewFile(uintptr(fd), path)
	defer f.Close() // FileListener works on a dup
	if err := unix.Fchmod(fd, 0o600); err != nil {
		return nil, fmt.Errorf("fchmod: %w", err)
	}
	if err := unix.Bind(fd, &unix.SockaddrUnix{Name: path}); err != nil {
		return nil, fmt.Errorf("bind: %w", err)
	}
	ln, err := listenBound(f, path)
	if err != nil {
		_ = os.Remove(path)
		return nil, err
	}
	return ln, nil
}

// listenBound starts listening on the bound socket f and wraps it.
func listenBound(f *os.File, path string) (*net.UnixListener, error) {
	if err := unix.Listen(int(f.Fd()), unix.SOMAXCONN); err != nil {
		return nil, fmt.Errorf("listen: %w", err)
	}
	// A umask that removes owner bits (0277 and the like) still applied.
	if err := os.Chmod(path, 0o600); err != nil {
		return nil, err
	}
	l, err := net.FileListener(f)
	if err != nil {
		return nil, err
	}
	ln, ok := l.(*net.UnixListener)
	if !ok {
		_ = l.Close()
		return nil, fmt.Errorf("unexpected listener type %T", l)
	}
	// Close removes the path itself, and only while it is still ours.
	ln.SetUnlinkOnClose(false)
	return ln, nil
}

// removeStale deletes path if it is a socket nobody answers on. It refuses
// to delete anything that is not a socket.
func removeStale(path string) error {
	info, err := os.Lstat(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("control socket: %w", err)
	}
	if info.Mode().Type() != fs.ModeSocket {
		return fmt.Errorf("control socket: %s exists and is not a socket", path)
	}
	ctx, cancel := context.WithTimeout(context.Background(), probeTimeout)
	defer cancel()
	var d net.Dialer
	c, err := d.DialContext(ctx, "unix", path)
	if err == nil {
		_ = c.Close()
		return fmt.Errorf("heartbeat is already running (a daemon answers on %s)", path)
	}
	if !errors.Is(err, syscall.ECONNREFUSED) && !errors.Is(err, syscall.ENOENT) {
		return fmt.Errorf("control socket: probing %s: %w", path, err)
	}
	if err := os.Remove(path); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("control socket: removing stale %s: %w", path, err)
	}
	return nil
}
