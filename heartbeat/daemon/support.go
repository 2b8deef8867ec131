package daemon

import (
	"fmt"

	"github.com/hasuite/hasuite/heartbeat/config"
	"github.com/hasuite/hasuite/heartbeat/link"
)

// Check reports what the configuration asks for that this version cannot
// do: errors stop the daemon (and fail `heartbeat -t`), warnings are logged.
// Nothing is silently ignored.
func Check(cfg *config.Config) (errs, warns []config.Diag) {
	for _, m := range cfg.Media {
		switch m.Kind {
		case link.KindUcast, link.KindBcast, link.KindMcast, link.KindUcast6, link.KindMcast6:
		default:
			errs = append(errs, config.Diag{Pos: m.Pos, Msg: fmt.Sprintf("%s links are not supported by this version of the daemon", m.Kind)})
		}
	}
	if cfg.Watchdog != "" {
		warns = append(warns, config.Diag{Pos: cfg.Set["watchdog"], Msg: "watchdog is not implemented in this version: no watchdog device is armed"})
	}
	for _, s := range cfg.Stonith {
		warns = append(warns, config.Diag{Pos: s.Pos, Msg: "STONITH is not implemented in this version: device " + s.Type + " is not used"})
	}
	for _, p := range cfg.Ping {
		warns = append(warns, config.Diag{Pos: p.Pos, Msg: "ping nodes are not implemented in this version: " + p.Name + " is not monitored"})
	}
	return errs, warns
}
