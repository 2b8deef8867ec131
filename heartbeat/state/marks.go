package state

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
)

// marksFile keeps, per peer, the newest (generation, seq) this node has seen,
// so that after a restart replays of older traffic are still recognised.
const marksFile = "peer_marks.json"

// PeerMark is the newest message seen from one peer.
type PeerMark struct {
	Gen uint64 `json:"gen"`
	Seq uint64 `json:"seq"`
}

// LoadMarks reads the peer marks; a missing file is an empty set. A corrupt
// file is an error: silently forgetting it would reopen the replay window.
func LoadMarks(dir string) (map[string]PeerMark, error) {
	b, err := os.ReadFile(filepath.Join(dir, marksFile))
	if errors.Is(err, fs.ErrNotExist) {
		return map[string]PeerMark{}, nil
	}
	if err != nil {
		return nil, fmt.Errorf("read peer marks: %w", err)
	}
	m := map[string]PeerMark{}
	if err := json.Unmarshal(b, &m); err != nil {
		return nil, fmt.Errorf("parse %s: %w (remove the file to start afresh)", filepath.Join(dir, marksFile), err)
	}
	return m, nil
}

// SaveMarks replaces the peer marks atomically.
func SaveMarks(dir string, m map[string]PeerMark) error {
	if err := ensureDir(dir); err != nil {
		return err
	}
	b, err := json.Marshal(m)
	if err != nil {
		return err
	}
	return replaceFile(dir, marksFile, b, 0o600)
}
