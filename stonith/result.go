package stonith

import (
	"context"
	"errors"
	"strconv"
	"strings"
)

// Result is a cluster-glue STONITH return code (include/stonith/stonith.h),
// which is also the exit status of the `stonith` command.
type Result int

// The cluster-glue return codes, in their numeric order.
const (
	OK        Result = iota // S_OK: the machine was reset
	BadConfig               // S_BADCONFIG: bad configuration given
	Access                  // S_ACCESS: cannot access the device (login/password?)
	Inval                   // S_INVAL: bad or illegal argument
	BadHost                 // S_BADHOST: bad or illegal host/node name
	ResetFail               // S_RESETFAIL: the reset failed
	Timeout                 // S_TIMEOUT: timed out
	IsOff                   // S_ISOFF: cannot reboot, the outlet is off
	Oops                    // S_OOPS: something strange happened
)

var resultNames = [...]string{
	OK: "S_OK", BadConfig: "S_BADCONFIG", Access: "S_ACCESS", Inval: "S_INVAL",
	BadHost: "S_BADHOST", ResetFail: "S_RESETFAIL", Timeout: "S_TIMEOUT",
	IsOff: "S_ISOFF", Oops: "S_OOPS",
}

var resultText = [...]string{
	OK: "success", BadConfig: "bad configuration", Access: "cannot access device",
	Inval: "invalid argument", BadHost: "host not controlled by this device",
	ResetFail: "reset failed", Timeout: "timed out", IsOff: "outlet is off",
	Oops: "unexpected failure",
}

// String returns the cluster-glue name, e.g. "S_BADHOST".
func (r Result) String() string {
	if r >= 0 && int(r) < len(resultNames) {
		return resultNames[r]
	}
	return "S_" + strconv.Itoa(int(r))
}

// Error makes a Result usable as an errors.Is target:
// errors.Is(err, stonith.BadHost).
func (r Result) Error() string {
	if r >= 0 && int(r) < len(resultText) {
		return resultText[r]
	}
	return "result " + strconv.Itoa(int(r))
}

// resultFromExit maps a plugin or `stonith` exit status to a Result: 0-8
// are the codes themselves, anything else (e.g. 255 from `stonith -l`,
// -1 for a signal) is Oops.
func resultFromExit(code int) Result {
	if code >= int(OK) && code <= int(Oops) {
		return Result(code)
	}
	return Oops
}

// Error is a failed STONITH operation.
type Error struct {
	Device string // device name, e.g. "external/ssh"
	Op     string // "reset", "status", "gethosts", "config", ...
	Node   string // the node for reset, else ""
	Result Result // never OK
	Err    error  // the cause, may be nil
}

func (e *Error) Error() string {
	var b strings.Builder
	b.WriteString("stonith ")
	b.WriteString(e.Device)
	if e.Op != "" {
		b.WriteString(" ")
		b.WriteString(e.Op)
	}
	if e.Node != "" {
		b.WriteString(" ")
		b.WriteString(e.Node)
	}
	b.WriteString(": ")
	b.WriteString(e.Result.String())
	if e.Err != nil {
		b.WriteString(": ")
		b.WriteString(e.Err.Error())
	}
	return b.String()
}

// Unwrap returns the cause.
func (e *Error) Unwrap() error { return e.Err }

// Is matches the Result: errors.Is(err, stonith.ResetFail).
func (e *Error) Is(target error) bool {
	r, ok := target.(Result)
	return ok && r == e.Result
}

// ResultOf returns the Result an error stands for: OK for nil, the Result
// of the first *Error (or bare Result) in its tree, Timeout for a context
// deadline, Oops for anything else.
func ResultOf(err error) Result {
	if err == nil {
		return OK
	}
	var e *Error
	if errors.As(err, &e) {
		return e.Result
	}
	var r Result
	if errors.As(err, &r) {
		return r
	}
	if errors.Is(err, context.DeadlineExceeded) {
		return Timeout
	}
	return Oops
}

func newError(device, op, node string, r Result, err error) *Error {
	if r == OK {
		r = Oops
	}
	return &Error{Device: device, Op: op, Node: node, Result: r, Err: err}
}
