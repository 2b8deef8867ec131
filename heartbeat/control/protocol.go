package control

import (
	"context"
	"encoding/json"
	"errors"
)

// MaxLine is the longest request or response line, newline excluded.
const MaxLine = 1 << 20

// SocketName is the control socket's file name inside the run directory.
const SocketName = "control.sock"

// Request is one command. Cmd names it (e.g. "status", "standby"); Args are
// its words.
type Request struct {
	Cmd  string   `json:"cmd"`
	Args []string `json:"args,omitempty"`
}

// Response answers one Request. Error is set when OK is false; Data is
// the command's result in a command-specific JSON shape.
type Response struct {
	OK    bool            `json:"ok"`
	Error string          `json:"error,omitempty"`
	Data  json.RawMessage `json:"data,omitempty"`
}

// Handler executes a request. It runs on the connection's goroutine, and
// ctx is cancelled when the server closes.
type Handler func(ctx context.Context, req Request) Response

// ErrNotRunning means no daemon listens on the control socket.
var ErrNotRunning = errors.New("heartbeat is not running")

// errorResponse is a failed Response with a message.
func errorResponse(msg string) Response {
	return Response{OK: false, Error: msg}
}

// encodeLine marshals v as one JSON line (newline included) no longer than
// MaxLine+1.
func encodeLine(v any) ([]byte, error) {
	b, err := json.Marshal(v)
	if err != nil {
		return nil, err
	}
	if len(b) > MaxLine {
		return nil, errors.New("message longer than the 1 MiB line limit")
	}
	return append(b, '\n'), nil
}
