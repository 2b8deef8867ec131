package daemon

import (
	"fmt"
	"time"

	"github.com/hasuite/hasuite/heartbeat/config"
	"github.com/hasuite/hasuite/heartbeat/link"
)

// Check reports what the configuration asks for that this version cannot
// do: errors stop the daemon (and fail `heartbeat -t`), warnings are logged.
// Nothing is silently ignored.
func Check(cfg *config.Config) (errs, warns []config.Diag) {
	for _, m := range cfg.Media {
		switch m.Kind {
		case link.KindUcast, link.KindBcast, link.KindMcast, link.KindUcast6, link.KindMcast6, "serial":
		default:
			errs = append(errs, config.Diag{Pos: m.Pos, Msg: fmt.Sprintf("%s links are not supported by this version of the daemon", m.Kind)})
		}
	}
	for _, m := range cfg.Media {
		if m.Kind != "serial" {
			continue
		}
		// A classic status frame is about 350 bytes; the line carries
		// baud/10 bytes a second. Use at most half of it.
		need := 350 * float64(time.Second) / float64(cfg.Keepalive)
		if have := float64(m.Baud) / 10; need > have/2 {
			warns = append(warns, config.Diag{Pos: m.Pos, Msg: fmt.Sprintf(
				"serial %s at %d baud carries about %.0f bytes/s; a heartbeat every %s needs %.0f: raise baud or keepalive, or this link will lag and drop frames",
				m.Dev, m.Baud, have, cfg.Keepalive, need)})
		}
	}

	errs = append(errs, checkNotify(cfg)...)
	errs = append(errs, checkRespawn(cfg)...)
	errs = append(errs, checkPingTargets(cfg)...)
	return errs, warns
}
