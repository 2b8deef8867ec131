package control

import (
	"fmt"
	"os"

	"github.com/hasuite/hasuite/internal/fsutil"
)

// DefaultRunDirPath is where the daemon keeps its socket and pid file when
// neither a flag nor $HA_RUNDIR says otherwise.
const DefaultRunDirPath = "/run/heartbeat"

// RunDirEnv names the environment variable that overrides the run directory
// (tests and unprivileged demos run several daemons on one host).
const RunDirEnv = "HA_RUNDIR"

// DefaultRunDir returns flagValue if set, else $HA_RUNDIR, else
// /run/heartbeat.
func DefaultRunDir(flagValue string) string {
	if flagValue != "" {
		return flagValue
	}
	if v := os.Getenv(RunDirEnv); v != "" {
		return v
	}
	return DefaultRunDirPath
}

// ensureRunDir creates runDir (and missing parents) with mode 0755. The
// directory must be searchable by everybody so that clients find the
// socket; the socket's own mode keeps strangers out. Existing directories
// keep the mode the operator gave them.
func ensureRunDir(runDir string) error {
	if err := fsutil.MkdirAllMode(runDir, 0o755); err != nil {
		return fmt.Errorf("create run directory %s: %w", runDir, err)
	}
	return nil
}
