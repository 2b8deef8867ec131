package control

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"syscall"
	"time"
)

// Call sends one request to the daemon serving runDir and returns its
// response. ctx bounds the whole exchange. When no daemon listens (no
// socket, or a stale one) the error wraps ErrNotRunning.
func Call(ctx context.Context, runDir string, req Request) (Response, error) {
	path := filepath.Join(runDir, SocketName)
	var d net.Dialer
	c, err := d.DialContext(ctx, "unix", path)
	if err != nil {
		if errors.Is(err, syscall.ENOENT) || errors.Is(err, syscall.ECONNREFUSED) {
			return Response{}, fmt.Errorf("%w: %w", ErrNotRunning, err)
		}
		return Response{}, fmt.Errorf("connect to %s: %w", path, err)
	}
	defer c.Close()
	if dl, ok := ctx.Deadline(); ok {
		_ = c.SetDeadline(dl)
	}
	// Cancellation without a deadline: make pending IO fail at once.
	stop := context.AfterFunc(ctx, func() { _ = c.SetDeadline(time.Unix(1, 0)) })
	defer stop()

	resp, err := exchange(c, req)
	if err != nil {
		if errors.Is(err, os.ErrDeadlineExceeded) {
			// Our deadlines come only from ctx (its deadline or the
			// AfterFunc), so ctx is done or about to be.
			<-ctx.Done()
		}
		if ctx.Err() != nil {
			return Response{}, fmt.Errorf("control %q: %w", req.Cmd, ctx.Err())
		}
		return Response{}, fmt.Errorf("control %q: %w", req.Cmd, err)
	}
	return resp, nil
}

func exchange(c net.Conn, req Request) (Response, error) {
	line, err := encodeLine(req)
	if err != nil {
		return Response{}, err
	}
	_, werr := c.Write(line)
	// Even if the write failed, the daemon may have answered (a refusal)
	// before closing: prefer that answer to the bare write error.
	sc := bufio.NewScanner(c)
	sc.Buffer(make([]byte, 0, 4096), MaxLine+1)
	if !sc.Scan() {
		if werr != nil {
			return Response{}, werr
		}
		if err := sc.Err(); err != nil {
			return Response{}, fmt.Errorf("read response: %w", err)
		}
		return Response{}, errors.New("daemon closed the connection without answering")
	}
	var resp Response
	if err := json.Unmarshal(sc.Bytes(), &resp); err != nil {
		return Response{}, fmt.Errorf("bad response: %w", err)
	}
	return resp, nil
}
