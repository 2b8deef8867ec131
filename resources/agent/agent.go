// Package agent runs resources: virtual IPs natively, and Heartbeat
// resource.d scripts, LSB init scripts and OCF agents as child processes.
package agent

import (
	"context"
	"errors"
)

// Agent controls one resource. Every method must return by the context's
// deadline; implementations never block past it.
type Agent interface {
	// Start makes the resource run here. Starting a running resource is a
	// success (agents must be idempotent, like OCF agents).
	Start(ctx context.Context) error
	// Stop makes it not run here. Stopping a stopped resource is a success.
	Stop(ctx context.Context) error
	// Status reports whether it runs here. An error means the state could
	// not be determined (timeout, broken agent), which is not "stopped".
	Status(ctx context.Context) (running bool, err error)
	// String names the resource for logs, e.g. "IPaddr2::198.18.0.100/24/eth0".
	String() string
}

// ErrTimeout is wrapped by errors of operations that ran out of time.
var ErrTimeout = errors.New("operation timed out")

// Logger receives one line of agent output or diagnostics at a time.
type Logger func(resource, line string)
