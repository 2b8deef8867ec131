package state

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"

	"github.com/hasuite/hasuite/internal/fsutil"
)

// ensureDir creates dir (and missing parents) with mode 0700, whatever the
// umask. An existing directory keeps its mode: the operator may have chosen
// it.
func ensureDir(dir string) error {
	if err := fsutil.MkdirAllMode(dir, 0o700); err != nil {
		return fmt.Errorf("create state directory %s: %w", dir, err)
	}
	return nil
}

// writeTemp writes data to a new temporary file in dir, fsyncs it and
// returns its path. The caller links or renames it into place.
func writeTemp(dir, base string, data []byte, mode fs.FileMode) (string, error) {
	f, err := os.CreateTemp(dir, "."+base+".tmp*")
	if err != nil {
		return "", fmt.Errorf("create temporary file for %s: %w", base, err)
	}
	tmp := f.Name()
	fail := func(err error) (string, error) {
		_ = f.Close()
		_ = os.Remove(tmp)
		return "", err
	}
	if err := f.Chmod(mode); err != nil {
		return fail(fmt.Errorf("chmod %s: %w", tmp, err))
	}
	if _, err := f.Write(data); err != nil {
		return fail(fmt.Errorf("write %s: %w", tmp, err))
	}
	if err := f.Sync(); err != nil {
		return fail(fmt.Errorf("fsync %s: %w", tmp, err))
	}
	if err := f.Close(); err != nil {
		_ = os.Remove(tmp)
		return "", fmt.Errorf("close %s: %w", tmp, err)
	}
	return tmp, nil
}

// syncDir makes a rename or link in dir durable.
func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return fmt.Errorf("open directory %s for fsync: %w", dir, err)
	}
	err = d.Sync()
	if cerr := d.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("fsync directory %s: %w", dir, err)
	}
	return nil
}

// replaceFile atomically and durably replaces dir/base with data.
func replaceFile(dir, base string, data []byte, mode fs.FileMode) error {
	tmp, err := writeTemp(dir, base, data, mode)
	if err != nil {
		return err
	}
	final := filepath.Join(dir, base)
	if err := os.Rename(tmp, final); err != nil {
		_ = os.Remove(tmp)
		return fmt.Errorf("rename %s to %s: %w", tmp, final, err)
	}
	return syncDir(dir)
}

// createFileExcl durably creates dir/base with data unless it already
// exists. It reports created=false (and no error) when another process got
// there first, so two racing starters end up with the same file content.
func createFileExcl(dir, base string, data []byte, mode fs.FileMode) (created bool, err error) {
	tmp, err := writeTemp(dir, base, data, mode)
	if err != nil {
		return false, err
	}
	defer os.Remove(tmp)
	final := filepath.Join(dir, base)
	// link(2), unlike rename(2), refuses to replace an existing file.
	if err := os.Link(tmp, final); err != nil {
		if errors.Is(err, fs.ErrExist) {
			return false, nil
		}
		return false, fmt.Errorf("link %s to %s: %w", tmp, final, err)
	}
	return true, syncDir(dir)
}
