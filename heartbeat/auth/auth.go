// Package auth signs and verifies Heartbeat messages with the methods of
// Heartbeat 3.0.6's authkeys file (crc, md5, sha1) plus sha256, our default
// for new clusters.
//
// md5, sha1 and sha256 are RFC 2104 HMACs keyed with the key string's bytes;
// crc is CRC-32/POSIX (MSB-first, init 0, final xor) printed with %x and no
// zero padding, exactly as Heartbeat's crc plugin prints it. crc
// authenticates nothing: anybody can compute it.
package auth

import (
	"bytes"
	"crypto/hmac"
	"crypto/md5"
	"crypto/sha1"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/hex"
	"fmt"
	"hash"
	"strconv"
	"strings"
	"sync"
)

// Method is a signing algorithm.
type Method int

// The supported methods. Their String forms are the authkeys words.
const (
	CRC Method = iota + 1
	MD5
	SHA1
	SHA256
)

// MaxIndex is the highest key index authkeys accepts (Heartbeat's MAXAUTH-1).
const MaxIndex = 15

func (m Method) String() string {
	switch m {
	case CRC:
		return "crc"
	case MD5:
		return "md5"
	case SHA1:
		return "sha1"
	case SHA256:
		return "sha256"
	}
	return "method(" + strconv.Itoa(int(m)) + ")"
}

// ParseMethod maps an authkeys method word to a Method.
func ParseMethod(s string) (Method, error) {
	switch strings.ToLower(s) {
	case "crc":
		return CRC, nil
	case "md5":
		return MD5, nil
	case "sha1":
		return SHA1, nil
	case "sha256":
		return SHA256, nil
	}
	return 0, fmt.Errorf("unknown authentication method %q (want crc, md5, sha1 or sha256)", s)
}

// NeedsKey reports whether the method takes a secret.
func (m Method) NeedsKey() bool { return m != CRC }

// Key is one authkeys entry.
type Key struct {
	Index  int
	Method Method
	Secret []byte
}

// Digest returns the lower-case hex digest of data under this key.
func (k Key) Digest(data []byte) string {
	if k.Method == CRC {
		return strconv.FormatUint(uint64(CRC32POSIX(data)), 16)
	}
	newHash := k.Method.newHash()
	if newHash == nil {
		return ""
	}
	return hexMAC(hmac.New(newHash, k.Secret), data)
}

// newHash is the hash function of an HMAC method (nil for crc and unknown).
func (m Method) newHash() func() hash.Hash {
	switch m {
	case MD5:
		return md5.New
	case SHA1:
		return sha1.New
	case SHA256:
		return sha256.New
	}
	return nil
}

func hexMAC(mac hash.Hash, data []byte) string {
	mac.Write(data)
	var sum [sha256.Size]byte
	return hex.EncodeToString(mac.Sum(sum[:0]))
}

// Keyring is the parsed authkeys file: the index used to sign and every
// configured key, each of which is accepted on input.
type Keyring struct {
	Current int
	Keys    map[int]Key

	// macs keeps keyed HMAC states for reuse, per key index: a node signs
	// and checks a couple of hundred messages a second at keepalive 10ms,
	// and a fresh HMAC each time (two hash states, the key schedule) was
	// most of the garbage the daemon made.
	macs sync.Map // int -> *macPool
}

// macPool holds reusable HMAC states for one key.
type macPool struct {
	method Method
	secret string
	pool   sync.Pool
}

// digest is k.Digest, with an HMAC state reused from the keyring's pool.
func (kr *Keyring) digest(k Key, data []byte) string {
	newHash := k.Method.newHash()
	if newHash == nil {
		return k.Digest(data)
	}
	v, ok := kr.macs.Load(k.Index)
	mp, _ := v.(*macPool)
	if !ok || mp.method != k.Method || mp.secret != string(k.Secret) {
		// First use, or the key under this index was replaced.
		mp = &macPool{method: k.Method, secret: string(k.Secret)}
		secret := append([]byte(nil), k.Secret...)
		mp.pool.New = func() any { return hmac.New(newHash, secret) }
		kr.macs.Store(k.Index, mp)
	}
	mac := mp.pool.Get().(hash.Hash)
	mac.Reset()
	out := hexMAC(mac, data)
	mp.pool.Put(mac)
	return out
}

// NewKeyring builds a keyring that signs with key current.
func NewKeyring(current int, keys ...Key) (*Keyring, error) {
	kr := &Keyring{Current: current, Keys: map[int]Key{}}
	for _, k := range keys {
		if k.Index < 0 || k.Index > MaxIndex {
			return nil, fmt.Errorf("key index %d out of range 0-%d", k.Index, MaxIndex)
		}
		kr.Keys[k.Index] = k
	}
	if _, ok := kr.Keys[current]; !ok {
		return nil, fmt.Errorf("auth %d selects a key that is not configured", current)
	}
	return kr, nil
}

// Signer returns the key used to sign outgoing messages.
func (kr *Keyring) Signer() Key { return kr.Keys[kr.Current] }

// Sign returns the "<index> <hex>" token Heartbeat writes in both the inner
// auth field and the netstring trailer.
func (kr *Keyring) Sign(data []byte) string {
	k := kr.Signer()
	return strconv.Itoa(k.Index) + " " + kr.digest(k, data)
}

// Verify checks a "<index> <hex>" token against data. Unlike Heartbeat 3.0.6
// (which verifies other indices with the current key, reference §2.4) each
// index is checked with its own key, so key rotation works; the real peer's
// quirk only matters to what it accepts from us, and we sign with Current.
func (kr *Keyring) Verify(token string, data []byte) error {
	idxStr, digest, ok := strings.Cut(strings.TrimSpace(token), " ")
	if !ok {
		return fmt.Errorf("malformed auth token %q", token)
	}
	idx, err := strconv.Atoi(idxStr)
	if err != nil {
		return fmt.Errorf("malformed auth index %q", idxStr)
	}
	k, ok := kr.Keys[idx]
	if !ok {
		return fmt.Errorf("auth index %d is not configured", idx)
	}
	want := kr.digest(k, data)
	if subtle.ConstantTimeCompare([]byte(want), []byte(strings.TrimSpace(digest))) != 1 {
		return fmt.Errorf("%s signature (index %d) does not match", k.Method, idx)
	}
	return nil
}

// Equal reports whether two keyrings sign and accept the same: same
// current index, same keys. (Not reflect.DeepEqual: the HMAC states a
// keyring has cached are no part of its value.)
func (kr *Keyring) Equal(o *Keyring) bool {
	if kr == nil || o == nil {
		return kr == o
	}
	if kr.Current != o.Current || len(kr.Keys) != len(o.Keys) {
		return false
	}
	for i, k := range kr.Keys {
		ok, found := o.Keys[i]
		if !found || ok.Index != k.Index || ok.Method != k.Method || !bytes.Equal(ok.Secret, k.Secret) {
			return false
		}
	}
	return true
}

// Weak reports whether any configured key uses crc, which authenticates nothing.
func (kr *Keyring) Weak() bool {
	for _, k := range kr.Keys {
		if k.Method == CRC {
			return true
		}
	}
	return false
}

var crcTable = func() (t [256]uint32) {
	for i := range t {
		c := uint32(i) << 24
		for j := 0; j < 8; j++ {
			if c&0x80000000 != 0 {
				c = c<<1 ^ 0x04C11DB7
			} else {
				c <<= 1
			}
		}
		t[i] = c
	}
	return t
}()

// CRC32POSIX is CRC-32 with polynomial 0x04C11DB7, not reflected, init 0 and
// final xor 0xFFFFFFFF. Go's hash/crc32 is the reflected variant and gives
// different values, so it cannot be used here.
func CRC32POSIX(data []byte) uint32 {
	var c uint32
	for _, b := range data {
		c = c<<8 ^ crcTable[byte(c>>24)^b]
	}
	return ^c
}
