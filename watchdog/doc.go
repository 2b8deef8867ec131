// Package watchdog drives a kernel watchdog device (/dev/watchdog) the way
// Linux-HA Heartbeat 3.0.6 does (hb_init_watchdog, hb_tickle_watchdog,
// hb_close_watchdog):
//
//   - [Open] opens the device O_WRONLY and, when it is a character device,
//     sets its timeout with WDIOC_SETTIMEOUT (whole seconds, rounded up).
//     A failing ioctl is not fatal: Heartbeat only logs it, so Open returns
//     the device and keeps the failure for [Device.SetTimeoutErr].
//   - [Device.Kick] writes one NUL byte. The daemon kicks once per
//     keepalive from its main loop, so a hung loop stops kicking and the
//     kernel reboots the node once the timeout runs out: a hung node cannot
//     keep resources its peer has taken over.
//   - [Device.Close] is the orderly stop: it writes the magic character 'V'
//     and closes, which disarms a driver that honours magic close (softdog
//     loaded with nowayout=0, as Heartbeat's init script does).
//   - [Device.Abandon] closes without 'V', leaving the timer running; the
//     daemon uses it only when it wants the watchdog to fire (for example a
//     resource that failed to stop, self-fenced through the watchdog).
//
// The timeout the daemon asks for is [DefaultTimeout] of its deadtime.
//
// # Safety: real devices need AllowReal
//
// Opening a real watchdog arms it; a process that then stops kicking
// reboots the machine. Open therefore refuses, with [ErrRealWatchdog], any
// path that names or resolves to /dev/watchdog* and any character device
// that is a watchdog (misc 10:130, the "watchdog" major of /proc/devices,
// or a /sys/dev/char entry of the watchdog class), unless it is given
// AllowReal(true). The daemon passes AllowReal(true) only for a watchdog
// configured explicitly in ha.cf; tests never do. The checks run on an
// O_PATH handle, which does not call the driver's open, and the device is
// then opened through that same handle (/proc/self/fd), so a path swapped
// between check and open cannot slip through.
//
// # Tests and emulators
//
// Tests hand Open a FIFO (see package watchdogtest, a softdog emulator) or
// a pty. The device is opened O_NONBLOCK, so a kick never blocks the daemon
// on a full pipe, and O_NOCTTY, so a pty never becomes the daemon's
// controlling terminal. WDIOC_SETTIMEOUT is skipped on anything that is not
// a character device and fails with ENOTTY on a pty; both are reported
// through SetTimeoutErr, wrapping [ErrTimeoutNotSet]. A FIFO without a
// reader fails Open with ENXIO instead of blocking, as Heartbeat would.
package watchdog
