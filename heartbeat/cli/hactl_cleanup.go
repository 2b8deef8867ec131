package cli

import (
	"context"
	"fmt"

	"github.com/hasuite/hasuite/heartbeat/api"
	"github.com/hasuite/hasuite/heartbeat/control"
)

// Cleaner is the daemon call behind hactl cleanup.
type Cleaner interface {
	Cleanup(ctx context.Context, runDir, group string) (api.Group, error)
}

// Cleanup implements Cleaner.
func (APIClient) Cleanup(ctx context.Context, runDir, group string) (api.Group, error) {
	var g api.Group
	err := api.Call(ctx, runDir, api.CmdCleanup, &g, group)
	return g, err
}

const cleanupDetail = "  Clears GROUP's failure count and failed state on this node (after you fixed the cause);\n" +
	"  if it runs nowhere it is started here. Run it on each node where the group failed.\n"

func hactlCleanup(r *hactlRun, args []string) int {
	fs := r.flagSet("hactl cleanup")
	if code, ok := r.parse(fs, args, "cleanup"); !ok {
		return code
	}
	if fs.NArg() != 1 {
		fmt.Fprintln(r.h.Stderr, "usage: hactl cleanup GROUP")
		return HactlUsage
	}
	c, ok := r.h.Daemon.(Cleaner)
	if !ok {
		fmt.Fprintln(r.h.Stderr, "hactl: cleanup is not available")
		return HactlFail
	}
	ctx, cancel := context.WithTimeout(r.ctx, r.g.timeout)
	defer cancel()
	runDir := control.DefaultRunDir(r.g.runDir)
	group := fs.Arg(0)
	g, err := within(ctx, func(ctx context.Context) (api.Group, error) { return c.Cleanup(ctx, runDir, group) })
	if err != nil {
		return r.daemonError("cleanup", err)
	}
	fmt.Fprintf(r.h.Stdout, "cleaned up %s: %s here\n", group, g.State)
	return HactlOK
}
