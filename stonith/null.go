package stonith

import (
	"context"
	"errors"
	"slices"
	"strings"
	"sync"
)

// Null is a device that fences nothing: Reset succeeds for the hosts in
// its list (and records the call) and fails with BadHost for any other.
// Its parameters are the host list: `stonith_host * null node1 node2`.
// For tests and demonstrations only.
type Null struct {
	hosts []string

	mu     sync.Mutex
	resets []string
}

var _ Device = (*Null)(nil)

// NewNull returns a null device for hosts (lower-cased).
func NewNull(hosts ...string) *Null {
	n := &Null{}
	for _, h := range hosts {
		n.hosts = append(n.hosts, strings.ToLower(h))
	}
	return n
}

// Name returns "null".
func (n *Null) Name() string { return "null" }

// Reset records node if it is in the host list.
func (n *Null) Reset(ctx context.Context, node string) error {
	h, err := normNode("null", "reset", node)
	if err != nil {
		return err
	}
	if err := ctxError("null", "reset", h, ctx); err != nil {
		return err
	}
	if !slices.Contains(n.hosts, h) {
		return newError("null", "reset", h, BadHost, errors.New("not in the host list"))
	}
	n.mu.Lock()
	n.resets = append(n.resets, h)
	n.mu.Unlock()
	return nil
}

// Resets returns the nodes reset so far, in order.
func (n *Null) Resets() []string {
	n.mu.Lock()
	defer n.mu.Unlock()
	return slices.Clone(n.resets)
}

// Status always reports the device operational.
func (n *Null) Status(ctx context.Context) error { return ctxError("null", "status", "", ctx) }

// Hosts returns the host list.
func (n *Null) Hosts(ctx context.Context) ([]string, error) {
	if err := ctxError("null", "gethosts", "", ctx); err != nil {
		return nil, err
	}
	return slices.Clone(n.hosts), nil
}
