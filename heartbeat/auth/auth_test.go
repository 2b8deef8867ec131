package auth

import (
	"fmt"
	"sync"
	"testing"
)

func TestDigest(t *testing.T) {
	tests := []struct {
		name string
		key  Key
		data string
		want string
	}{
		{"crc check value", Key{Method: CRC}, "123456789", "765e7680"},
		{"hmac-md5 rfc2202", Key{Method: MD5, Secret: []byte("Jefe")}, "what do ya want for nothing?", "750c783e6ab0b503eaa86e310a5db738"},
		{"hmac-sha1 rfc2202", Key{Method: SHA1, Secret: []byte("Jefe")}, "what do ya want for nothing?", "effcdf6ae5eb2fa2d27416d5f184df9c259a7c79"},
		{"hmac-sha256 rfc4231", Key{Method: SHA256, Secret: []byte("Jefe")}, "what do ya want for nothing?", "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := tt.key.Digest([]byte(tt.data)); got != tt.want {
				t.Fatalf("Digest = %s, want %s", got, tt.want)
			}
		})
	}
}

func TestCRCNoPadding(t *testing.T) {
	// Heartbeat prints the crc with %lx: no zero padding. Find an input whose
	// crc has a leading zero nibble and check the digest is shorter than 8.
	for i := 0; i < 1000; i++ {
		d := []byte{byte(i), byte(i >> 8)}
		if CRC32POSIX(d) < 0x10000000 {
			if got := (Key{Method: CRC}).Digest(d); len(got) >= 8 {
				t.Fatalf("digest %q is zero padded", got)
			}
			return
		}
	}
	t.Fatal("no short crc found")
}

func TestKeyringVerify(t *testing.T) {
	kr, err := NewKeyring(1, Key{Index: 1, Method: MD5, Secret: []byte("s3cret")}, Key{Index: 2, Method: SHA1, Secret: []byte("other")})
	if err != nil {
		t.Fatal(err)
	}
	data := []byte("hello")
	tok := kr.Sign(data)
	if err := kr.Verify(tok, data); err != nil {
		t.Fatalf("own signature rejected: %v", err)
	}
	k2 := kr.Keys[2]
	if err := kr.Verify("2 "+k2.Digest(data), data); err != nil {
		t.Fatalf("index 2 signature rejected: %v", err)
	}
	for _, bad := range []string{"", "1", "x abc", "3 abcd", "1 " + k2.Digest(data), "2 " + kr.Keys[1].Digest(data)} {
		if err := kr.Verify(bad, data); err == nil {
			t.Errorf("Verify(%q) accepted", bad)
		}
	}
	if err := kr.Verify(tok, []byte("hellO")); err == nil {
		t.Error("tampered data accepted")
	}
	if _, err := NewKeyring(3, Key{Index: 1, Method: CRC}); err == nil {
		t.Error("keyring without its current key accepted")
	}
}

// The keyring reuses HMAC states: what it signs must stay exactly what a
// fresh HMAC gives, from many goroutines at once, and a key replaced
// under the same index must not be signed with its predecessor's state.
func TestKeyringReusesMACs(t *testing.T) {
	for _, m := range []Method{CRC, MD5, SHA1, SHA256} {
		t.Run(m.String(), func(t *testing.T) {
			k := Key{Index: 3, Method: m, Secret: []byte("reuse-" + m.String())}
			kr, err := NewKeyring(3, k)
			if err != nil {
				t.Fatal(err)
			}
			var wg sync.WaitGroup
			errs := make(chan error, 8)
			for g := 0; g < 8; g++ {
				wg.Add(1)
				go func() {
					defer wg.Done()
					for i := 0; i < 200; i++ {
						data := []byte(fmt.Sprintf("message %d from %d", i, g))
						tok := kr.Sign(data)
						if want := "3 " + k.Digest(data); tok != want {
							errs <- fmt.Errorf("Sign = %q, want %q", tok, want)
							return
						}
						if err := kr.Verify(tok, data); err != nil {
							errs <- err
							return
						}
					}
				}()
			}
			wg.Wait()
			close(errs)
			for err := range errs {
				t.Fatal(err)
			}
			if m == CRC {
				return
			}
			data := []byte("after the key changed")
			old := kr.Sign(data)
			k2 := Key{Index: 3, Method: m, Secret: []byte("another secret")}
			kr.Keys[3] = k2
			if got, want := kr.Sign(data), "3 "+k2.Digest(data); got != want || got == old {
				t.Fatalf("after replacing key 3: Sign = %q, want %q (old %q)", got, want, old)
			}
			if kr.Verify(old, data) == nil {
				t.Fatal("a signature by the replaced key still verifies")
			}
		})
	}
}

func TestKeyringEqual(t *testing.T) {
	k1 := Key{Index: 1, Method: SHA256, Secret: []byte("one")}
	k2 := Key{Index: 2, Method: MD5, Secret: []byte("two")}
	mk := func(cur int, keys ...Key) *Keyring {
		kr, err := NewKeyring(cur, keys...)
		if err != nil {
			t.Fatal(err)
		}
		return kr
	}
	a := mk(1, k1, k2)
	a.Sign([]byte("fills the cache")) // cached HMAC state is not part of the value
	if !a.Equal(mk(1, k1, k2)) {
		t.Error("same keys reported different")
	}
	for name, b := range map[string]*Keyring{
		"other current": mk(2, k1, k2),
		"key missing":   mk(1, k1),
		"other secret":  mk(1, k1, Key{Index: 2, Method: MD5, Secret: []byte("2")}),
		"other method":  mk(1, k1, Key{Index: 2, Method: SHA1, Secret: []byte("two")}),
		"nil":           nil,
	} {
		if a.Equal(b) {
			t.Errorf("%s: reported equal", name)
		}
	}
	var none *Keyring
	if !none.Equal(nil) {
		t.Error("nil keyrings differ")
	}
}
