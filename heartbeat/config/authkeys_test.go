package config

import (
	"fmt"
	"os"
	"strings"
	"testing"

	"github.com/hasuite/hasuite/heartbeat/auth"
)

func TestParseAuthkeys(t *testing.T) {
	tests := []struct {
		name    string
		in      string
		current int
		methods map[int]auth.Method
		line    int    // line of the expected error
		err     string // substring of the expected error
		warn    string // substring of an expected warning
	}{
		{name: "heartbeat order", in: "auth 1\n1 sha1 Sha1Key!\n", current: 1, methods: map[int]auth.Method{1: auth.SHA1}, warn: "note: key 1 signs with sha1"},
		{name: "auth line last", in: "# keys\n\n2 sha256 k2\n  1 md5 s3cret\nauth 2\r\n", current: 2, methods: map[int]auth.Method{1: auth.MD5, 2: auth.SHA256}},
		{name: "key with hash sign", in: "auth 0\n0 sha256 a#b\n", current: 0, methods: map[int]auth.Method{0: auth.SHA256}},
		{name: "crc signs", in: "auth 3\n3 crc\n", current: 3, methods: map[int]auth.Method{3: auth.CRC}, warn: "key 3 signs with crc, which authenticates nothing"},
		{name: "crc accepted", in: "auth 1\n1 sha256 x\n2 CRC\n", current: 1, methods: map[int]auth.Method{1: auth.SHA256, 2: auth.CRC}, warn: "key 2 uses crc"},
		{name: "index 15", in: "auth 15\n15 sha256 x\n", current: 15, methods: map[int]auth.Method{15: auth.SHA256}},
		{name: "crc with key", in: "auth 1\n1 crc secret\n", line: 2, err: "crc takes no key"},
		{name: "md5 without key", in: "auth 1\n1 md5\n", line: 2, err: "md5 needs a key"},
		{name: "sha256 without key", in: "auth 1\n1 sha256\n", line: 2, err: "sha256 needs a key"},
		{name: "key with blanks", in: "auth 1\n1 sha256 two words\n", line: 2, err: "one word without blanks"},
		{name: "unknown method", in: "auth 1\n1 rot13 x\n", line: 2, err: "key 1: unknown method"},
		{name: "missing method", in: "auth 1\n1\n", line: 2, err: "missing method"},
		{name: "index 16", in: "auth 1\n1 md5 x\n16 md5 y\n", line: 3, err: "key index 16 is out of range 0-15"},
		{name: "negative index", in: "auth 1\n1 md5 x\n-1 md5 y\n", line: 3, err: "neither"},
		{name: "unknown line", in: "auth 1\n1 md5 x\nkey 2 md5 y\n", line: 3, err: "neither \"auth <n>\""},
		{name: "auth junk", in: "auth one\n1 md5 x\n", line: 1, err: "auth: key index"},
		{name: "auth two values", in: "auth 1 2\n1 md5 x\n", line: 1, err: "want \"auth <n>\""},
		{name: "auth twice", in: "auth 1\n1 md5 x\nauth 1\n", line: 3, err: "auth given twice (first at line 1)"},
		{name: "index twice", in: "auth 1\n1 md5 x\n1 sha1 y\n", line: 3, err: "key 1 defined twice"},
		{name: "auth selects missing key", in: "auth 2\n1 md5 x\n", line: 1, err: "selects a key that is not configured"},
		{name: "no auth line", in: "1 md5 x\n", line: 0, err: "no \"auth <n>\" line"},
		{name: "empty", in: "# nothing\n", line: 0, err: "no key defined"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			kr, warnings, err := ParseAuthkeys(strings.NewReader(tc.in), "authkeys")
			if tc.err != "" {
				wantDiag(t, err, "authkeys", tc.line, tc.err)
				// The secrets used in this table must never be echoed.
				for _, secret := range []string{"secret", "two words", "s3cret"} {
					if strings.Contains(err.Error(), secret) {
						t.Errorf("error quotes key material %q: %v", secret, err)
					}
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if kr.Current != tc.current || len(kr.Keys) != len(tc.methods) {
				t.Fatalf("keyring %+v", kr)
			}
			for i, m := range tc.methods {
				if kr.Keys[i].Method != m {
					t.Errorf("key %d method %v, want %v", i, kr.Keys[i].Method, m)
				}
			}
			if tc.warn != "" && !hasDiag(warnings, tc.warn) {
				t.Errorf("no warning %q in %v", tc.warn, warnings)
			}
			if tc.warn == "" && len(warnings) > 0 {
				t.Errorf("unexpected warnings %v", warnings)
			}
		})
	}
}

func TestAuthkeysSecretIsTheWholeToken(t *testing.T) {
	kr, _, err := ParseAuthkeys(strings.NewReader("auth 1\n1 md5 s3cret\n"), "authkeys")
	if err != nil {
		t.Fatal(err)
	}
	if got := string(kr.Keys[1].Secret); got != "s3cret" {
		t.Errorf("secret %q", got)
	}
}

func TestLoadAuthkeysPermissions(t *testing.T) {
	const keys = "auth 1\n1 sha256 secret\n"
	tests := []struct {
		mode os.FileMode
		ok   bool
	}{
		{0o600, true},
		{0o400, true},
		{0o700, true},
		{0o620, true}, // group-writable but not readable: Heartbeat only checks reading
		{0o640, false},
		{0o604, false},
		{0o644, false},
	}
	for _, tc := range tests {
		t.Run(tc.mode.String(), func(t *testing.T) {
			path := writeFile(t, t.TempDir(), "authkeys", keys, tc.mode)
			kr, _, err := LoadAuthkeys(path)
			if tc.ok {
				if err != nil || kr == nil {
					t.Fatalf("mode %04o refused: %v", tc.mode, err)
				}
				return
			}
			wantDiag(t, err, path, 0, "bad permissions")
			if !strings.Contains(err.Error(), "chmod 600 "+path) || !strings.Contains(err.Error(), fmtMode(tc.mode)) {
				t.Errorf("message should name the mode and the fix: %v", err)
			}
		})
	}
}

// fmtMode writes a mode the way the message must: four octal digits.
func fmtMode(m os.FileMode) string { return fmt.Sprintf("%04o", m.Perm()) }

func TestLoadAuthkeysMissing(t *testing.T) {
	path := t.TempDir() + "/authkeys"
	_, _, err := LoadAuthkeys(path)
	wantDiag(t, err, path, 0, "cannot read the keys: no such file or directory")
}

func TestLoadAuthkeysNotRegular(t *testing.T) {
	dir := t.TempDir()
	if err := os.Mkdir(dir+"/authkeys", 0o700); err != nil {
		t.Fatal(err)
	}
	_, _, err := LoadAuthkeys(dir + "/authkeys")
	wantDiag(t, err, dir+"/authkeys", 0, "not a regular file")
}
