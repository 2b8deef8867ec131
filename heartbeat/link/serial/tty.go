package serial

import (
	"errors"
	"fmt"
	"os"
	"time"

	"golang.org/x/sys/unix"
)

// openTTY opens path as a raw 8N1 line at the given speed. The descriptor
// stays non-blocking and is registered with Go's poller, so reads and
// writes wait in the poller, honour deadlines and end when the file is
// closed.
func openTTY(path string, baud int, flow bool) (*os.File, error) {
	// O_NONBLOCK: open must not wait for carrier (DCD) on a modem line.
	// O_NOCTTY: the tty must never become our controlling terminal (a
	// hangup would then signal the daemon).
	f, err := os.OpenFile(path, os.O_RDWR|unix.O_NOCTTY|unix.O_NONBLOCK, 0)
	if err != nil {
		return nil, err
	}
	if err := setupTTY(f, baud, flow); err != nil {
		f.Close()
		return nil, err
	}
	return f, nil
}

func setupTTY(f *os.File, baud int, flow bool) error {
	st, err := f.Stat()
	if err != nil {
		return err
	}
	if st.Mode()&os.ModeCharDevice == 0 {
		return errors.New("not a character device")
	}
	rc, err := f.SyscallConn()
	if err != nil {
		return err
	}
	var terr error
	if err := rc.Control(func(fd uintptr) { terr = setRaw(int(fd), baud, flow) }); err != nil {
		return err
	}
	if terr != nil {
		return terr
	}
	// Without the poller a write could block forever on a stopped line.
	if err := f.SetDeadline(time.Time{}); err != nil {
		return fmt.Errorf("cannot wait on the device with deadlines: %w", err)
	}
	return nil
}

// setRaw programs the line as Heartbeat does, with two deliberate
// differences on input (which only make us accept more, never less):
//
//   - Heartbeat sets ISTRIP and IGNCR (8th bit stripped, CR dropped). We
//     keep input 8-bit clean and CRs as they are: every byte a peer sends
//     reaches the authenticator unchanged, so a frame that a real Heartbeat
//     signed over 8-bit or CR bytes verifies here, while a corrupted one
//     still fails authentication instead of being "repaired".
//   - Heartbeat sets BRKINT, so the BREAK a peer sends when it opens its port
//     flushes our queues; we set IGNBRK and ignore it (the framer resyncs on
//     its own, and a flush could throw away a frame we are writing).
//
// Common: raw (no ICANON, ECHO, ISIG, IEXTEN, no OPOST, no input mapping or
// software flow control), CS8 without parity, one stop bit, CREAD|CLOCAL
// (no modem control), CRTSCTS when flow is set, VMIN=1 VTIME=0 (reads
// return what is there; the descriptor is non-blocking anyway).
func setRaw(fd, baud int, flow bool) error {
	speed, ok := speeds[baud]
	if !ok {
		return fmt.Errorf("unsupported baud rate %d", baud)
	}
	t, err := unix.IoctlGetTermios(fd, unix.TCGETS)
	if err != nil {
		if errors.Is(err, unix.ENOTTY) {
			return errors.New("not a terminal")
		}
		return fmt.Errorf("get termios: %w", err)
	}
	t.Iflag &^= unix.BRKINT | unix.ICRNL | unix.INLCR | unix.IGNCR | unix.ISTRIP |
		unix.IXON | unix.IXOFF | unix.IXANY | unix.INPCK | unix.PARMRK | unix.IGNPAR |
		unix.IUCLC | unix.IMAXBEL
	t.Iflag |= unix.IGNBRK
	t.Oflag &^= unix.OPOST
	t.Lflag &^= unix.ICANON | unix.ECHO | unix.ECHOE | unix.ECHOK | unix.ECHONL |
		unix.ECHOCTL | unix.ECHOKE | unix.ISIG | unix.IEXTEN | unix.TOSTOP
	t.Cflag &^= unix.CSIZE | unix.PARENB | unix.PARODD | unix.CSTOPB | unix.CRTSCTS | unix.CBAUD
	t.Cflag |= unix.CS8 | unix.CREAD | unix.CLOCAL | speed
	if flow {
		t.Cflag |= unix.CRTSCTS
	}
	t.Ispeed, t.Ospeed = speed, speed
	t.Cc[unix.VMIN] = 1
	t.Cc[unix.VTIME] = 0
	if err := unix.IoctlSetTermios(fd, unix.TCSETS, t); err != nil {
		return fmt.Errorf("set termios: %w", err)
	}
	// tcsetattr succeeds if any of the changes took: check the ones that
	// matter (a driver may refuse a speed or hardware flow control).
	got, err := unix.IoctlGetTermios(fd, unix.TCGETS)
	if err != nil {
		return fmt.Errorf("get termios: %w", err)
	}
	const checked = unix.CBAUD | unix.CSIZE | unix.PARENB | unix.CRTSCTS
	if got.Cflag&checked != t.Cflag&checked {
		if got.Cflag&unix.CBAUD != speed {
			return fmt.Errorf("the device refused %d baud", baud)
		}
		if flow && got.Cflag&unix.CRTSCTS == 0 {
			return errors.New("the device does not support RTS/CTS flow control (turn it off for 3-wire cables)")
		}
		return fmt.Errorf("the device refused raw 8N1 (cflag %#x, want %#x)", got.Cflag&checked, t.Cflag&checked)
	}
	return nil
}

// flushOutput discards what the kernel still holds for output: after a
// write timed out on a stopped line, stale frames must not go out when the
// line comes back. Best effort.
func flushOutput(f *os.File) {
	rc, err := f.SyscallConn()
	if err != nil {
		return
	}
	_ = rc.Control(func(fd uintptr) { _ = unix.IoctlSetInt(int(fd), unix.TCFLSH, unix.TCOFLUSH) })
}
