package watchdog

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/hasuite/hasuite/internal/ptycable"
)

// Tests never open a real watchdog: names under /dev/watchdog are refused
// before any system call, and the device-number check is exercised with
// /dev/null standing in for a watchdog.

func TestOpenRefusesWatchdogNames(t *testing.T) {
	for _, path := range []string{
		"/dev/watchdog",
		"/dev/watchdog0",
		"/dev/watchdog1",
		"/dev//watchdog",
		"/dev/./watchdog0",
		"/dev/../dev/watchdog",
		"/dev/watchdog-anything",
	} {
		t.Run(path, func(t *testing.T) {
			d, err := Open(path, 10*time.Second)
			if !errors.Is(err, ErrRealWatchdog) {
				if d != nil {
					d.Close()
				}
				t.Fatalf("Open(%q) = %v, want ErrRealWatchdog", path, err)
			}
			d, err = Open(path, 10*time.Second, AllowReal(false))
			if !errors.Is(err, ErrRealWatchdog) {
				if d != nil {
					d.Close()
				}
				t.Fatalf("Open(%q, AllowReal(false)) = %v, want ErrRealWatchdog", path, err)
			}
		})
	}
}

// nullIsWatchdog makes /dev/null (1:3) look like a watchdog device.
func nullIsWatchdog(o *options) {
	o.isWatchdogDev = func(major, minor uint32) bool { return major == 1 && minor == 3 }
}

func TestOpenRefusesWatchdogDevice(t *testing.T) {
	link := filepath.Join(t.TempDir(), "wd")
	if err := os.Symlink("/dev/null", link); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name  string
		path  string
		opts  []Option
		ok    bool
		real  bool
		ioctl bool // WDIOC_SETTIMEOUT attempted (fails with ENOTTY on /dev/null)
	}{
		{name: "char device refused", path: "/dev/null", opts: []Option{nullIsWatchdog}},
		{name: "through symlink refused", path: link, opts: []Option{nullIsWatchdog}},
		{name: "AllowReal false refused", path: "/dev/null", opts: []Option{nullIsWatchdog, AllowReal(false)}},
		{name: "AllowReal true opens", path: "/dev/null", opts: []Option{nullIsWatchdog, AllowReal(true)}, ok: true, real: true, ioctl: true},
		{name: "plain char device opens", path: "/dev/null", ok: true, ioctl: true},
		{name: "plain symlink opens", path: link, ok: true, ioctl: true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			d, err := Open(tc.path, 10*time.Second, tc.opts...)
			if !tc.ok {
				if !errors.Is(err, ErrRealWatchdog) {
					t.Fatalf("Open = %v, want ErrRealWatchdog", err)
				}
				return
			}
			if err != nil {
				t.Fatalf("Open: %v", err)
			}
			if d.Real() != tc.real {
				t.Errorf("Real() = %v, want %v", d.Real(), tc.real)
			}
			werr := d.SetTimeoutErr()
			if !errors.Is(werr, ErrTimeoutNotSet) || tc.ioctl != errors.Is(werr, unix.ENOTTY) {
				t.Errorf("SetTimeoutErr() = %v, want ErrTimeoutNotSet (ENOTTY: %v)", werr, tc.ioctl)
			}
			if d.Timeout() != 0 {
				t.Errorf("Timeout() = %v, want 0", d.Timeout())
			}
			if err := d.Kick(); err != nil {
				t.Errorf("Kick: %v", err)
			}
			if err := d.Close(); err != nil {
				t.Errorf("Close: %v", err)
			}
		})
	}
}

func TestOpenErrors(t *testing.T) {
	dir := t.TempDir()
	fifo := filepath.Join(dir, "fifo")
	if err := unix.Mkfifo(fifo, 0o600); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name, path string
		want       error
	}{
		{"empty path", "", nil},
		{"missing", filepath.Join(dir, "missing"), unix.ENOENT},
		{"directory", dir, unix.EISDIR},
		{"FIFO without reader", fifo, unix.ENXIO},
	} {
		t.Run(tc.name, func(t *testing.T) {
			d, err := Open(tc.path, time.Second)
			if err == nil {
				d.Close()
				t.Fatalf("Open(%q) succeeded", tc.path)
			}
			if tc.want != nil && !errors.Is(err, tc.want) {
				t.Errorf("Open(%q) = %v, want %v", tc.path, err, tc.want)
			}
		})
	}
}

// TestWrites checks the exact bytes written, on a regular file.
func TestWrites(t *testing.T) {
	for _, tc := range []struct {
		name    string
		ops     string // k: Kick, c: Close, a: Abandon
		want    string
		lastErr error // error of the last op
	}{
		{name: "close only", ops: "c", want: "V"},
		{name: "kicks then close", ops: "kkkc", want: "\x00\x00\x00V"},
		{name: "abandon", ops: "kka", want: "\x00\x00"},
		{name: "kick after close", ops: "ck", want: "V", lastErr: ErrClosed},
		{name: "close twice", ops: "cc", want: "V", lastErr: ErrClosed},
		{name: "close after abandon", ops: "ac", want: "", lastErr: ErrClosed},
		{name: "abandon after close", ops: "ca", want: "V", lastErr: ErrClosed},
	} {
		t.Run(tc.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "wd")
			if err := os.WriteFile(path, nil, 0o600); err != nil {
				t.Fatal(err)
			}
			d, err := Open(path, 5*time.Second)
			if err != nil {
				t.Fatal(err)
			}
			if !errors.Is(d.SetTimeoutErr(), ErrTimeoutNotSet) {
				t.Errorf("SetTimeoutErr() = %v, want ErrTimeoutNotSet", d.SetTimeoutErr())
			}
			var err2 error
			for i, op := range tc.ops {
				switch op {
				case 'k':
					err2 = d.Kick()
				case 'c':
					err2 = d.Close()
				case 'a':
					err2 = d.Abandon()
				}
				if i < len(tc.ops)-1 && err2 != nil {
					t.Fatalf("op %d %c: %v", i, op, err2)
				}
			}
			if !errors.Is(err2, tc.lastErr) || (tc.lastErr == nil) != (err2 == nil) {
				t.Errorf("last op error = %v, want %v", err2, tc.lastErr)
			}
			d.Abandon() // release the fd if the ops left it open
			got, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			if string(got) != tc.want {
				t.Errorf("written %q, want %q", got, tc.want)
			}
		})
	}
}

func TestNoTimeoutNoWarning(t *testing.T) {
	d, err := Open("/dev/null", 0)
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	if d.SetTimeoutErr() != nil {
		t.Errorf("SetTimeoutErr() = %v, want nil for timeout 0", d.SetTimeoutErr())
	}
}

// TestPty drives the device through a pty, as an emulator might: the
// ioctl fails with ENOTTY (a warning), kicks and the magic close arrive.
func TestPty(t *testing.T) {
	// Raw: bytes pass unchanged.
	master, slave, err := ptycable.Open(true)
	if err != nil {
		t.Skipf("no pty: %v", err)
	}
	defer master.Close()
	name := slave.Name()
	d, err := Open(name, 11*time.Second)
	slave.Close()
	if err != nil {
		t.Fatal(err)
	}
	if werr := d.SetTimeoutErr(); !errors.Is(werr, ErrTimeoutNotSet) || !errors.Is(werr, unix.ENOTTY) {
		t.Errorf("SetTimeoutErr() = %v, want ErrTimeoutNotSet wrapping ENOTTY", werr)
	}
	for range 3 {
		if err := d.Kick(); err != nil {
			t.Fatal(err)
		}
	}
	if err := d.Close(); err != nil {
		t.Fatal(err)
	}
	if err := master.SetReadDeadline(time.Now().Add(10 * time.Second)); err != nil {
		t.Fatal(err)
	}
	var got []byte
	buf := make([]byte, 16)
	for len(got) < 4 {
		n, err := master.Read(buf)
		got = append(got, buf[:n]...)
		if err != nil {
			break
		}
	}
	if string(got) != "\x00\x00\x00V" {
		t.Errorf("pty read %q, want %q", got, "\x00\x00\x00V")
	}
}

func TestDefaultTimeout(t *testing.T) {
	for _, tc := range []struct {
		deadtime, want time.Duration
	}{
		{0, time.Second},
		{-time.Second, time.Second},
		{250 * time.Millisecond, 2 * time.Second},
		{time.Second, 2 * time.Second},
		{10 * time.Second, 11 * time.Second},
		{10*time.Second + time.Millisecond, 12 * time.Second},
		{30 * time.Second, 31 * time.Second},
		{maxTimeout, maxTimeout},
		{1<<63 - 1, maxTimeout},
	} {
		if got := DefaultTimeout(tc.deadtime); got != tc.want {
			t.Errorf("DefaultTimeout(%v) = %v, want %v", tc.deadtime, got, tc.want)
		}
	}
}

func TestSeconds(t *testing.T) {
	for _, tc := range []struct {
		in   time.Duration
		want int
	}{
		{time.Nanosecond, 1},
		{time.Second, 1},
		{time.Second + 1, 2},
		{10500 * time.Millisecond, 11},
		{1<<63 - 1, 1<<31 - 1},
	} {
		if got := seconds(tc.in); got != tc.want {
			t.Errorf("seconds(%v) = %d, want %d", tc.in, got, tc.want)
		}
	}
}

func TestIsWatchdogName(t *testing.T) {
	for _, tc := range []struct {
		path string
		want bool
	}{
		{"/dev/watchdog", true},
		{"/dev/watchdog0", true},
		{"/dev/../dev/watchdog", true},
		{"/dev/null", false},
		{"/tmp/watchdog", false},
		{"/run/dev/watchdog", false},
		{"dev/watchdog", false},
	} {
		if got := isWatchdogName(tc.path); got != tc.want {
			t.Errorf("isWatchdogName(%q) = %v, want %v", tc.path, got, tc.want)
		}
	}
}

func TestCharMajor(t *testing.T) {
	const devices = `Character devices:
  1 mem
 10 misc
249 watchdog
250 ptp

Block devices:
  8 sd
251 watchdog
`
	for _, tc := range []struct {
		name  string
		major uint32
		ok    bool
	}{
		{"watchdog", 249, true},
		{"misc", 10, true},
		{"sd", 0, false}, // block only
		{"absent", 0, false},
	} {
		m, ok := charMajor(strings.NewReader(devices), tc.name)
		if m != tc.major || ok != tc.ok {
			t.Errorf("charMajor(%q) = %d, %v, want %d, %v", tc.name, m, ok, tc.major, tc.ok)
		}
	}
}

func TestIsWatchdogDev(t *testing.T) {
	for _, tc := range []struct {
		major, minor uint32
		want         bool
	}{
		{10, 130, true}, // misc watchdog
		{1, 3, false},   // /dev/null
		{5, 2, false},   // /dev/ptmx
		{10, 200, false},
	} {
		if got := isWatchdogDev(tc.major, tc.minor); got != tc.want {
			t.Errorf("isWatchdogDev(%d, %d) = %v, want %v", tc.major, tc.minor, got, tc.want)
		}
	}
	// The watchdog class major of this kernel, if it has one.
	if f, err := os.Open("/proc/devices"); err == nil {
		m, ok := charMajor(f, "watchdog")
		f.Close()
		if ok && !isWatchdogDev(m, 0) {
			t.Errorf("isWatchdogDev(%d, 0) = false for the watchdog major of /proc/devices", m)
		}
	}
}

func TestZeroDevice(t *testing.T) {
	var d Device
	for name, op := range map[string]func() error{"Kick": d.Kick, "Close": d.Close, "Abandon": d.Abandon} {
		if err := op(); !errors.Is(err, ErrClosed) {
			t.Errorf("%s on a zero Device = %v, want ErrClosed", name, err)
		}
	}
}
