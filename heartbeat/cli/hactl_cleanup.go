package cli

import (
	"context"
	"fmt"

	"github.com/hasuite/hasuite/heartbeat/api"
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
	group, g, code, ok := oneOperand(r, args, "cleanup", "GROUP", Cleaner.Cleanup)
	if !ok {
		return code
	}
	fmt.Fprintf(r.h.Stdout, "cleaned up %s: %s here\n", group, g.State)
	return HactlOK
}
