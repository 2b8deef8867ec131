package state

import (
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
)

func TestNextGeneration(t *testing.T) {
	const wall = 1_700_000_000
	tests := []struct {
		name    string
		file    *string // nil: no file
		method  string
		want    uint64
		wantErr string
	}{
		{name: "first start uses wall clock plus one", method: "file", want: wall + 1},
		{name: "empty method is file", method: "", file: ptr("            100\n"), want: 101},
		{name: "file increments stored", method: "file", file: ptr("     1795318641\n"), want: 1795318642},
		{name: "file ignores a later wall clock", method: "file", file: ptr("              5\n"), want: 6},
		{name: "time uses wall clock when later", method: "time", file: ptr("              5\n"), want: wall},
		{name: "time never goes backwards", method: "time", file: ptr("     1800000000\n"), want: 1800000001},
		{name: "time first start", method: "time", want: wall + 1},
		{name: "no newline, no padding", method: "file", file: ptr("42"), want: 43},
		{name: "wider than 15 columns", method: "file", file: ptr("1234567890123456\n"), want: 1234567890123457},
		{name: "empty file is corrupt", method: "file", file: ptr(""), wantErr: "corrupt"},
		{name: "garbage is corrupt", method: "file", file: ptr("  hello\n"), wantErr: "corrupt"},
		{name: "negative is corrupt", method: "file", file: ptr("-5\n"), wantErr: "corrupt"},
		{name: "two numbers are corrupt", method: "file", file: ptr("1 2\n"), wantErr: "corrupt"},
		{name: "overflow in file is corrupt", method: "file", file: ptr("99999999999999999999999\n"), wantErr: "corrupt"},
		{name: "maximum cannot increment", method: "file", file: ptr("18446744073709551615\n"), wantErr: "maximum"},
		{name: "oversized file is corrupt", method: "file", file: ptr(strings.Repeat(" ", 100) + "1\n"), wantErr: "corrupt"},
		{name: "unknown method", method: "random", wantErr: "generation method"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			path := filepath.Join(dir, GenerationFile)
			if tc.file != nil {
				if err := os.WriteFile(path, []byte(*tc.file), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			got, err := NextGeneration(dir, tc.method, wall)
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("err = %v, want it to contain %q", err, tc.wantErr)
				}
				// A failed call must leave the file exactly as it was.
				if tc.file != nil {
					b, rerr := os.ReadFile(path)
					if rerr != nil || string(b) != *tc.file {
						t.Fatalf("file changed after error: %q, %v", b, rerr)
					}
				}
				return
			}
			if err != nil {
				t.Fatalf("NextGeneration: %v", err)
			}
			if got != tc.want {
				t.Fatalf("generation = %d, want %d", got, tc.want)
			}
			b, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			if want := string(formatGeneration(tc.want)); string(b) != want {
				t.Fatalf("file = %q, want %q", b, want)
			}
		})
	}
}

func TestNextGenerationSequence(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "var", "lib", "heartbeat")
	var prev uint64
	for i := 0; i < 5; i++ {
		// A wall clock that steps backwards must not matter.
		g, err := NextGeneration(dir, GenMethodTime, int64(1000-i*100))
		if err != nil {
			t.Fatal(err)
		}
		if i > 0 && g != prev+1 {
			t.Fatalf("start %d: generation %d after %d", i, g, prev)
		}
		prev = g
	}
	st, err := os.Stat(dir)
	if err != nil {
		t.Fatal(err)
	}
	if st.Mode().Perm() != 0o700 {
		t.Fatalf("created dir mode %v, want 0700", st.Mode().Perm())
	}
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	if len(entries) != 1 || entries[0].Name() != GenerationFile {
		t.Fatalf("dir holds %v, want only %s (no temp files left)", entries, GenerationFile)
	}
}

func TestNextGenerationBadInputs(t *testing.T) {
	if _, err := NextGeneration(t.TempDir(), "file", -1); err == nil {
		t.Fatal("negative wall clock accepted")
	}
	// A directory where the file should be is reported, not replaced.
	dir := t.TempDir()
	if err := os.Mkdir(filepath.Join(dir, GenerationFile), 0o700); err != nil {
		t.Fatal(err)
	}
	if _, err := NextGeneration(dir, "file", 5); err == nil {
		t.Fatal("directory in place of hb_generation accepted")
	}
	// dir is a file.
	f := filepath.Join(t.TempDir(), "file")
	if err := os.WriteFile(f, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := NextGeneration(f, "file", 5); err == nil {
		t.Fatal("state dir that is a file accepted")
	}
}

func TestFormatGenerationMatchesHeartbeat(t *testing.T) {
	// 0x6b026371 observed in a capture, as Heartbeat writes it.
	got := string(formatGeneration(0x6b026371))
	if got != "     1795318641\n" || len(got) != 16 {
		t.Fatalf("format = %q", got)
	}
}

func FuzzParseGeneration(f *testing.F) {
	for _, s := range []string{"     1795318641\n", "", "1", " \n", "18446744073709551615\n", "x"} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		v, err := parseGeneration(b)
		if err != nil {
			return
		}
		// Whatever we accept must survive our own format unchanged.
		back, err := parseGeneration(formatGeneration(v))
		if err != nil || back != v {
			t.Fatalf("round trip of %d: %d, %v", v, back, err)
		}
	})
}

func ptr(s string) *string { return &s }

func TestStateDirIgnoresUmask(t *testing.T) {
	// Not parallel: the umask is process-wide.
	base := t.TempDir() // before the umask change
	old := syscall.Umask(0o277)
	defer syscall.Umask(old)
	dir := filepath.Join(base, "var", "lib", "heartbeat")
	if _, err := NextGeneration(dir, GenMethodFile, 10); err != nil {
		t.Fatal(err)
	}
	if _, err := NodeUUID(dir, UUIDFromFile, ""); err != nil {
		t.Fatal(err)
	}
	for path, want := range map[string]os.FileMode{
		filepath.Join(base, "var"):         0o700,
		dir:                                0o700,
		filepath.Join(dir, GenerationFile): 0o644,
		filepath.Join(dir, UUIDFile):       0o600,
	} {
		st, err := os.Stat(path)
		if err != nil {
			t.Fatal(err)
		}
		if st.Mode().Perm() != want {
			t.Errorf("%s: mode %v, want %v", path, st.Mode().Perm(), want)
		}
	}
}
