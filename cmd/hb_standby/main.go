// Command hb_standby moves resource groups away from this node (Heartbeat's
// hb_standby), waiting until they have moved.
package main

import (
	"context"
	"os"

	"github.com/hasuite/hasuite/heartbeat/cli"
)

func main() {
	os.Exit(cli.HBStandby(context.Background(), os.Args[0], os.Args[1:], os.Stdout, os.Stderr, cli.APIClient{}))
}
