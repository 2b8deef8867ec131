package stonith

import (
	"context"
	"errors"
	"fmt"
)

// Suicide fences only the local node, by calling Options.SelfFence. The
// package never reboots by itself: the daemon supplies the action (a real
// reboot only when configured explicitly; a stand-in in tests).
type Suicide struct {
	local string
	opts  Options
}

var _ Device = (*Suicide)(nil)

// NewSuicide returns a suicide device for localNode; it refuses to exist
// without opts.SelfFence.
func NewSuicide(localNode string, opts Options) (*Suicide, error) {
	opts = opts.withDefaults()
	if opts.SelfFence == nil {
		return nil, newError("suicide", "config", "", BadConfig, errors.New("no self-fence action configured"))
	}
	local, err := normNode("suicide", "config", localNode)
	if err != nil {
		return nil, newError("suicide", "config", "", BadConfig, errors.New("the local node name is unknown or invalid"))
	}
	return &Suicide{local: local, opts: opts}, nil
}

// Name returns "suicide".
func (s *Suicide) Name() string { return "suicide" }

// Reset calls SelfFence if node is the local node, bounded by
// Options.Timeout; any other node is BadHost.
func (s *Suicide) Reset(ctx context.Context, node string) error {
	n, err := normNode("suicide", "reset", node)
	if err != nil {
		return err
	}
	if n != s.local {
		return newError("suicide", "reset", n, BadHost, errors.New("suicide fences only the local node"))
	}
	s.opts.Log(fmt.Sprintf("stonith suicide: fencing the local node %s", n))
	ctx, cancel := context.WithTimeout(ctx, s.opts.Timeout)
	defer cancel()
	if err := callSelfFence(ctx, s.opts.SelfFence); err != nil {
		e := newError("suicide", "reset", n, ResetFail, err)
		if ctx.Err() != nil {
			e.Result = Timeout
		}
		s.opts.Log(fmt.Sprintf("stonith suicide: %v", e))
		return e
	}
	return nil
}

// callSelfFence turns a panic of the supplied action into an error.
func callSelfFence(ctx context.Context, f func(context.Context) error) (err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("self-fence action panicked: %v", r)
		}
	}()
	return f(ctx)
}

// Status always reports the device operational.
func (s *Suicide) Status(ctx context.Context) error { return ctxError("suicide", "status", "", ctx) }

// Hosts returns the local node.
func (s *Suicide) Hosts(ctx context.Context) ([]string, error) {
	if err := ctxError("suicide", "gethosts", "", ctx); err != nil {
		return nil, err
	}
	return []string{s.local}, nil
}
