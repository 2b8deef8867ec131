package watchdog

import (
	"errors"
	"fmt"
	"math"
	"os"
	"strconv"
	"sync"
	"time"

	"golang.org/x/sys/unix"
)

// Errors returned by Open and the Device methods.
var (
	// ErrRealWatchdog is returned by Open for a real watchdog device
	// without AllowReal(true).
	ErrRealWatchdog = errors.New("refusing to open a real watchdog device without AllowReal")
	// ErrTimeoutNotSet wraps the warning kept in Device.SetTimeoutErr when
	// the timeout could not be set (not a character device, ENOTTY, EINVAL...).
	ErrTimeoutNotSet = errors.New("watchdog timeout not set")
	// ErrClosed is returned by Kick, Close and Abandon after Close or Abandon.
	ErrClosed = errors.New("watchdog device already closed")
)

// Bytes written to the device.
const (
	kickByte  = 0   // Heartbeat's kick: one NUL byte
	magicByte = 'V' // magic close: disarms a driver with nowayout=0
)

// Watchdog is what the daemon needs from a watchdog; *Device implements it
// and watchdogtest.Fake is an in-memory stand-in.
type Watchdog interface {
	Kick() error
	Close() error
	Abandon() error
}

var _ Watchdog = (*Device)(nil)

// Option configures Open.
type Option func(*options)

type options struct {
	allowReal bool
	// isWatchdogDev classifies a character device; replaced in tests so a
	// harmless device can stand in for a real watchdog.
	isWatchdogDev func(major, minor uint32) bool
}

// AllowReal permits Open to open a real watchdog device (see the package
// documentation). Only the daemon passes true, and only when ha.cf names
// the device explicitly with the watchdog directive.
func AllowReal(allow bool) Option { return func(o *options) { o.allowReal = allow } }

// Device is an open watchdog device. Its methods are safe for concurrent use.
type Device struct {
	path       string
	real       bool
	timeout    time.Duration
	timeoutErr error

	mu   sync.Mutex
	fd   int
	open bool // false once closed (and in a zero Device, which has no fd)
}

// Open opens the watchdog device at path for writing. If path is a
// character device and timeout > 0, the device timeout is set to timeout
// rounded up to whole seconds; a failure to set it is kept in
// SetTimeoutErr, not returned. timeout <= 0 keeps the driver's timeout.
func Open(path string, timeout time.Duration, opts ...Option) (*Device, error) {
	o := options{isWatchdogDev: isWatchdogDev}
	for _, opt := range opts {
		opt(&o)
	}
	if path == "" {
		return nil, errors.New("watchdog: empty device path")
	}
	// Names first: no system call at all touches a /dev/watchdog* path
	// unless the caller allowed it.
	if !o.allowReal && isWatchdogName(path) {
		return nil, &os.PathError{Op: "open watchdog", Path: path, Err: ErrRealWatchdog}
	}
	pfd, err := unix.Open(path, unix.O_PATH|unix.O_CLOEXEC, 0)
	if err != nil {
		return nil, &os.PathError{Op: "open watchdog", Path: path, Err: err}
	}
	defer unix.Close(pfd)
	var st unix.Stat_t
	if err := unix.Fstat(pfd, &st); err != nil {
		return nil, &os.PathError{Op: "stat watchdog", Path: path, Err: err}
	}
	handle := "/proc/self/fd/" + strconv.Itoa(pfd)
	resolved, err := os.Readlink(handle)
	if err != nil {
		resolved = path
	}
	kind := st.Mode & unix.S_IFMT
	real := isWatchdogName(resolved) ||
		kind == unix.S_IFCHR && o.isWatchdogDev(unix.Major(st.Rdev), unix.Minor(st.Rdev))
	if real && !o.allowReal {
		return nil, &os.PathError{Op: "open watchdog", Path: path,
			Err: fmt.Errorf("%w (%s is device %d:%d)", ErrRealWatchdog, resolved, unix.Major(st.Rdev), unix.Minor(st.Rdev))}
	}
	switch kind {
	case unix.S_IFDIR:
		return nil, &os.PathError{Op: "open watchdog", Path: path, Err: unix.EISDIR}
	case unix.S_IFSOCK:
		return nil, &os.PathError{Op: "open watchdog", Path: path, Err: errors.New("is a socket")}
	}
	fd, err := unix.Open(handle, unix.O_WRONLY|unix.O_CLOEXEC|unix.O_NOCTTY|unix.O_NONBLOCK, 0)
	if err != nil {
		if kind == unix.S_IFIFO && errors.Is(err, unix.ENXIO) {
			err = fmt.Errorf("FIFO has no reader (is the watchdog emulator running?): %w", err)
		}
		return nil, &os.PathError{Op: "open watchdog", Path: path, Err: err}
	}
	d := &Device{path: path, real: real, fd: fd, open: true}
	switch {
	case timeout <= 0:
	case kind == unix.S_IFCHR:
		d.setTimeout(timeout)
	default:
		d.timeoutErr = fmt.Errorf("%w: %s is not a character device (FIFO or file), WDIOC_SETTIMEOUT skipped", ErrTimeoutNotSet, path)
	}
	return d, nil
}

// setTimeout runs WDIOC_SETTIMEOUT and reads back the timeout the driver
// chose (drivers may round it).
func (d *Device) setTimeout(timeout time.Duration) {
	secs := seconds(timeout)
	if err := unix.IoctlSetPointerInt(d.fd, unix.WDIOC_SETTIMEOUT, secs); err != nil {
		d.timeoutErr = fmt.Errorf("%w: WDIOC_SETTIMEOUT %d s on %s: %w", ErrTimeoutNotSet, secs, d.path, err)
		return
	}
	d.timeout = time.Duration(secs) * time.Second
	if got, err := unix.IoctlGetInt(d.fd, unix.WDIOC_GETTIMEOUT); err == nil && got > 0 {
		d.timeout = time.Duration(got) * time.Second
	}
}

// seconds is timeout rounded up to whole seconds, within the ioctl's int.
func seconds(timeout time.Duration) int {
	s := timeout / time.Second
	if timeout%time.Second != 0 {
		s++
	}
	return int(min(s, math.MaxInt32))
}

// Path is the path given to Open.
func (d *Device) Path() string { return d.path }

// Real reports whether the device was identified as a real watchdog (only
// possible with AllowReal(true)).
func (d *Device) Real() bool { return d.real }

// Timeout is the timeout the driver confirmed, 0 when it was not set.
func (d *Device) Timeout() time.Duration { return d.timeout }

// SetTimeoutErr is the warning from setting the timeout, wrapping
// ErrTimeoutNotSet, or nil when it was set or not asked for. The device is
// usable either way; the driver's own timeout (softdog: soft_margin, 60 s)
// applies.
func (d *Device) SetTimeoutErr() error { return d.timeoutErr }

// Kick writes one NUL byte, restarting the device's timer.
func (d *Device) Kick() error {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.write(kickByte)
}

// Close writes the magic 'V' and closes the device: the orderly stop that
// disarms a driver honouring magic close. The descriptor is closed even if
// the write fails.
func (d *Device) Close() error {
	d.mu.Lock()
	defer d.mu.Unlock()
	if !d.open {
		return ErrClosed
	}
	werr := d.write(magicByte)
	return errors.Join(werr, d.close())
}

// Abandon closes the device without the magic 'V': the timer keeps
// running and fires unless someone opens and kicks the device in time.
func (d *Device) Abandon() error {
	d.mu.Lock()
	defer d.mu.Unlock()
	if !d.open {
		return ErrClosed
	}
	return d.close()
}

func (d *Device) write(b byte) error {
	if !d.open {
		return ErrClosed
	}
	buf := []byte{b}
	for {
		n, err := unix.Write(d.fd, buf)
		switch {
		case errors.Is(err, unix.EINTR):
			continue
		case err != nil:
			return &os.PathError{Op: "write watchdog", Path: d.path, Err: err}
		case n != 1:
			return &os.PathError{Op: "write watchdog", Path: d.path, Err: errors.New("short write")}
		}
		return nil
	}
}

func (d *Device) close() error {
	err := unix.Close(d.fd)
	d.fd, d.open = -1, false
	if err != nil {
		return &os.PathError{Op: "close watchdog", Path: d.path, Err: err}
	}
	return nil
}
