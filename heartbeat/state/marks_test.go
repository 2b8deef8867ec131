package state

import (
	"os"
	"path/filepath"
	"reflect"
	"testing"
)

func TestMarksRoundTrip(t *testing.T) {
	dir := t.TempDir()
	got, err := LoadMarks(dir)
	if err != nil || len(got) != 0 {
		t.Fatalf("missing file: %v %v", got, err)
	}
	want := map[string]PeerMark{"node2": {Gen: 0x6b026359, Seq: 42}}
	if err := SaveMarks(dir, want); err != nil {
		t.Fatal(err)
	}
	got, err = LoadMarks(dir)
	if err != nil || !reflect.DeepEqual(got, want) {
		t.Fatalf("got %v %v, want %v", got, err, want)
	}
	fi, err := os.Stat(filepath.Join(dir, marksFile))
	if err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("mode %v %v", fi.Mode(), err)
	}
	if err := os.WriteFile(filepath.Join(dir, marksFile), []byte("{garbage"), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := LoadMarks(dir); err == nil {
		t.Fatal("corrupt marks accepted")
	}
}
