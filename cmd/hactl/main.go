// Command hactl is the suite's own command-line interface: status (with
// JSON output), standby and takeover (hb_standby and hb_takeover with JSON
// output), fence-confirm, events (the event stream) and version; see
// heartbeat/cli.
package main

import (
	"context"
	"os"

	"github.com/hasuite/hasuite/heartbeat/cli"
)

func main() {
	os.Exit(cli.Hactl(context.Background(), os.Args[1:], os.Stdout, os.Stderr, cli.APIClient{}))
}
