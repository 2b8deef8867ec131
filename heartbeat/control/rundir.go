package control

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
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
	if err := mkdirAllMode(runDir, 0o755); err != nil {
		return fmt.Errorf("create run directory %s: %w", runDir, err)
	}
	return nil
}

// mkdirAllMode is os.MkdirAll with the mode set exactly: MkdirAll filters
// it through the umask, and a umask that removes owner bits would leave
// parents we cannot even create the next level in.
func mkdirAllMode(dir string, mode fs.FileMode) error {
	st, err := os.Stat(dir)
	if err == nil {
		if !st.IsDir() {
			return fmt.Errorf("%s is not a directory", dir)
		}
		return nil
	}
	if parent := filepath.Dir(dir); parent != dir {
		if err := mkdirAllMode(parent, mode); err != nil {
			return err
		}
	}
	if err := os.Mkdir(dir, mode); err != nil {
		if errors.Is(err, fs.ErrExist) {
			return nil // created concurrently: not ours to chmod
		}
		return err
	}
	return os.Chmod(dir, mode)
}
