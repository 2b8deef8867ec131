package ipaddr

import (
	"context"
	"errors"
	"net/netip"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/hasuite/hasuite/resources/haresources"
)

func TestNewValidates(t *testing.T) {
	tests := []struct {
		name    string
		spec    haresources.IPSpec
		opts    Options
		wantErr string // "" = valid
	}{
		{"plain v4", haresources.IPSpec{Addr: "198.18.0.100"}, Options{}, ""},
		{"full v4", haresources.IPSpec{Addr: "198.18.0.100", Bits: 24, Iface: "eth0", Label: "0", Broadcast: "198.18.0.255"}, Options{}, ""},
		{"full label", haresources.IPSpec{Addr: "198.18.0.100", Iface: "eth0", Label: "eth0:vip"}, Options{}, ""},
		{"label without iface", haresources.IPSpec{Addr: "198.18.0.100", Label: "1"}, Options{}, ""},
		{"v6", haresources.IPSpec{Addr: "2001:2::100", Bits: 64, Iface: "eth0"}, Options{}, ""},
		{"v4-mapped", haresources.IPSpec{Addr: "::ffff:198.18.0.100", Bits: 24}, Options{}, ""},
		{"broadcast none", haresources.IPSpec{Addr: "198.18.0.100", Broadcast: "-"}, Options{}, ""},
		{"bad addr", haresources.IPSpec{Addr: "198.18.0.300"}, Options{}, "invalid address"},
		{"empty addr", haresources.IPSpec{}, Options{}, "invalid address"},
		{"zone", haresources.IPSpec{Addr: "fe80::1%eth0"}, Options{}, "zone"},
		{"multicast", haresources.IPSpec{Addr: "224.0.0.1"}, Options{}, "not a unicast"},
		{"unspecified", haresources.IPSpec{Addr: "::"}, Options{}, "not a unicast"},
		{"limited broadcast", haresources.IPSpec{Addr: "255.255.255.255"}, Options{}, "not a unicast"},
		{"bits v4", haresources.IPSpec{Addr: "198.18.0.100", Bits: 33}, Options{}, "out of range"},
		{"bits v6", haresources.IPSpec{Addr: "2001:2::1", Bits: 129}, Options{}, "out of range"},
		{"bits negative", haresources.IPSpec{Addr: "198.18.0.100", Bits: -1}, Options{}, "out of range"},
		{"iface too long", haresources.IPSpec{Addr: "198.18.0.100", Iface: "abcdefghijklmnop"}, Options{}, "invalid interface"},
		{"iface slash", haresources.IPSpec{Addr: "198.18.0.100", Iface: "a/b"}, Options{}, "invalid interface"},
		{"label v6", haresources.IPSpec{Addr: "2001:2::100", Iface: "eth0", Label: "0"}, Options{}, "no labels"},
		{"label other iface", haresources.IPSpec{Addr: "198.18.0.100", Iface: "eth0", Label: "eth1:0"}, Options{}, "must start with"},
		{"label too long", haresources.IPSpec{Addr: "198.18.0.100", Iface: "eth0", Label: "0123456789ab"}, Options{}, "longer than"},
		{"broadcast v6", haresources.IPSpec{Addr: "2001:2::100", Broadcast: "2001:2::ffff"}, Options{}, "no broadcast"},
		{"broadcast bad", haresources.IPSpec{Addr: "198.18.0.100", Broadcast: "x"}, Options{}, "invalid broadcast"},
		{"count negative", haresources.IPSpec{Addr: "198.18.0.100"}, Options{GARPCount: -1}, "GARPCount"},
		{"interval negative", haresources.IPSpec{Addr: "198.18.0.100"}, Options{GARPInterval: -1}, "GARPInterval"},
		{"refresh negative", haresources.IPSpec{Addr: "198.18.0.100"}, Options{Refresh: -time.Second}, "Refresh"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			v, err := New(tt.spec, tt.opts)
			if tt.wantErr == "" {
				if err != nil {
					t.Fatalf("New: %v", err)
				}
				if v.opts.GARPCount <= 0 || v.opts.GARPInterval <= 0 || v.opts.Context == nil {
					t.Errorf("defaults not applied: %+v", v.opts)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Fatalf("New error = %v, want one containing %q", err, tt.wantErr)
			}
		})
	}
}

func TestDefaults(t *testing.T) {
	v, err := New(haresources.IPSpec{Addr: "198.18.0.100"}, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if v.opts.GARPCount != 5 || v.opts.GARPInterval != 200*time.Millisecond || v.opts.Refresh != 0 {
		t.Errorf("defaults = %d, %v, %v", v.opts.GARPCount, v.opts.GARPInterval, v.opts.Refresh)
	}
	if v.Interface() != "" {
		t.Errorf("Interface before resolution = %q", v.Interface())
	}
	if got := v.Addr(); got != netip.MustParseAddr("198.18.0.100") {
		t.Errorf("Addr = %v", got)
	}
}

func TestFullLabel(t *testing.T) {
	tests := []struct {
		iface, label, want, wantErr string
	}{
		{"eth0", "", "", ""},
		{"eth0", "0", "eth0:0", ""},
		{"eth0", "eth0:0", "eth0:0", ""},
		{"eth0", "web", "eth0:web", ""},
		{"bond0.100", "1", "bond0.100:1", ""},
		{"eth0", "eth1:0", "", "must start with"},
		{"eth0", "eth0:", "", "must start with"},
		{"eth0", "eth00:1", "", "must start with"},
		{"eth0", "0123456789a", "", "longer than"},
		{"eth0", "a b", "", "invalid label"},
	}
	for _, tt := range tests {
		got, err := fullLabel(tt.iface, tt.label)
		if tt.wantErr != "" {
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Errorf("fullLabel(%q, %q) error = %v, want %q", tt.iface, tt.label, err, tt.wantErr)
			}
			continue
		}
		if err != nil || got != tt.want {
			t.Errorf("fullLabel(%q, %q) = %q, %v; want %q", tt.iface, tt.label, got, err, tt.want)
		}
	}
}

func TestBroadcast(t *testing.T) {
	tests := []struct {
		addr, brd string
		bits      int
		want      string // "" = none
	}{
		{"198.18.0.100", "", 24, "198.18.0.255"},
		{"198.18.0.100", "+", 24, "198.18.0.255"},
		{"198.18.0.100", "", 16, "198.18.255.255"},
		{"198.18.0.100", "", 25, "198.18.0.127"},
		{"198.18.0.100", "", 30, "198.18.0.103"},
		{"198.18.0.100", "", 31, ""},
		{"198.18.0.100", "", 32, ""},
		{"198.18.0.100", "", 0, "255.255.255.255"},
		{"198.18.0.100", "-", 24, ""},
		{"198.18.0.100", "198.18.0.254", 24, "198.18.0.254"},
		{"2001:2::100", "", 64, ""},
	}
	for _, tt := range tests {
		v, err := New(haresources.IPSpec{Addr: tt.addr, Broadcast: tt.brd}, Options{})
		if err != nil {
			t.Fatal(err)
		}
		got := v.broadcastFor(netip.PrefixFrom(v.addr, tt.bits))
		want := netip.Addr{}
		if tt.want != "" {
			want = netip.MustParseAddr(tt.want)
		}
		if got != want {
			t.Errorf("%s/%d brd %q: got %v, want %v", tt.addr, tt.bits, tt.brd, got, want)
		}
	}
}

func TestString(t *testing.T) {
	tests := []struct {
		spec haresources.IPSpec
		want string
	}{
		{haresources.IPSpec{Addr: "198.18.0.100"}, "IPaddr2::198.18.0.100"},
		{haresources.IPSpec{Addr: "198.18.0.100", Bits: 24}, "IPaddr2::198.18.0.100/24"},
		{haresources.IPSpec{Addr: "198.18.0.100", Bits: 24, Iface: "eth0"}, "IPaddr2::198.18.0.100/24/eth0"},
		{haresources.IPSpec{Addr: "198.18.0.100", Bits: 24, Iface: "eth0", Label: "0"}, "IPaddr2::198.18.0.100/24/eth0:0"},
		{haresources.IPSpec{Addr: "198.18.0.100", Iface: "eth0", Label: "eth0:1"}, "IPaddr2::198.18.0.100//eth0:1"},
		{haresources.IPSpec{Addr: "198.18.0.100", Bits: 24, Iface: "eth0", Broadcast: "198.18.0.255"}, "IPaddr2::198.18.0.100/24/eth0/198.18.0.255"},
		{haresources.IPSpec{Addr: "2001:2::100", Bits: 64}, "IPaddr2::2001:2::100/64"},
	}
	for _, tt := range tests {
		v, err := New(tt.spec, Options{})
		if err != nil {
			t.Fatal(err)
		}
		if got := v.String(); got != tt.want {
			t.Errorf("String(%+v) = %q, want %q", tt.spec, got, tt.want)
		}
	}
}

func TestHeldString(t *testing.T) {
	h := Held{Prefix: netip.MustParsePrefix("198.18.0.100/24"), Iface: "eth0", Label: "eth0:0"}
	if got, want := h.String(), "198.18.0.100/24 dev eth0 label eth0:0"; got != want {
		t.Errorf("got %q, want %q", got, want)
	}
	h.Label = ""
	if got, want := h.String(), "198.18.0.100/24 dev eth0"; got != want {
		t.Errorf("got %q, want %q", got, want)
	}
}

// fakeSender records the times of rounds.
type fakeSender struct {
	mu     sync.Mutex
	times  []time.Time
	fail   bool
	closed bool
}

func (f *fakeSender) send(time.Time) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.times = append(f.times, time.Now())
	if f.fail {
		return errors.New("link down")
	}
	return nil
}

func (f *fakeSender) close() error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.closed = true
	return nil
}

func (f *fakeSender) count() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return len(f.times)
}

// waitUntil polls cond every few milliseconds, at most d.
func waitUntil(d time.Duration, cond func() bool) bool {
	end := time.Now().Add(d)
	for {
		if cond() {
			return true
		}
		if time.Now().After(end) {
			return false
		}
		time.Sleep(2 * time.Millisecond)
	}
}

func TestAnnouncerBurst(t *testing.T) {
	tests := []struct {
		name     string
		count    int
		interval time.Duration
		refresh  time.Duration
		held     bool
		kicks    int
		wait     time.Duration // after min rounds came, to see that no more come
		min, max int           // rounds sent by the goroutine (the caller sends the first)
	}{
		{"burst of 5", 5, 10 * time.Millisecond, 0, true, 1, 60 * time.Millisecond, 4, 4},
		{"burst of 1", 1, 10 * time.Millisecond, 0, true, 1, 60 * time.Millisecond, 0, 0},
		{"not held", 5, 10 * time.Millisecond, 0, false, 1, 100 * time.Millisecond, 0, 0},
		{"refresh", 1, 10 * time.Millisecond, 15 * time.Millisecond, true, 1, 0, 5, 1000},
		{"refresh not held", 1, 10 * time.Millisecond, 15 * time.Millisecond, false, 1, 100 * time.Millisecond, 0, 0},
		{"kick restarts", 3, 20 * time.Millisecond, 0, true, 2, 100 * time.Millisecond, 2, 4},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := &fakeSender{}
			var sent, failed int
			var mu sync.Mutex
			onSend := func(err error) {
				mu.Lock()
				defer mu.Unlock()
				if err != nil {
					failed++
				} else {
					sent++
				}
			}
			cleaned := make(chan struct{})
			a := newAnnouncer(f, Options{GARPCount: tt.count, GARPInterval: tt.interval, Refresh: tt.refresh, Context: context.Background()},
				func() bool { return tt.held }, onSend, func() { _ = f.close(); close(cleaned) })
			go a.run()
			for i := range tt.kicks {
				if i > 0 {
					time.Sleep(tt.interval + tt.interval/2)
				}
				a.burst()
			}
			// Wait for the rounds due (bounded, for slow machines), then a
			// little longer to see that no more come.
			waitUntil(2*time.Second, func() bool { return f.count() >= tt.min })
			time.Sleep(tt.wait)
			ctx, cancel := context.WithTimeout(context.Background(), time.Second)
			defer cancel()
			if err := a.stop(ctx); err != nil {
				t.Fatalf("stop: %v", err)
			}
			if a.alive() {
				t.Fatal("announcer alive after stop")
			}
			select {
			case <-cleaned:
			default:
				t.Fatal("cleanup did not run")
			}
			n := f.count()
			if n < tt.min || n > tt.max {
				t.Errorf("rounds = %d, want %d..%d", n, tt.min, tt.max)
			}
			mu.Lock()
			if sent != n || failed != 0 {
				t.Errorf("onSend: sent %d failed %d, rounds %d", sent, failed, n)
			}
			mu.Unlock()
			// A second stop is harmless.
			if err := a.stop(ctx); err != nil {
				t.Errorf("second stop: %v", err)
			}
		})
	}
}

func TestAnnouncerSpacing(t *testing.T) {
	f := &fakeSender{}
	const interval = 20 * time.Millisecond
	a := newAnnouncer(f, Options{GARPCount: 4, GARPInterval: interval, Context: context.Background()},
		func() bool { return true }, func(error) {}, nil)
	start := time.Now()
	go a.run()
	a.burst()
	if !waitUntil(2*time.Second, func() bool { return f.count() == 3 }) {
		t.Fatalf("rounds = %d, want 3", f.count())
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	if err := a.stop(ctx); err != nil {
		t.Fatal(err)
	}
	prev := start
	for i, at := range f.times {
		if gap := at.Sub(prev); gap < interval-2*time.Millisecond {
			t.Errorf("round %d came %v after the previous one, want >= %v", i+2, gap, interval)
		}
		prev = at
	}
}

func TestAnnouncerLifetime(t *testing.T) {
	f := &fakeSender{fail: true}
	ctx, cancel := context.WithCancel(context.Background())
	var failed int
	var mu sync.Mutex
	a := newAnnouncer(f, Options{GARPCount: 100, GARPInterval: 5 * time.Millisecond, Context: ctx},
		func() bool { return true }, func(err error) {
			if err != nil {
				mu.Lock()
				failed++
				mu.Unlock()
			}
		}, func() { _ = f.close() })
	go a.run()
	a.burst()
	waitUntil(time.Second, func() bool { return f.count() >= 2 })
	cancel()
	select {
	case <-a.done:
	case <-time.After(2 * time.Second):
		t.Fatal("announcer ignores its lifetime context")
	}
	mu.Lock()
	defer mu.Unlock()
	if failed < 2 {
		t.Errorf("failed rounds = %d, want >= 2 (errors go to onSend)", failed)
	}
	if !f.closed {
		t.Error("socket not closed")
	}
}

func TestStopBoundedByContext(t *testing.T) {
	// An announcer whose goroutine never runs cannot finish: stop must give
	// up at the caller's deadline.
	a := newAnnouncer(&fakeSender{}, Options{GARPCount: 1, GARPInterval: time.Millisecond, Context: context.Background()},
		func() bool { return true }, func(error) {}, nil)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Millisecond)
	defer cancel()
	start := time.Now()
	err := a.stop(ctx)
	if err == nil || !strings.Contains(err.Error(), "timed out") {
		t.Fatalf("stop = %v, want a timeout", err)
	}
	if d := time.Since(start); d > time.Second {
		t.Errorf("stop took %v", d)
	}
}
