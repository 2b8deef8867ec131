// Command cl_status reports the local heartbeat's view of the cluster with
// the sub-commands, words and exit codes of Linux-HA Heartbeat 3.0.6's
// cl_status; see heartbeat/cli.
package main

import (
	"context"
	"os"

	"github.com/hasuite/hasuite/heartbeat/cli"
)

func main() {
	os.Exit(cli.ClStatus(context.Background(), os.Args[1:], os.Stdout, os.Stderr, cli.APIClient{}))
}
