package state

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"math"
	"os"
	"path/filepath"
	"strconv"
)

// GenerationFile is the file name Heartbeat keeps its generation in.
const GenerationFile = "hb_generation"

// Generation methods (ha.cf hbgenmethod).
const (
	GenMethodFile = "file" // stored+1; the first start uses wall clock+1
	GenMethodTime = "time" // wall clock, but never less than stored+1
)

// maxGenerationFileSize bounds what we read: a valid file is 16 bytes, a
// uint64 printed with %15d at most 21.
const maxGenerationFileSize = 64

// NextGeneration computes this start's heartbeat generation, persists it in
// dir/hb_generation and returns it. The file is replaced atomically and
// fsynced (file and directory) before NextGeneration returns, so a crash
// right after cannot make the next start reuse the number: a peer would
// take a repeated generation for a node "returning after partition".
//
// method is "file" (also when empty) or "time"; wallNow is the wall clock in
// Unix seconds, used only to seed the first generation and for "time". A
// file that cannot be parsed is an error: resetting it could produce a lower
// generation, which peers drop forever as a replay.
func NextGeneration(dir, method string, wallNow int64) (uint64, error) {
	if method == "" {
		method = GenMethodFile
	}
	if method != GenMethodFile && method != GenMethodTime {
		return 0, fmt.Errorf("generation method %q: want %q or %q", method, GenMethodFile, GenMethodTime)
	}
	if wallNow < 0 {
		return 0, fmt.Errorf("wall clock %d is before 1970", wallNow)
	}
	if err := ensureDir(dir); err != nil {
		return 0, err
	}
	path := filepath.Join(dir, GenerationFile)
	stored, found, err := readGeneration(path)
	if err != nil {
		return 0, err
	}
	next, err := nextGeneration(method, stored, found, uint64(wallNow))
	if err != nil {
		return 0, fmt.Errorf("%s: %w", path, err)
	}
	if err := replaceFile(dir, GenerationFile, formatGeneration(next), 0o644); err != nil {
		return 0, fmt.Errorf("store generation: %w", err)
	}
	return next, nil
}

// nextGeneration is the pure arithmetic of NextGeneration.
func nextGeneration(method string, stored uint64, found bool, wall uint64) (uint64, error) {
	if !found {
		if wall == math.MaxUint64 {
			return 0, errors.New("generation overflow")
		}
		return wall + 1, nil
	}
	if stored == math.MaxUint64 {
		return 0, errors.New("stored generation is at its maximum and cannot be incremented")
	}
	next := stored + 1
	if method == GenMethodTime && wall > next {
		next = wall
	}
	return next, nil
}

// readGeneration returns the stored generation; found is false when the
// file does not exist.
func readGeneration(path string) (gen uint64, found bool, err error) {
	f, err := os.Open(path)
	if errors.Is(err, fs.ErrNotExist) {
		return 0, false, nil
	}
	if err != nil {
		return 0, false, fmt.Errorf("read generation: %w", err)
	}
	defer f.Close()
	// One byte more than a valid file may hold, so parseGeneration can
	// tell "too long" from "exactly at the limit".
	data, err := io.ReadAll(io.LimitReader(f, maxGenerationFileSize+1))
	if err != nil {
		return 0, false, fmt.Errorf("read generation %s: %w", path, err)
	}
	gen, err = parseGeneration(data)
	if err != nil {
		return 0, false, fmt.Errorf("corrupt generation file %s (fix or remove it by hand): %w", path, err)
	}
	return gen, true, nil
}

// parseGeneration parses Heartbeat's "%15lu\n" format. Leading spaces and
// the trailing newline are optional (hand-edited files), anything else is
// corruption.
func parseGeneration(b []byte) (uint64, error) {
	if len(b) > maxGenerationFileSize {
		return 0, fmt.Errorf("file is longer than %d bytes", maxGenerationFileSize)
	}
	s := bytes.TrimLeft(b, " ")
	s = bytes.TrimSuffix(s, []byte("\n"))
	if len(s) == 0 {
		return 0, errors.New("no number in file")
	}
	for _, c := range s {
		if c < '0' || c > '9' {
			return 0, fmt.Errorf("unexpected byte %q in file", c)
		}
	}
	v, err := strconv.ParseUint(string(s), 10, 64)
	if err != nil {
		return 0, fmt.Errorf("bad number: %w", err)
	}
	return v, nil
}

// formatGeneration renders Heartbeat's format: right-aligned in 15 columns
// and a newline (16 bytes for any value below 10^15).
func formatGeneration(g uint64) []byte {
	return fmt.Appendf(nil, "%15d\n", g)
}
