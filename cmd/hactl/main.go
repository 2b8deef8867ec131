// Command hactl is the suite's own command-line interface: status (with
// JSON output), check (heartbeat -t), standby and takeover (hb_standby and
// hb_takeover with JSON output), fence-confirm, events (the event stream),
// import keepalived, export pacemaker and version; see heartbeat/cli.
package main

import (
	"context"
	"os"

	"github.com/hasuite/hasuite/heartbeat/check"
	"github.com/hasuite/hasuite/heartbeat/cli"
	"github.com/hasuite/hasuite/heartbeat/migrate"
)

func main() {
	os.Exit(cli.Hactl(context.Background(), os.Args[1:], os.Stdout, os.Stderr, client{}))
}

// client is the running daemon's API, plus the configuration check, import
// and export, which run here (heartbeat/check, heartbeat/migrate) and not in
// the daemon.
type client struct {
	cli.APIClient
	check.Checker
	migrate.Migrator
}
