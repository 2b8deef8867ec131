package control

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"time"
)

// writeTimeout bounds how long a client that does not read its responses
// can hold a connection goroutine.
const writeTimeout = 10 * time.Second

// drainTimeout bounds how long a refused connection is drained.
const drainTimeout = time.Second

func (s *Server) serveConn(c *net.UnixConn) {
	cred, err := peerCred(c)
	if err != nil {
		_ = writeResponse(c, errorResponse("cannot verify caller: "+err.Error()))
		return
	}
	if !allowedUID(cred.Uid, s.euid) {
		_ = writeResponse(c, errorResponse(fmt.Sprintf("permission denied: uid %d may not use the control socket", cred.Uid)))
		drain(c)
		return
	}
	sc := bufio.NewScanner(c)
	sc.Buffer(make([]byte, 0, 4096), MaxLine+1) // +1: the newline
	for sc.Scan() {
		line := bytes.TrimSpace(sc.Bytes())
		if len(line) == 0 {
			continue
		}
		if req, ok := streamRequest(line); ok {
			if h := s.streamHandler(req.Cmd); h != nil {
				s.serveStream(c, req, h)
				return
			}
		}
		if err := writeResponse(c, s.handle(line)); err != nil {
			return
		}
	}
	if errors.Is(sc.Err(), bufio.ErrTooLong) {
		// The rest of the line is unread; we cannot resynchronise.
		_ = writeResponse(c, errorResponse(fmt.Sprintf("request line longer than %d bytes", MaxLine)))
	}
}

// streamRequest decodes line for the streaming check; a bad line is left
// to handle, which answers it.
func streamRequest(line []byte) (Request, bool) {
	var req Request
	if err := json.Unmarshal(line, &req); err != nil || req.Cmd == "" {
		return req, false
	}
	return req, true
}

// handle decodes one request line and runs the handler on it.
func (s *Server) handle(line []byte) Response {
	var req Request
	if err := json.Unmarshal(line, &req); err != nil {
		return errorResponse("bad request: " + err.Error())
	}
	if req.Cmd == "" {
		return errorResponse("bad request: missing cmd")
	}
	return s.h(s.ctx, req)
}

// writeResponse sends one response line. A response that cannot be encoded
// (invalid Data, over the line limit) becomes an error response, so the
// client always gets exactly one line per request.
func writeResponse(c *net.UnixConn, r Response) error {
	b, err := encodeLine(r)
	if err != nil {
		b, err = encodeLine(errorResponse("internal error: cannot encode response: " + err.Error()))
		if err != nil {
			return err
		}
	}
	if err := c.SetWriteDeadline(time.Now().Add(writeTimeout)); err != nil {
		return err
	}
	_, err = c.Write(b)
	return err
}

// drain half-closes c and discards what the peer still sends, for at most
// drainTimeout. Closing a Unix socket with unread data resets the peer,
// which could lose the refusal we just wrote before the peer reads it.
func drain(c *net.UnixConn) {
	_ = c.CloseWrite()
	_ = c.SetReadDeadline(time.Now().Add(drainTimeout))
	_, _ = io.Copy(io.Discard, io.LimitReader(c, 2*MaxLine))
}
