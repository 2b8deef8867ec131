package config

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/hasuite/hasuite/heartbeat/auth"
)

// keyEntry is one key as read from authkeys or from ha.toml's [auth].
type keyEntry struct {
	key auth.Key
	pos Pos
}

// keySpec is a whole key set before it becomes a Keyring.
type keySpec struct {
	file       string
	current    int
	currentPos Pos
	hasCurrent bool
	keys       []keyEntry
	keyLines   int // key lines seen, valid or not
}

// ParseAuthkeys parses an authkeys file:
//
//	auth <n>               # the key that signs outgoing messages
//	<n> crc                # no key
//	<n> md5|sha1|sha256 <key>
//
// Indices are 0-15; '#' starts a comment only at the start of a line (keys
// may contain '#'). Unlike Heartbeat, the auth line may come anywhere, a
// key with blanks in it is an error instead of being cut at the first blank,
// and an index or auth line given twice is an error. Messages never quote
// key material. The warnings are about weak methods.
func ParseAuthkeys(r io.Reader, file string) (*auth.Keyring, []Diag, error) {
	ks := keySpec{file: file}
	var errs []Diag
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 0, 1024), maxLine)
	n := 0
	for sc.Scan() {
		n++
		pos := Pos{File: file, Line: n}
		f := fields(sc.Text())
		if len(f) == 0 || strings.HasPrefix(f[0], "#") {
			continue
		}
		if f[0] == "auth" {
			errs = ks.addAuthLine(pos, f, errs)
			continue
		}
		ks.keyLines++
		idx, err := parseInt(f[0], 0, auth.MaxIndex)
		if err != nil {
			if strings.Trim(f[0], "0123456789") == "" {
				errs = append(errs, Diag{Pos: pos, Msg: fmt.Sprintf("key index %s is out of range 0-%d", f[0], auth.MaxIndex)})
			} else {
				errs = append(errs, Diag{Pos: pos, Msg: "line is neither \"auth <n>\" nor \"<n> <method> [<key>]\""})
			}
			continue
		}
		if len(f) < 2 {
			errs = append(errs, Diag{Pos: pos, Msg: fmt.Sprintf("key %d: missing method (crc, md5, sha1 or sha256)", idx)})
			continue
		}
		secret := ""
		if len(f) > 2 {
			secret = f[2]
		}
		if len(f) > 3 {
			errs = append(errs, Diag{Pos: pos, Msg: fmt.Sprintf("key %d: the key must be one word without blanks (Heartbeat would silently use only its first word)", idx)})
			continue
		}
		errs = ks.addKey(pos, idx, f[1], secret, errs)
	}
	if err := sc.Err(); err != nil {
		if errors.Is(err, bufio.ErrTooLong) {
			errs = append(errs, Diag{Pos: Pos{File: file, Line: n + 1}, Msg: fmt.Sprintf("line longer than %d bytes", maxLine)})
		} else {
			errs = append(errs, Diag{Pos: Pos{File: file}, Msg: fmt.Sprintf("read: %v", err)})
		}
	}
	return ks.keyring(errs)
}

func (ks *keySpec) addAuthLine(pos Pos, f []string, errs []Diag) []Diag {
	if len(f) != 2 {
		return append(errs, Diag{Pos: pos, Msg: "want \"auth <n>\" with one key index"})
	}
	idx, err := parseInt(f[1], 0, auth.MaxIndex)
	if err != nil {
		return append(errs, Diag{Pos: pos, Msg: fmt.Sprintf("auth: key index %v", err)})
	}
	if ks.hasCurrent {
		return append(errs, Diag{Pos: pos, Msg: fmt.Sprintf("auth given twice (first at line %d)", ks.currentPos.Line)})
	}
	ks.current, ks.currentPos, ks.hasCurrent = idx, pos, true
	return errs
}

// addKey checks one key. method and secret are as written.
func (ks *keySpec) addKey(pos Pos, idx int, method, secret string, errs []Diag) []Diag {
	m, err := auth.ParseMethod(method)
	if err != nil {
		// The word is not quoted: it may be a key written without its
		// method.
		return append(errs, Diag{Pos: pos, Msg: fmt.Sprintf("key %d: unknown method (want crc, md5, sha1 or sha256)", idx)})
	}
	switch {
	case !m.NeedsKey() && secret != "":
		return append(errs, Diag{Pos: pos, Msg: fmt.Sprintf("key %d: crc takes no key", idx)})
	case m.NeedsKey() && secret == "":
		return append(errs, Diag{Pos: pos, Msg: fmt.Sprintf("key %d: %s needs a key", idx, m)})
	}
	for _, k := range ks.keys {
		if k.key.Index == idx {
			return append(errs, Diag{Pos: pos, Msg: fmt.Sprintf("key %d defined twice (first at %s)", idx, k.pos)})
		}
	}
	ks.keys = append(ks.keys, keyEntry{auth.Key{Index: idx, Method: m, Secret: []byte(secret)}, pos})
	return errs
}

// keyring checks the set as a whole and builds the Keyring, with warnings
// about weak methods.
func (ks *keySpec) keyring(errs []Diag) (*auth.Keyring, []Diag, error) {
	filePos := Pos{File: ks.file}
	if ks.keyLines == 0 {
		errs = append(errs, Diag{Pos: filePos, Msg: "no key defined: add e.g. \"1 sha256 <key>\""})
	}
	if !ks.hasCurrent {
		errs = append(errs, Diag{Pos: filePos, Msg: "no \"auth <n>\" line selects the signing key"})
	}
	var kr *auth.Keyring
	if len(errs) == 0 {
		keys := make([]auth.Key, len(ks.keys))
		for i, k := range ks.keys {
			keys[i] = k.key
		}
		var err error
		if kr, err = auth.NewKeyring(ks.current, keys...); err != nil {
			errs = append(errs, Diag{Pos: ks.currentPos, Msg: err.Error()})
		}
	}
	if len(errs) > 0 {
		sortDiags(errs)
		return nil, nil, ErrorList(errs)
	}
	return kr, ks.warnings(), nil
}

func (ks *keySpec) warnings() []Diag {
	var w []Diag
	for _, k := range ks.keys {
		signing := k.key.Index == ks.current
		switch {
		case k.key.Method == auth.CRC && signing:
			w = append(w, Diag{Pos: k.pos, Msg: fmt.Sprintf("key %d signs with crc, which authenticates nothing: anyone can forge packets; use sha256", k.key.Index)})
		case k.key.Method == auth.CRC:
			w = append(w, Diag{Pos: k.pos, Msg: fmt.Sprintf("key %d uses crc: packets signed with it are accepted, and crc authenticates nothing; remove it or use sha256", k.key.Index)})
		case signing && (k.key.Method == auth.MD5 || k.key.Method == auth.SHA1):
			w = append(w, Diag{Pos: k.pos, Msg: fmt.Sprintf("note: key %d signs with %s: fine for Heartbeat peers; use sha256 when every node runs this suite", k.key.Index, k.key.Method)})
		}
	}
	sortDiags(w)
	return w
}

// LoadAuthkeys reads an authkeys file. Like Heartbeat it refuses a file
// that group or others can read; the error names the mode and the fix.
func LoadAuthkeys(path string) (*auth.Keyring, []Diag, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, nil, ErrorList{{Pos: Pos{File: path}, Msg: fmt.Sprintf("cannot read the keys: %v", cause(err))}}
	}
	defer f.Close()
	// fstat the open file, not the path, so that the mode checked is the
	// mode of the file read.
	fi, err := f.Stat()
	if err != nil {
		return nil, nil, ErrorList{{Pos: Pos{File: path}, Msg: fmt.Sprintf("stat: %v", err)}}
	}
	if err := checkPrivate(path, fi); err != nil {
		return nil, nil, err
	}
	return ParseAuthkeys(f, path)
}

// checkPrivate refuses key files that are not regular files or that group
// or others may read.
func checkPrivate(path string, fi os.FileInfo) error {
	if !fi.Mode().IsRegular() {
		return ErrorList{{Pos: Pos{File: path}, Msg: "not a regular file"}}
	}
	if perm := fi.Mode().Perm(); perm&0o044 != 0 {
		return ErrorList{{Pos: Pos{File: path}, Msg: fmt.Sprintf("bad permissions %04o: group or others can read the keys; run chmod 600 %s", perm, path)}}
	}
	return nil
}
