package stonith

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sort"
	"strings"
	"sync"
)

// ErrNotWaiting is returned by Meatware.Confirm when no reset of the node
// is waiting for confirmation.
var ErrNotWaiting = errors.New("no STONITH reset of this node is waiting for confirmation")

// Meatware is the human-operated device: Reset asks an operator to
// power-cycle the node by hand and waits until the operator confirms it
// with Confirm (`hactl fence-confirm NODE`), or until the context ends.
// It does not apply Options.Timeout: the caller's context bounds the wait.
// Its parameters are the host list.
type Meatware struct {
	hosts []string
	log   func(string)

	mu      sync.Mutex
	waiting map[string]*meatWait
}

type meatWait struct {
	done    chan struct{} // closed by Confirm
	waiters int
}

var _ Device = (*Meatware)(nil)

// NewMeatware returns a meatware device for hosts (lower-cased); log may
// be nil.
func NewMeatware(hosts []string, log func(string)) *Meatware {
	if log == nil {
		log = func(string) {}
	}
	m := &Meatware{log: log, waiting: make(map[string]*meatWait)}
	for _, h := range hosts {
		m.hosts = append(m.hosts, strings.ToLower(h))
	}
	return m
}

// Name returns "meatware".
func (m *Meatware) Name() string { return "meatware" }

// Reset waits for the operator to confirm that node was power-cycled.
// Concurrent resets of one node are all released by one confirmation.
func (m *Meatware) Reset(ctx context.Context, node string) error {
	n, err := normNode("meatware", "reset", node)
	if err != nil {
		return err
	}
	if !slices.Contains(m.hosts, n) {
		return newError("meatware", "reset", n, BadHost, errors.New("not in the host list"))
	}
	m.mu.Lock()
	w := m.waiting[n]
	if w == nil {
		w = &meatWait{done: make(chan struct{})}
		m.waiting[n] = w
	}
	w.waiters++
	m.mu.Unlock()
	m.log(fmt.Sprintf("stonith meatware: OPERATOR INTERVENTION REQUIRED to reset %s: power-cycle it, then run `hactl fence-confirm %s`", n, n))

	select {
	case <-w.done:
		m.log(fmt.Sprintf("stonith meatware: reset of %s confirmed by the operator", n))
		return nil
	case <-ctx.Done():
		m.mu.Lock()
		w.waiters--
		if w.waiters == 0 && m.waiting[n] == w {
			delete(m.waiting, n)
		}
		m.mu.Unlock()
		// A confirmation racing with the end of ctx still counts.
		select {
		case <-w.done:
			return nil
		default:
		}
		return newError("meatware", "reset", n, Timeout, fmt.Errorf("no operator confirmation: %w", ctx.Err()))
	}
}

// Confirm tells the waiting resets of node that the operator has
// power-cycled it. It returns ErrNotWaiting when none waits.
func (m *Meatware) Confirm(node string) error {
	n := strings.ToLower(node)
	m.mu.Lock()
	defer m.mu.Unlock()
	w := m.waiting[n]
	if w == nil {
		return fmt.Errorf("%s: %w", n, ErrNotWaiting)
	}
	delete(m.waiting, n)
	close(w.done)
	return nil
}

// Pending lists the nodes whose reset waits for confirmation, sorted.
func (m *Meatware) Pending() []string {
	m.mu.Lock()
	defer m.mu.Unlock()
	var p []string
	for n := range m.waiting {
		p = append(p, n)
	}
	sort.Strings(p)
	return p
}

// Status always reports the device operational.
func (m *Meatware) Status(ctx context.Context) error { return ctxError("meatware", "status", "", ctx) }

// Hosts returns the host list.
func (m *Meatware) Hosts(ctx context.Context) ([]string, error) {
	if err := ctxError("meatware", "gethosts", "", ctx); err != nil {
		return nil, err
	}
	return slices.Clone(m.hosts), nil
}
