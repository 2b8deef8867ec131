package msg

import (
	"bytes"

	"github.com/hasuite/hasuite/heartbeat/auth"
)

// Limits on hostile input. Heartbeat v1 messages have about a dozen fields
// and no nesting; the limits only bound memory and recursion.
const (
	// MaxWire is the largest wire message (Heartbeat's MAXMSG).
	MaxWire = 256 * 1024
	// MaxDepth is the deepest nesting of struct fields: the top-level
	// message is at depth 0 and a struct field of a message at depth d holds
	// a message at depth d+1 <= MaxDepth. It equals the number of classic
	// newline substitutes Heartbeat defines (its MAXDEPTH).
	MaxDepth = 16
	// MaxFields bounds the number of fields in a message, counted over all
	// nesting levels.
	MaxFields = 4096
)

// Markers of the two wire forms.
const (
	netstringStart = "###\n"
	netstringEnd   = "%%%\n"
	classicStart   = ">>>\n"
	classicEnd     = "<<<\n"
)

type wireFormat uint8

const (
	formatNetstring wireFormat = iota + 1
	formatClassic
)

// Decode parses a received message in either wire form and authenticates
// it: a netstring message ("###\n") by its trailer only, like Heartbeat
// (an inner auth field is then ignored), a classic message (">>>\n") by its
// inner auth field. Leading newlines and one trailing NUL (glue <= 1.0.9
// sent one over UDP) are tolerated.
//
// The result has no top-level auth field, so it can be re-encoded as is.
// Its values do not alias b. Errors wrap ErrTooLarge, ErrMalformed,
// ErrNoAuth or ErrAuth; a nil keyring fails with ErrAuth.
func Decode(b []byte, kr *auth.Keyring) (*Message, error) {
	body, f, err := frame(b)
	if err != nil {
		return nil, err
	}
	if kr == nil {
		return nil, &wireError{kind: ErrAuth, detail: "no keyring to verify with"}
	}
	var m *Message
	if f == formatNetstring {
		w, err := parseNetstringWire(body)
		if err != nil {
			return nil, err
		}
		if !w.signed {
			return nil, &wireError{kind: ErrNoAuth, detail: "netstring message has no auth trailer"}
		}
		if err := kr.Verify(string(w.trailer), body[:w.signedLen]); err != nil {
			return nil, &wireError{kind: ErrAuth, detail: "trailer: " + err.Error()}
		}
		m = w.msg
	} else {
		if m, err = parseClassicWire(body); err != nil {
			return nil, err
		}
		if err := verifyClassic(m, kr); err != nil {
			return nil, err
		}
	}
	m.Del(FAuth)
	return m, nil
}

// verifyClassic checks the inner auth field, which signs the classic text
// of every other field. Like Heartbeat it uses the first field called auth
// and requires it to be a string.
func verifyClassic(m *Message, kr *auth.Keyring) error {
	i := m.index(FAuth)
	if i < 0 || m.Fields[i].Type != String {
		return &wireError{kind: ErrNoAuth, detail: "classic message has no auth field"}
	}
	text := m.AppendClassicFields(make([]byte, 0, 512))
	if err := kr.Verify(string(m.Fields[i].Value), text); err != nil {
		return &wireError{kind: ErrAuth, detail: "auth field: " + err.Error()}
	}
	return nil
}

// Parse parses a message in either wire form without authenticating it,
// for tools and tests. Any auth field is kept; a netstring trailer is
// optional but must be well formed when present. Values do not alias b.
// Errors wrap ErrTooLarge or ErrMalformed.
func Parse(b []byte) (*Message, error) {
	body, f, err := frame(b)
	if err != nil {
		return nil, err
	}
	if f == formatNetstring {
		w, err := parseNetstringWire(body)
		if err != nil {
			return nil, err
		}
		return w.msg, nil
	}
	return parseClassicWire(body)
}

// frame enforces the size limit, strips the tolerated framing noise and
// tells which form the rest is in.
func frame(b []byte) ([]byte, wireFormat, error) {
	if len(b) > MaxWire {
		return nil, 0, tooLarge("%d bytes, limit %d", len(b), MaxWire)
	}
	for len(b) > 0 && b[0] == '\n' {
		b = b[1:]
	}
	if n := len(b); n > 0 && b[n-1] == 0 {
		b = b[:n-1]
	}
	switch {
	case bytes.HasPrefix(b, []byte(netstringStart)):
		return b, formatNetstring, nil
	case bytes.HasPrefix(b, []byte(classicStart)):
		return b, formatClassic, nil
	}
	return nil, 0, malformed("starts with neither %q nor %q", netstringStart, classicStart)
}

// decoder carries the field budget through one parse, so that the limit
// covers all nesting levels together.
type decoder struct {
	fields int
}

func (d *decoder) take() error {
	if d.fields >= MaxFields {
		return tooLarge("more than %d fields", MaxFields)
	}
	d.fields++
	return nil
}
