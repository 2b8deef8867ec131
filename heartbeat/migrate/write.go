package migrate

import (
	"crypto/rand"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
)

// readRandom fills b from r, or crypto/rand when r is nil.
func readRandom(r io.Reader, b []byte) error {
	if r == nil {
		r = rand.Reader
	}
	_, err := io.ReadFull(r, b)
	return err
}

// Written are the files an import wrote.
var importFiles = []string{"ha.cf", "haresources.toml", "authkeys"}

// Write writes ha.cf, haresources.toml and authkeys (mode 0600) into dir,
// creating it. Without force, it writes nothing when any of them exists.
// It returns the paths written and warnings about files of dir that would
// conflict with them (ha.toml, haresources).
func (im *Imported) Write(dir string, force bool) (written, warnings []string, err error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, nil, err
	}
	if !force {
		for _, name := range importFiles {
			p := filepath.Join(dir, name)
			if _, err := os.Lstat(p); err == nil {
				return nil, nil, fmt.Errorf("%s exists: nothing written (--force overwrites ha.cf, haresources.toml and authkeys)", p)
			} else if !errors.Is(err, os.ErrNotExist) {
				return nil, nil, err
			}
		}
	}
	for _, c := range []struct {
		name, content string
		mode          os.FileMode
	}{{"ha.cf", im.HACF, 0o644}, {"haresources.toml", im.HaresourcesTOML, 0o644}, {"authkeys", im.Authkeys, 0o600}} {
		p := filepath.Join(dir, c.name)
		if err := writeFile(p, c.content, c.mode); err != nil {
			return written, warnings, err
		}
		written = append(written, p)
	}
	for _, name := range []string{"ha.toml", "haresources"} {
		if _, err := os.Lstat(filepath.Join(dir, name)); err == nil {
			warnings = append(warnings, fmt.Sprintf("%s exists and conflicts with the files written: remove it", filepath.Join(dir, name)))
		}
	}
	return written, warnings, nil
}

// writeFile replaces p by content with mode, through a temporary file, so
// that the key is never readable by others, not even for a moment.
func writeFile(p, content string, mode os.FileMode) error {
	f, err := os.CreateTemp(filepath.Dir(p), "."+filepath.Base(p)+".*")
	if err != nil {
		return err
	}
	tmp := f.Name()
	defer os.Remove(tmp)
	if err := f.Chmod(mode); err != nil {
		f.Close()
		return err
	}
	if _, err := f.WriteString(content); err != nil {
		f.Close()
		return err
	}
	if err := f.Close(); err != nil {
		return err
	}
	return os.Rename(tmp, p)
}
