package watchdog

import (
	"bufio"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"
)

// The legacy watchdog device: misc major 10, WATCHDOG_MINOR 130.
const (
	miscMajor     = 10
	watchdogMinor = 130
)

// isWatchdogName reports whether path names /dev/watchdog or a
// /dev/watchdogN (anything starting with /dev/watchdog, once cleaned).
func isWatchdogName(path string) bool {
	return strings.HasPrefix(filepath.Clean(path), "/dev/watchdog")
}

// isWatchdogDev reports whether the character device major:minor is a
// watchdog: misc 10:130, the "watchdog" character major of /proc/devices
// (the /dev/watchdogN class devices), or a /sys/dev/char entry whose
// subsystem is the watchdog class.
func isWatchdogDev(major, minor uint32) bool {
	if major == miscMajor && minor == watchdogMinor {
		return true
	}
	if f, err := os.Open("/proc/devices"); err == nil {
		m, ok := charMajor(f, "watchdog")
		f.Close()
		if ok && m == major {
			return true
		}
	}
	link, err := os.Readlink(fmt.Sprintf("/sys/dev/char/%d:%d/subsystem", major, minor))
	return err == nil && filepath.Base(link) == "watchdog"
}

// charMajor finds name in the "Character devices:" section of a
// /proc/devices listing.
func charMajor(r io.Reader, name string) (uint32, bool) {
	sc := bufio.NewScanner(r)
	inChar := false
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		switch {
		case line == "Character devices:":
			inChar = true
		case strings.HasSuffix(line, "devices:"):
			inChar = false
		case inChar:
			f := strings.Fields(line)
			if len(f) != 2 || f[1] != name {
				continue
			}
			if m, err := strconv.ParseUint(f[0], 10, 32); err == nil {
				return uint32(m), true
			}
		}
	}
	return 0, false
}

// maxTimeout is the largest timeout WDIOC_SETTIMEOUT can carry.
const maxTimeout = time.Duration(1<<31-1) * time.Second

// DefaultTimeout is the device timeout the daemon asks for: deadtime plus
// one second, rounded up to whole seconds. For whole-second deadtimes it
// equals Heartbeat's ceil((deadtime_ms+10)/1000) s (11 s for deadtime
// 10 s); for fractional ones it is up to a second longer, never shorter. A
// node whose loop hangs is thus rebooted just after its peer declared it
// dead; a shorter timeout would reboot a node for a stall that its peer
// tolerates.
func DefaultTimeout(deadtime time.Duration) time.Duration {
	if deadtime < 0 {
		deadtime = 0
	}
	if deadtime >= maxTimeout-time.Second {
		return maxTimeout
	}
	return time.Duration(seconds(deadtime+time.Second)) * time.Second
}
