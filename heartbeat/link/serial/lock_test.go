package serial

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// deadPID is a pid no process can have (pids are below pid_max).
func deadPID(t *testing.T) int {
	t.Helper()
	b, err := os.ReadFile("/proc/sys/kernel/pid_max")
	if err != nil {
		t.Skipf("no pid_max: %v", err)
	}
	n, err := strconv.Atoi(strings.TrimSpace(string(b)))
	if err != nil {
		t.Fatal(err)
	}
	return n
}

func TestLockFormat(t *testing.T) {
	c := newCable(t)
	locks := t.TempDir()
	l, err := Open(Config{Path: c.Path(0), LockDir: locks}, newSink().deliver)
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(locks, "LCK.."+filepath.Base(c.Path(0)))
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if want := fmt.Sprintf("%10d\n", os.Getpid()); string(b) != want || len(b) != 11 {
		t.Errorf("lock content %q, want %q (HDB: 10 right-aligned digits and a newline)", b, want)
	}
	if st, err := os.Stat(path); err != nil || st.Mode().Perm() != 0o644 {
		t.Errorf("lock mode %v, %v", st.Mode(), err)
	}
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(path); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("lock not removed by Close: %v", err)
	}
	if ents, _ := os.ReadDir(locks); len(ents) != 0 {
		t.Errorf("left in lock dir: %v", ents)
	}
}

// TestSecondOpenLocked: a second Open of the same tty fails while the first
// holds the lock (both in this process, so the in-process registry decides,
// the pid in the file being ours), and works after the first closed.
func TestSecondOpenLocked(t *testing.T) {
	c := newCable(t)
	locks := t.TempDir()
	cfg := Config{Path: c.Path(0), LockDir: locks}
	l1, err := Open(cfg, newSink().deliver)
	if err != nil {
		t.Fatal(err)
	}
	if l2, err := Open(cfg, newSink().deliver); !errors.Is(err, ErrLocked) {
		if l2 != nil {
			l2.Close()
		}
		t.Fatalf("second Open = %v, want ErrLocked", err)
	}
	// The failed Open must not have removed the first one's lock.
	if _, err := os.Stat(filepath.Join(locks, "LCK.."+filepath.Base(c.Path(0)))); err != nil {
		t.Fatalf("first lock gone: %v", err)
	}
	if err := l1.Close(); err != nil {
		t.Fatal(err)
	}
	l3, err := Open(cfg, newSink().deliver)
	if err != nil {
		t.Fatalf("Open after Close: %v", err)
	}
	l3.Close()
}

func TestExistingLocks(t *testing.T) {
	tests := []struct {
		name    string
		content func(t *testing.T) string
		locked  bool // Open must fail with ErrLocked
	}{
		{"dead pid", func(t *testing.T) string { return fmt.Sprintf("%10d\n", deadPID(t)) }, false},
		{"dead pid, no padding", func(t *testing.T) string { return fmt.Sprintf("%d\n", deadPID(t)) }, false},
		{"garbage", func(*testing.T) string { return "not a pid\n" }, false},
		{"empty", func(*testing.T) string { return "" }, false},
		{"binary", func(*testing.T) string { return "\x01\x00\x00\x00" }, false},
		{"our pid from an earlier life", func(*testing.T) string { return fmt.Sprintf("%10d\n", os.Getpid()) }, false},
		{"live process (init)", func(*testing.T) string { return fmt.Sprintf("%10d\n", 1) }, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := newCable(t)
			locks := t.TempDir()
			path := filepath.Join(locks, "LCK.."+filepath.Base(c.Path(0)))
			content := tt.content(t)
			if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
				t.Fatal(err)
			}
			l, err := Open(Config{Path: c.Path(0), LockDir: locks}, newSink().deliver)
			if tt.locked {
				if !errors.Is(err, ErrLocked) || !strings.Contains(err.Error(), "pid 1") {
					t.Fatalf("Open = %v, want ErrLocked by pid 1", err)
				}
				if b, _ := os.ReadFile(path); string(b) != content {
					t.Errorf("live lock changed to %q", b)
				}
				return
			}
			if err != nil {
				t.Fatalf("Open with a stale lock: %v", err)
			}
			if b, _ := os.ReadFile(path); string(b) != fmt.Sprintf("%10d\n", os.Getpid()) {
				t.Errorf("lock not taken over: %q", b)
			}
			l.Close()
		})
	}
}

// TestLockReacquire: the lock is confirmed at every reopen, re-created if
// someone removed it, and refused if another process took it meanwhile.
func TestLockReacquire(t *testing.T) {
	dir := t.TempDir()
	l := newLock(dir, "/dev/ttyS7")
	if err := l.acquire(); err != nil {
		t.Fatal(err)
	}
	if err := l.acquire(); err != nil {
		t.Fatalf("re-acquire of our own lock: %v", err)
	}
	os.Remove(l.path)
	if err := l.acquire(); err != nil {
		t.Fatalf("re-create: %v", err)
	}
	if _, err := os.Stat(l.path); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(l.path, []byte(fmt.Sprintf("%10d\n", 1)), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := l.acquire(); !errors.Is(err, ErrLocked) {
		t.Fatalf("acquire of a lock taken by pid 1 = %v", err)
	}
	// Release does not remove someone else's lock.
	if err := l.release(); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(l.path); err != nil {
		t.Errorf("release removed pid 1's lock: %v", err)
	}
	// Another link of this process on the same tty is refused.
	os.Remove(l.path)
	a, b := newLock(dir, "/dev/ttyS7"), newLock(dir, "/dev/ttyS7")
	if err := a.acquire(); err != nil {
		t.Fatal(err)
	}
	if err := b.acquire(); !errors.Is(err, ErrLocked) {
		t.Errorf("second lock in process = %v", err)
	}
	if err := b.release(); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(a.path); err != nil {
		t.Errorf("release by the refused lock removed the file: %v", err)
	}
	a.release()
}

func TestParseLockPID(t *testing.T) {
	for _, tt := range []struct {
		in  string
		pid int
		ok  bool
	}{
		{"      1234\n", 1234, true},
		{"1234", 1234, true},
		{" 42 \n", 42, true},
		{"", 0, false},
		{"0\n", 0, false},
		{"-5\n", 0, false},
		{"12a\n", 0, false},
		{"12345678901\n", 0, false},
	} {
		if pid, ok := parseLockPID([]byte(tt.in)); pid != tt.pid || ok != tt.ok {
			t.Errorf("parseLockPID(%q) = %d, %v; want %d, %v", tt.in, pid, ok, tt.pid, tt.ok)
		}
	}
}
