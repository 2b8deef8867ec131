// Package fsutil holds file-system helpers shared by the daemon's packages.
package fsutil

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
)

// MkdirAllMode is os.MkdirAll with the mode set exactly: MkdirAll filters
// it through the umask, and a umask that removes owner bits would leave
// parents we cannot even create the next level in. Existing directories
// keep their mode.
func MkdirAllMode(dir string, mode fs.FileMode) error {
	st, err := os.Stat(dir)
	if err == nil {
		if !st.IsDir() {
			return fmt.Errorf("%s is not a directory", dir)
		}
		return nil
	}
	if parent := filepath.Dir(dir); parent != dir {
		if err := MkdirAllMode(parent, mode); err != nil {
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
