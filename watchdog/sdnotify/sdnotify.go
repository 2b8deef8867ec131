// Package sdnotify tells systemd about the daemon's life cycle (sd_notify)
// and feeds systemd's service watchdog. go-systemd's daemon package gives
// the message words and the watchdog settings; the datagrams are sent here,
// never waiting for systemd (see notify).
//
// Every function is a no-op returning nil (or 0) when NOTIFY_SOCKET is not
// set, i.e. when the daemon does not run under a Type=notify unit, so the
// daemon calls them unconditionally:
//
//	Ready("running")           after configuration, links and control socket are up
//	Status("node2 dead, ...")  on state changes (shown by systemctl status)
//	Reloading() ... Ready("")  around a SIGHUP reload
//	Stopping()                 when a graceful stop begins
//	Kick()                     from the main loop, at least every WatchdogInterval()
//
// With WatchdogSec= in the unit, systemd kills (SIGABRT) and, with
// Restart=on-failure, restarts a daemon that stops sending WATCHDOG=1.
// WatchdogInterval is half the configured WatchdogSec, as sd_watchdog_enabled(3)
// advises; kicking once per keepalive from the main loop is enough while
// keepalive is below it.
package sdnotify

import (
	"errors"
	"fmt"
	"os"
	"strings"
	"time"

	"golang.org/x/sys/unix"

	"github.com/coreos/go-systemd/v22/daemon"
)

// Environment variables systemd sets for the notification protocol.
const (
	envSocket      = "NOTIFY_SOCKET"
	envWatchdogUS  = "WATCHDOG_USEC"
	envWatchdogPID = "WATCHDOG_PID"
)

// Enabled reports whether notifications go anywhere (NOTIFY_SOCKET is set).
func Enabled() bool { return os.Getenv(envSocket) != "" }

// Ready sends READY=1, and STATUS=status when status is not empty. After
// Reloading it ends the reload.
func Ready(status string) error {
	msg := daemon.SdNotifyReady
	if status != "" {
		msg += "\nSTATUS=" + oneLine(status)
	}
	return notify(msg)
}

// Status sends STATUS=line (newlines are replaced by spaces, so a status
// cannot smuggle other assignments in).
func Status(line string) error { return notify("STATUS=" + oneLine(line)) }

// Stopping sends STOPPING=1: a graceful stop has begun.
func Stopping() error { return notify(daemon.SdNotifyStopping) }

// Reloading sends RELOADING=1 with MONOTONIC_USEC (required by
// Type=notify-reload, harmless otherwise). Send Ready when the reload is
// done.
func Reloading() error {
	return notify(daemon.SdNotifyReloading + "\n" + strings.TrimSuffix(daemon.SdNotifyMonotonicUsec(), "\n"))
}

// Kick sends WATCHDOG=1, restarting systemd's watchdog timer for the unit.
func Kick() error { return notify(daemon.SdNotifyWatchdog) }

// WatchdogInterval is how often Kick must be called: half of the unit's
// WatchdogSec (WATCHDOG_USEC), or 0 when systemd expects no kicks
// (NOTIFY_SOCKET or WATCHDOG_USEC unset, or WATCHDOG_PID names another
// process). A malformed WATCHDOG_USEC or WATCHDOG_PID is an error.
func WatchdogInterval() (time.Duration, error) {
	if !Enabled() {
		return 0, nil
	}
	d, err := daemon.SdWatchdogEnabled(false)
	if err != nil {
		return 0, err
	}
	return d / 2, nil
}

// ChildEnv returns env without the notification variables, for processes
// the daemon starts (resource scripts): they must not notify or feed the
// watchdog on the daemon's behalf.
func ChildEnv(env []string) []string {
	out := make([]string, 0, len(env))
	for _, kv := range env {
		name, _, _ := strings.Cut(kv, "=")
		switch name {
		case envSocket, envWatchdogUS, envWatchdogPID:
			continue
		}
		out = append(out, kv)
	}
	return out
}

// ErrBusy is returned when systemd's notification socket has no room: the
// message is dropped, since the caller (the event loop) must not wait.
var ErrBusy = errors.New("sdnotify: systemd's notification socket is full; message dropped")

// notify sends one datagram without ever waiting. go-systemd's SdNotify
// writes through a blocking net.Conn: with PID 1 busy (a long daemon-reload)
// and its queue full, the write, and the loop that kicks the watchdog and
// sends the heartbeats with it, would wait for systemd.
func notify(state string) error {
	path := os.Getenv(envSocket)
	if path == "" {
		return nil
	}
	fd, err := unix.Socket(unix.AF_UNIX, unix.SOCK_DGRAM|unix.SOCK_NONBLOCK|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		return fmt.Errorf("sdnotify: %w", err)
	}
	defer unix.Close(fd)
	// A leading @ names an abstract socket; unix.SockaddrUnix maps it.
	err = unix.Sendto(fd, []byte(state), unix.MSG_DONTWAIT|unix.MSG_NOSIGNAL, &unix.SockaddrUnix{Name: path})
	switch {
	case errors.Is(err, unix.EAGAIN):
		return ErrBusy
	case err != nil:
		return fmt.Errorf("sdnotify: %s: %w", path, err)
	}
	return nil
}

func oneLine(s string) string {
	return strings.NewReplacer("\r\n", " ", "\n", " ", "\r", " ").Replace(s)
}
