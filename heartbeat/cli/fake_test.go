package cli

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/hasuite/hasuite/heartbeat/api"
)

// hang says how a fake call misbehaves.
type hang int

const (
	answer    hang = iota // answer at once
	untilDone             // block until ctx ends, like a stuck socket with a deadline
	forever               // ignore ctx entirely, like a wedged library
)

// fakeDaemon serves canned answers and records the run directories asked.
type fakeDaemon struct {
	st        *api.Status
	stErr     error
	params    map[string]string
	paramErr  error
	statHang  hang
	paramHang hang
	// Move's canned answer, how it hangs, and what it was asked.
	moveRes            *api.Move
	moveErr            error
	moveHang           hang
	movedCmd, movedArg string
	release            chan struct{} // closed at test end to free "forever" calls

	mu      sync.Mutex
	runDirs []string
}

func newFake(t *testing.T, st *api.Status) *fakeDaemon {
	f := &fakeDaemon{st: st, release: make(chan struct{}),
		params: map[string]string{"hbversion": "3.0.6", "deadtime": "10", "warntime": "15000ms"}}
	t.Cleanup(func() { close(f.release) })
	return f
}

func (f *fakeDaemon) wait(ctx context.Context, h hang) error {
	switch h {
	case untilDone:
		<-ctx.Done()
		return ctx.Err()
	case forever:
		<-f.release
		return context.Canceled
	}
	return nil
}

func (f *fakeDaemon) Status(ctx context.Context, runDir string) (*api.Status, error) {
	f.mu.Lock()
	f.runDirs = append(f.runDirs, runDir)
	f.mu.Unlock()
	if err := f.wait(ctx, f.statHang); err != nil {
		return nil, err
	}
	if f.stErr != nil {
		return nil, f.stErr
	}
	return f.st, nil
}

func (f *fakeDaemon) Parameter(ctx context.Context, runDir, name string) (*api.Parameter, error) {
	if err := f.wait(ctx, f.paramHang); err != nil {
		return nil, err
	}
	if f.paramErr != nil {
		return nil, f.paramErr
	}
	v, ok := f.params[name]
	return &api.Parameter{Name: name, Value: v, Set: ok}, nil
}

func (f *fakeDaemon) Move(ctx context.Context, runDir, cmd, which string) (*api.Move, error) {
	f.mu.Lock()
	f.runDirs = append(f.runDirs, runDir)
	f.movedCmd, f.movedArg = cmd, which
	f.mu.Unlock()
	if err := f.wait(ctx, f.moveHang); err != nil {
		return nil, err
	}
	return f.moveRes, f.moveErr
}

func (f *fakeDaemon) dirs() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]string(nil), f.runDirs...)
}

// twoNodes is a healthy cluster seen from alpha: alpha declared first, beta
// heard 12ms ago on eth0, its eth1 dead.
func twoNodes() *api.Status {
	return &api.Status{
		Version: "0.1.0", Pid: 4242, Hostname: "alpha.example", Managed: "haresources", Resources: "local",
		Core: api.Snapshot{
			Node: "alpha", State: "active", Generation: 7, CommUp: true,
			Keepalive: time.Second, Deadtime: 10 * time.Second, Warntime: 5 * time.Second,
			Initdead: 60 * time.Second, Uptime: 3723*time.Second + 400*time.Millisecond,
			Nodes: []api.NodeSnapshot{
				{Name: "alpha", Type: "normal", State: "active", Local: true, Generation: 7,
					Links: []api.LinkSnapshot{{Name: "eth0", State: "up", LastHeard: -1}, {Name: "eth1", State: "up", LastHeard: -1}}},
				{Name: "beta", Type: "normal", State: "active", LastHeard: 12 * time.Millisecond, Generation: 3,
					Links: []api.LinkSnapshot{
						{Name: "eth0", State: "up", LastHeard: 12 * time.Millisecond, Packets: 1500},
						{Name: "eth1", State: "dead", LastHeard: -1},
					}},
			},
			Counters: api.Counters{TxMessages: 1600, RxAccepted: 1500, RxDuplicate: 2, LostMessages: 1},
		},
		Links: []api.Link{
			{Name: "eth0", Kind: "ucast", Target: "10.0.0.2", TxPackets: 1600, RxPackets: 1500},
			{Name: "eth1", Kind: "bcast", Target: "eth1", TxPackets: 1600, TxErrors: 3, RxBad: 1, LastError: "network is unreachable"},
		},
		Dropped: api.Dropped{BadAuth: 4, FromOurself: 9},
	}
}

// with returns twoNodes changed by f.
func with(f func(*api.Status)) *api.Status {
	s := twoNodes()
	f(s)
	return s
}

func peerState(state string) *api.Status {
	return with(func(s *api.Status) { s.Core.Nodes[1].State = state })
}

// withPing adds a ping node, declared last, as Heartbeat would list it.
func withPing() *api.Status {
	return with(func(s *api.Status) {
		s.Core.Nodes = append(s.Core.Nodes, api.NodeSnapshot{Name: "gw", Type: "ping", State: "ping",
			Links: []api.LinkSnapshot{{Name: "gw", State: "up"}}})
	})
}
