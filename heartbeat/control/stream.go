package control

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"path/filepath"
	"syscall"
	"time"
)

// StreamHandler serves a streaming request (hactl events): it calls send
// for every frame until ctx is done (the client closed the connection or
// the server is closing) or it has nothing more to say. A send error
// means the client is gone or stopped reading for writeTimeout: the
// handler should return. A returned error is the stream's last frame.
//
// The wire: the first line is a Response (OK, or the refusal); each frame
// is then a Response line with OK and the frame in Data; a stream the
// server ends with an error ends with a Response line with OK false and
// the Error. The connection is closed after the stream; a client ends the
// stream by closing its end.
type StreamHandler func(ctx context.Context, req Request, send func(frame any) error) error

// HandleStream makes cmd a streaming command served by h. Requests for cmd
// that arrive before HandleStream go to the ordinary handler.
func (s *Server) HandleStream(cmd string, h StreamHandler) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.streams == nil {
		s.streams = map[string]StreamHandler{}
	}
	s.streams[cmd] = h
}

func (s *Server) streamHandler(cmd string) StreamHandler {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.streams[cmd]
}

// serveStream runs h on c until it returns, the client closes its end or
// the server closes.
func (s *Server) serveStream(c *net.UnixConn, req Request, h StreamHandler) {
	ctx, cancel := context.WithCancel(s.ctx)
	defer cancel()
	// The client sends nothing more; its EOF (or any read error) ends the
	// stream, so a client that went away is noticed even while no event
	// comes.
	go func() {
		_, _ = io.Copy(io.Discard, c)
		cancel()
	}()
	if err := writeResponse(c, Response{OK: true}); err != nil {
		return
	}
	send := func(frame any) error {
		if ctx.Err() != nil {
			return ctx.Err()
		}
		b, err := json.Marshal(frame)
		if err != nil {
			return fmt.Errorf("encode frame: %w", err)
		}
		return writeResponse(c, Response{OK: true, Data: b})
	}
	if err := h(ctx, req, send); err != nil && ctx.Err() == nil {
		_ = writeResponse(c, errorResponse(err.Error()))
	}
}

// Stream sends a streaming request to the daemon serving runDir and calls
// frame with each frame's data, in order, until the daemon ends the stream
// (nil, or the daemon's error), frame returns an error (returned), or ctx
// is done (ctx's error, wrapped). A refusal is returned as an error. When
// no daemon listens the error wraps ErrNotRunning. connectTimeout bounds
// the connection and the first answer, not the stream.
func Stream(ctx context.Context, runDir string, req Request, connectTimeout time.Duration, frame func(data json.RawMessage) error) error {
	path := filepath.Join(runDir, SocketName)
	dctx, dcancel := context.WithTimeout(ctx, connectTimeout)
	defer dcancel()
	var d net.Dialer
	c, err := d.DialContext(dctx, "unix", path)
	if err != nil {
		if errors.Is(err, syscall.ENOENT) || errors.Is(err, syscall.ECONNREFUSED) {
			return fmt.Errorf("%w: %w", ErrNotRunning, err)
		}
		return fmt.Errorf("connect to %s: %w", path, err)
	}
	defer c.Close()
	stop := context.AfterFunc(ctx, func() { _ = c.SetDeadline(time.Unix(1, 0)) })
	defer stop()
	wrap := func(err error) error {
		if errors.Is(err, os.ErrDeadlineExceeded) && ctx.Err() != nil {
			return fmt.Errorf("control %q: %w", req.Cmd, ctx.Err())
		}
		return fmt.Errorf("control %q: %w", req.Cmd, err)
	}
	line, err := encodeLine(req)
	if err != nil {
		return wrap(err)
	}
	_ = c.SetDeadline(time.Now().Add(connectTimeout))
	_, werr := c.Write(line)
	sc := bufio.NewScanner(c)
	sc.Buffer(make([]byte, 0, 4096), MaxLine+1)
	first := true
	for sc.Scan() {
		var resp Response
		if err := json.Unmarshal(sc.Bytes(), &resp); err != nil {
			return wrap(fmt.Errorf("bad frame: %w", err))
		}
		if !resp.OK {
			return wrap(errors.New(resp.Error))
		}
		if first {
			first = false
			_ = c.SetDeadline(time.Time{}) // the stream may be quiet for hours
			if ctx.Err() != nil {
				return wrap(ctx.Err())
			}
			continue
		}
		if err := frame(resp.Data); err != nil {
			return err
		}
	}
	switch {
	case sc.Err() != nil:
		return wrap(sc.Err())
	case first && werr != nil:
		return wrap(werr)
	case first:
		return wrap(errors.New("daemon closed the connection without answering"))
	}
	return nil
}
