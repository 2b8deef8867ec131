package state

import (
	"crypto/rand"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
)

// UUIDFile is the file name Heartbeat keeps the node UUID in.
const UUIDFile = "hb_uuid"

// UUID sources (ha.cf uuidfrom).
const (
	UUIDFromFile     = "file"     // dir/hb_uuid, created at random when missing
	UUIDFromNodename = "nodename" // derived from the node name, nothing stored
)

// NodeUUID returns this node's UUID as the 16 raw bytes Heartbeat sends in
// srcuuid.
//
// With from "file" (also when empty) it reads dir/hb_uuid, which holds the
// 16 bytes raw as Heartbeat writes them; when the file is missing it creates
// a random version-4 UUID there (mode 0600, dir 0700 if created), durably.
// A file of another size is an error rather than silently replaced: a new
// UUID makes peers see a different node.
//
// With from "nodename" the UUID is derived from nodeName exactly as
// Heartbeat 3.0.6 does (gen_uuid_from_name). Pass the name as sent on the
// wire (lower case); the result is not a valid RFC 4122 UUID, only a stable
// 16-byte identifier, which is all Heartbeat uses it for.
func NodeUUID(dir, from, nodeName string) ([16]byte, error) {
	switch from {
	case "", UUIDFromFile:
		return uuidFromFile(dir)
	case UUIDFromNodename:
		if nodeName == "" {
			return [16]byte{}, errors.New("uuid from node name: empty node name")
		}
		return uuidFromName(nodeName), nil
	}
	return [16]byte{}, fmt.Errorf("uuid source %q: want %q or %q", from, UUIDFromFile, UUIDFromNodename)
}

func uuidFromFile(dir string) ([16]byte, error) {
	path := filepath.Join(dir, UUIDFile)
	u, found, err := readUUID(path)
	if err != nil || found {
		return u, err
	}
	if err := ensureDir(dir); err != nil {
		return [16]byte{}, err
	}
	u, err = newRandomUUID()
	if err != nil {
		return [16]byte{}, err
	}
	created, err := createFileExcl(dir, UUIDFile, u[:], 0o600)
	if err != nil {
		return [16]byte{}, fmt.Errorf("store node uuid: %w", err)
	}
	if created {
		return u, nil
	}
	// Somebody created the file between our read and our link: theirs wins.
	u, found, err = readUUID(path)
	if err == nil && !found {
		err = fmt.Errorf("%s vanished while being created", path)
	}
	return u, err
}

// readUUID reads a raw 16-byte UUID; found is false when the file is missing.
func readUUID(path string) (u [16]byte, found bool, err error) {
	f, err := os.Open(path)
	if errors.Is(err, fs.ErrNotExist) {
		return u, false, nil
	}
	if err != nil {
		return u, false, fmt.Errorf("read node uuid: %w", err)
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, int64(len(u))+1))
	if err != nil {
		return u, false, fmt.Errorf("read node uuid %s: %w", path, err)
	}
	if len(data) != len(u) {
		return u, false, fmt.Errorf("corrupt node uuid file %s: %d bytes, want %d raw bytes (fix or remove it by hand)", path, len(data), len(u))
	}
	copy(u[:], data)
	return u, true, nil
}

// newRandomUUID returns an RFC 4122 version 4 UUID.
func newRandomUUID() ([16]byte, error) {
	var u [16]byte
	if _, err := rand.Read(u[:]); err != nil {
		return u, fmt.Errorf("random uuid: %w", err)
	}
	u[6] = u[6]&0x0f | 0x40 // version 4
	u[8] = u[8]&0x3f | 0x80 // RFC 4122 variant
	return u, nil
}
