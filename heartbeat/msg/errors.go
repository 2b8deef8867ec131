package msg

import (
	"errors"
	"fmt"
)

// Sentinel errors of the wire codec. Every error returned by Decode and Parse
// wraps exactly one of them (test with errors.Is) and adds detail: where in
// the message the problem is and what was expected.
var (
	// ErrMalformed: the bytes are not a well-formed message in either wire form.
	ErrMalformed = errors.New("malformed heartbeat message")
	// ErrAuth: the message is signed but the signature does not verify
	// (wrong key, unknown key index, tampered content, bad token).
	ErrAuth = errors.New("heartbeat message authentication failed")
	// ErrNoAuth: the message carries no signature at all (no netstring
	// trailer, or no auth field in a classic message).
	ErrNoAuth = errors.New("heartbeat message is not signed")
	// ErrTooLarge: the message exceeds MaxWire bytes or MaxFields fields.
	ErrTooLarge = errors.New("heartbeat message too large")
)

// wireError attaches detail to one of the sentinels without losing it.
type wireError struct {
	kind   error
	detail string
}

func (e *wireError) Error() string { return e.kind.Error() + ": " + e.detail }
func (e *wireError) Unwrap() error { return e.kind }

func malformed(format string, args ...any) error {
	return &wireError{kind: ErrMalformed, detail: fmt.Sprintf(format, args...)}
}

func tooLarge(format string, args ...any) error {
	return &wireError{kind: ErrTooLarge, detail: fmt.Sprintf(format, args...)}
}

// within adds context (which field, which nesting level) in front of the
// detail of err, keeping the sentinel first in the message.
func within(err error, format string, args ...any) error {
	var we *wireError
	if errors.As(err, &we) {
		return &wireError{kind: we.kind, detail: fmt.Sprintf(format, args...) + ": " + we.detail}
	}
	return fmt.Errorf(format+": %w", append(args, err)...)
}
