package serial

import (
	"errors"
	"fmt"
	"path/filepath"
	"slices"
	"time"

	"golang.org/x/sys/unix"
)

// Defaults, as Heartbeat 3.0.6.
const (
	DefaultBaud    = 19200
	DefaultLockDir = "/var/lock"
)

// Config describes one serial medium.
type Config struct {
	// Path is the absolute path of the tty, e.g. /dev/ttyS0, a
	// /dev/serial/by-id symlink or a pty slave. It is also the link's name.
	// It is opened again by this path after the device disappeared, so a
	// stable symlink follows a USB adapter that comes back under a new name.
	Path string
	// Baud is the line speed: 9600, 19200 (default), 38400, 57600, 115200,
	// 230400 or 460800, as Heartbeat's "baud" directive.
	Baud int
	// FlowControl turns on RTS/CTS hardware flow control, which Heartbeat
	// always uses. Leave it off for 3-wire null-modem cables and ptys.
	FlowControl bool
	// LockDir is where the UUCP lock file LCK..<basename of Path> is made
	// (default /var/lock, as Heartbeat).
	LockDir string
	// MaxDelay drops a frame that waited longer than this in the send
	// queue: on a line slower than the traffic, old heartbeats only arrive
	// as duplicates of what the other links carried, and keep the fresh
	// ones back. 0 keeps every frame (up to the queue's bounds).
	MaxDelay time.Duration
}

// speeds maps the supported line speeds to their termios codes.
var speeds = map[int]uint32{
	9600:   unix.B9600,
	19200:  unix.B19200,
	38400:  unix.B38400,
	57600:  unix.B57600,
	115200: unix.B115200,
	230400: unix.B230400,
	460800: unix.B460800,
}

// withDefaults validates c and fills in the defaults.
func (c Config) withDefaults() (Config, error) {
	if c.Path == "" {
		return c, errors.New("serial: missing tty path")
	}
	if !filepath.IsAbs(c.Path) {
		return c, fmt.Errorf("serial %s: tty path must be absolute", c.Path)
	}
	if base := filepath.Base(c.Path); base == "/" || base == "." {
		return c, fmt.Errorf("serial %s: tty path names no device", c.Path)
	}
	if c.Baud == 0 {
		c.Baud = DefaultBaud
	}
	if _, ok := speeds[c.Baud]; !ok {
		valid := make([]int, 0, len(speeds))
		for s := range speeds {
			valid = append(valid, s)
		}
		slices.Sort(valid)
		return c, fmt.Errorf("serial %s: unsupported baud rate %d (want one of %v)", c.Path, c.Baud, valid)
	}
	if c.LockDir == "" {
		c.LockDir = DefaultLockDir
	}
	if !filepath.IsAbs(c.LockDir) {
		return c, fmt.Errorf("serial %s: lock directory %q must be absolute", c.Path, c.LockDir)
	}
	return c, nil
}
