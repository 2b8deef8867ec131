package cli

import (
	"context"
	"errors"
	"fmt"

	"github.com/hasuite/hasuite/heartbeat/api"
)

// Daemon is what the commands ask the running heartbeat. APIClient is the
// real implementation; tests pass fakes. Errors wrap control.ErrNotRunning
// when no daemon listens in runDir.
type Daemon interface {
	Status(ctx context.Context, runDir string) (*api.Status, error)
	Parameter(ctx context.Context, runDir, name string) (*api.Parameter, error)
}

// APIClient reaches the daemon through its control socket.
type APIClient struct{}

// Status implements Daemon.
func (APIClient) Status(ctx context.Context, runDir string) (*api.Status, error) {
	return api.GetStatus(ctx, runDir)
}

// Parameter implements Daemon.
func (APIClient) Parameter(ctx context.Context, runDir, name string) (*api.Parameter, error) {
	var p api.Parameter
	if err := api.Call(ctx, runDir, api.CmdParameter, &p, name); err != nil {
		return nil, err
	}
	return &p, nil
}

// errNoAnswer marks a call abandoned because ctx ended first.
var errNoAnswer = errors.New("no answer from heartbeat")

// within runs f but returns as soon as ctx is done, whether or not f
// honours ctx: cl_status promises to exit 12 after its 5 s alarm even if
// the daemon (or a fake) hangs. An abandoned f finishes on its own
// goroutine; the commands exit right after, so nothing accumulates.
func within[T any](ctx context.Context, f func(context.Context) (T, error)) (T, error) {
	type result struct {
		v   T
		err error
	}
	ch := make(chan result, 1)
	go func() {
		v, err := f(ctx)
		ch <- result{v, err}
	}()
	select {
	case r := <-ch:
		if r.err != nil && ctx.Err() != nil {
			// The call failed because time ran out, not because of
			// the daemon: report it as the timeout it is.
			return r.v, fmt.Errorf("%w: %w", errNoAnswer, ctx.Err())
		}
		return r.v, r.err
	case <-ctx.Done():
		var zero T
		return zero, fmt.Errorf("%w: %w", errNoAnswer, ctx.Err())
	}
}
