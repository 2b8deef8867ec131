// Command hb_takeover asks the peer to hand resource groups to this node
// (Heartbeat's hb_takeover), waiting until they have moved.
package main

import (
	"context"
	"os"

	"github.com/hasuite/hasuite/heartbeat/cli"
)

func main() {
	os.Exit(cli.HBTakeover(context.Background(), os.Args[0], os.Args[1:], os.Stdout, os.Stderr, cli.APIClient{}))
}
