package state

import (
	"bytes"
	"encoding/hex"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// Vectors computed with glibc 2.36 running hb_uuid.c's string_hash and
// gen_uuid_from_name.
var nameVectors = []struct{ name, uuid string }{
	{"alpha", "cc301fda-9190-a843-de51-a987ec340ccc"},
	{"beta", "bf4514df-59e5-20af-3817-c93be31e6e01"},
	{"node1", "90b8de77-08c8-7a6c-fef1-993a43051dba"},
	{"node2", "f3727cf5-aae8-2f22-b5f6-03e93235dadc"},
	{"a", "e44c7868-10c2-3db7-763c-3b17dc88f2ed"},
	{"X", "175ad2f1-732b-05de-0ba0-75b26094a95b"},
	{"zz-99", "9d69bdc9-f84f-a7b3-8db7-e0f4a3a110db"},
	// Hash with the top bit set (negative seed in C).
	{"verylongnodename.example.com", "f3b1c4e8-798e-5636-6285-9756534e3352"},
}

func mustUUID(t *testing.T, s string) [16]byte {
	t.Helper()
	b, err := hex.DecodeString(strings.ReplaceAll(s, "-", ""))
	if err != nil || len(b) != 16 {
		t.Fatalf("bad test uuid %q", s)
	}
	return [16]byte(b)
}

func TestNodeUUIDFromName(t *testing.T) {
	for _, v := range nameVectors {
		t.Run(v.name, func(t *testing.T) {
			dir := t.TempDir()
			got, err := NodeUUID(dir, UUIDFromNodename, v.name)
			if err != nil {
				t.Fatal(err)
			}
			if want := mustUUID(t, v.uuid); got != want {
				t.Fatalf("uuid = %x, want %x", got, want)
			}
			if _, err := os.Stat(filepath.Join(dir, UUIDFile)); !os.IsNotExist(err) {
				t.Fatalf("nodename uuid must not touch hb_uuid: %v", err)
			}
		})
	}
}

func TestGlibcRandSeedZero(t *testing.T) {
	// glibc turns seed 0 into 1; the empty name hashes to 0.
	a, b := newGlibcRand(0), newGlibcRand(1)
	for i := 0; i < 100; i++ {
		if x, y := a.next(), b.next(); x != y {
			t.Fatalf("step %d: %d != %d", i, x, y)
		}
	}
	if got, want := uuidFromName(""), mustUUID(t, "76931fac-9dab-2b36-c248-b87d6ae33f9a"); got != want {
		t.Fatalf("empty name uuid = %x, want %x", got, want)
	}
}

func TestNodeUUIDFile(t *testing.T) {
	tests := []struct {
		name    string
		content []byte // nil: no file
		want    []byte // nil: a fresh random v4
		wantErr string
	}{
		{name: "missing file creates one"},
		{name: "existing raw uuid", content: bytes.Repeat([]byte{0xab}, 16), want: bytes.Repeat([]byte{0xab}, 16)},
		{name: "binary bytes incl newline", content: []byte("d\xf3B0u\xe7H\xcb\x82O\xef\xe2\xc9\xc0\x9aZ"), want: []byte("d\xf3B0u\xe7H\xcb\x82O\xef\xe2\xc9\xc0\x9aZ")},
		{name: "short file is corrupt", content: []byte("short"), wantErr: "corrupt"},
		{name: "empty file is corrupt", content: []byte{}, wantErr: "corrupt"},
		{name: "long file is corrupt", content: bytes.Repeat([]byte{1}, 17), wantErr: "corrupt"},
		{name: "text uuid is corrupt", content: []byte("cc301fda-9190-a843-de51-a987ec340ccc\n"), wantErr: "corrupt"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			dir := filepath.Join(t.TempDir(), "state")
			path := filepath.Join(dir, UUIDFile)
			if tc.content != nil {
				if err := os.MkdirAll(dir, 0o700); err != nil {
					t.Fatal(err)
				}
				if err := os.WriteFile(path, tc.content, 0o644); err != nil {
					t.Fatal(err)
				}
			}
			got, err := NodeUUID(dir, "", "ignored")
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("err = %v, want %q", err, tc.wantErr)
				}
				b, _ := os.ReadFile(path)
				if !bytes.Equal(b, tc.content) {
					t.Fatalf("corrupt file was modified: %q", b)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if tc.want != nil {
				if !bytes.Equal(got[:], tc.want) {
					t.Fatalf("uuid = %x, want %x", got, tc.want)
				}
				return
			}
			if got[6]>>4 != 4 || got[8]>>6 != 2 {
				t.Fatalf("new uuid %x is not RFC 4122 v4", got)
			}
			st, err := os.Stat(path)
			if err != nil {
				t.Fatal(err)
			}
			if st.Mode().Perm() != 0o600 || st.Size() != 16 {
				t.Fatalf("hb_uuid mode %v size %d, want 0600 and 16", st.Mode().Perm(), st.Size())
			}
			again, err := NodeUUID(dir, UUIDFromFile, "other")
			if err != nil || again != got {
				t.Fatalf("second call = %x, %v; want the stored %x", again, err, got)
			}
		})
	}
}

func TestNodeUUIDBadArgs(t *testing.T) {
	if _, err := NodeUUID(t.TempDir(), "mac", "a"); err == nil {
		t.Fatal("unknown source accepted")
	}
	if _, err := NodeUUID(t.TempDir(), UUIDFromNodename, ""); err == nil {
		t.Fatal("empty node name accepted")
	}
}

func TestNodeUUIDConcurrentCreate(t *testing.T) {
	dir := t.TempDir()
	const n = 8
	res := make(chan [16]byte, n)
	errs := make(chan error, n)
	for i := 0; i < n; i++ {
		go func() {
			u, err := NodeUUID(dir, UUIDFromFile, "")
			res <- u
			errs <- err
		}()
	}
	first := <-res
	if err := <-errs; err != nil {
		t.Fatal(err)
	}
	for i := 1; i < n; i++ {
		if u := <-res; u != first {
			t.Fatalf("racing creators disagree: %x vs %x", u, first)
		}
		if err := <-errs; err != nil {
			t.Fatal(err)
		}
	}
}
