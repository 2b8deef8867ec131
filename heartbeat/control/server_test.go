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
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"
)

// testTimeout bounds every wait in these tests.
const testTimeout = 10 * time.Second

// echo answers every request with the request itself as Data.
func echo(_ context.Context, req Request) Response {
	b, err := json.Marshal(req)
	if err != nil {
		return errorResponse(err.Error())
	}
	return Response{OK: true, Data: b}
}

func listen(t *testing.T, runDir string, h Handler) *Server {
	t.Helper()
	s, err := Listen(runDir, h)
	if err != nil {
		t.Fatalf("Listen: %v", err)
	}
	t.Cleanup(func() { _ = s.Close() })
	return s
}

func call(t *testing.T, runDir string, req Request) Response {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), testTimeout)
	defer cancel()
	resp, err := Call(ctx, runDir, req)
	if err != nil {
		t.Fatalf("Call(%v): %v", req, err)
	}
	return resp
}

// dialRaw opens a plain connection with a bounded deadline.
func dialRaw(t *testing.T, runDir string) (net.Conn, *bufio.Reader) {
	t.Helper()
	c, err := net.DialTimeout("unix", filepath.Join(runDir, SocketName), testTimeout)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = c.Close() })
	if err := c.SetDeadline(time.Now().Add(testTimeout)); err != nil {
		t.Fatal(err)
	}
	return c, bufio.NewReaderSize(c, 64<<10)
}

func readResponse(t *testing.T, r *bufio.Reader) Response {
	t.Helper()
	line, err := r.ReadBytes('\n')
	if err != nil {
		t.Fatalf("read response: %v", err)
	}
	var resp Response
	if err := json.Unmarshal(line, &resp); err != nil {
		t.Fatalf("response %q: %v", line, err)
	}
	return resp
}

func TestRoundTrip(t *testing.T) {
	dir := t.TempDir()
	listen(t, dir, echo)
	for _, req := range []Request{
		{Cmd: "status"},
		{Cmd: "standby", Args: []string{"all"}},
		{Cmd: "x", Args: []string{"", "with space", "ünïcode", "quote\"", "new\nline"}},
	} {
		resp := call(t, dir, req)
		if !resp.OK || resp.Error != "" {
			t.Fatalf("%v: response %+v", req, resp)
		}
		var got Request
		if err := json.Unmarshal(resp.Data, &got); err != nil {
			t.Fatal(err)
		}
		if got.Cmd != req.Cmd || strings.Join(got.Args, "|") != strings.Join(req.Args, "|") {
			t.Fatalf("handler saw %+v, want %+v", got, req)
		}
	}
}

func TestMultipleRequestsPerConnection(t *testing.T) {
	dir := t.TempDir()
	listen(t, dir, echo)
	c, r := dialRaw(t, dir)
	// Several requests in one write, with a blank line that must be skipped.
	if _, err := c.Write([]byte("{\"cmd\":\"a\"}\n\n{\"cmd\":\"b\"}\n  {\"cmd\":\"c\",\"args\":[\"1\"]}  \n")); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"a", "b", "c"} {
		resp := readResponse(t, r)
		var got Request
		if !resp.OK || json.Unmarshal(resp.Data, &got) != nil || got.Cmd != want {
			t.Fatalf("response %+v, want echo of %q", resp, want)
		}
	}
}

func TestBadRequests(t *testing.T) {
	dir := t.TempDir()
	var calls atomic.Int32
	listen(t, dir, func(ctx context.Context, req Request) Response {
		calls.Add(1)
		return echo(ctx, req)
	})
	tests := []struct{ name, line, wantErr string }{
		{"not json", "hello", "bad request"},
		{"truncated", `{"cmd":"a"`, "bad request"},
		{"array", `["status"]`, "bad request"},
		{"wrong type", `{"cmd":5}`, "bad request"},
		{"args not strings", `{"cmd":"a","args":[1]}`, "bad request"},
		{"missing cmd", `{"args":["x"]}`, "missing cmd"},
		{"empty cmd", `{"cmd":""}`, "missing cmd"},
		{"nul byte", "\x00", "bad request"},
	}
	c, r := dialRaw(t, dir)
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if _, err := c.Write([]byte(tc.line + "\n")); err != nil {
				t.Fatal(err)
			}
			resp := readResponse(t, r)
			if resp.OK || !strings.Contains(resp.Error, tc.wantErr) {
				t.Fatalf("response %+v, want error %q", resp, tc.wantErr)
			}
		})
	}
	if n := calls.Load(); n != 0 {
		t.Fatalf("handler called %d times for bad requests", n)
	}
	// The connection survives bad requests.
	if _, err := c.Write([]byte(`{"cmd":"ok"}` + "\n")); err != nil {
		t.Fatal(err)
	}
	if resp := readResponse(t, r); !resp.OK {
		t.Fatalf("good request after bad ones: %+v", resp)
	}
}

// requestOfLen builds a valid request line of exactly n bytes (no newline).
func requestOfLen(t *testing.T, n int) []byte {
	t.Helper()
	base, _ := json.Marshal(Request{Cmd: "big", Args: []string{""}})
	b, _ := json.Marshal(Request{Cmd: "big", Args: []string{strings.Repeat("x", n-len(base))}})
	if len(b) != n {
		t.Fatalf("built %d bytes, want %d", len(b), n)
	}
	return b
}

func TestLineLimit(t *testing.T) {
	dir := t.TempDir()
	listen(t, dir, func(context.Context, Request) Response { return Response{OK: true} })

	t.Run("exactly at limit accepted", func(t *testing.T) {
		c, r := dialRaw(t, dir)
		if _, err := c.Write(append(requestOfLen(t, MaxLine), '\n')); err != nil {
			t.Fatal(err)
		}
		if resp := readResponse(t, r); !resp.OK {
			t.Fatalf("response %+v", resp)
		}
	})
	t.Run("one over rejected and closed", func(t *testing.T) {
		c, r := dialRaw(t, dir)
		// The server may stop reading before we finish writing.
		go func() { _, _ = c.Write(append(requestOfLen(t, MaxLine+1), '\n')) }()
		resp := readResponse(t, r)
		if resp.OK || !strings.Contains(resp.Error, "longer than") {
			t.Fatalf("response %+v", resp)
		}
		if _, err := r.ReadBytes('\n'); err == nil {
			t.Fatal("connection still open after an oversized line")
		}
	})
	t.Run("call refuses to send oversized", func(t *testing.T) {
		ctx, cancel := context.WithTimeout(context.Background(), testTimeout)
		defer cancel()
		_, err := Call(ctx, dir, Request{Cmd: "big", Args: []string{strings.Repeat("x", MaxLine)}})
		if err == nil {
			t.Fatal("oversized request sent")
		}
	})
}

func TestHandlerInvalidData(t *testing.T) {
	dir := t.TempDir()
	listen(t, dir, func(context.Context, Request) Response {
		return Response{OK: true, Data: json.RawMessage("{not json")}
	})
	resp := call(t, dir, Request{Cmd: "x"})
	if resp.OK || !strings.Contains(resp.Error, "internal error") {
		t.Fatalf("response %+v", resp)
	}
}

func TestSocketAndDirModes(t *testing.T) {
	// The modes must not depend on the umask; these tests do not run in
	// parallel, so changing the process umask here is safe.
	for _, umask := range []int{0, 0o022, 0o277} {
		t.Run(fmt.Sprintf("umask %04o", umask), func(t *testing.T) {
			dir := filepath.Join(t.TempDir(), "run", "heartbeat") // before the umask change
			old := syscall.Umask(umask)
			defer syscall.Umask(old)
			s := listen(t, dir, echo)
			st, err := os.Lstat(s.Path())
			if err != nil {
				t.Fatal(err)
			}
			if st.Mode().Type() != os.ModeSocket || st.Mode().Perm() != 0o600 {
				t.Fatalf("socket mode %v, want socket 0600", st.Mode())
			}
			dst, err := os.Stat(dir)
			if err != nil {
				t.Fatal(err)
			}
			if dst.Mode().Perm() != 0o755 {
				t.Fatalf("run dir mode %v, want 0755", dst.Mode().Perm())
			}
			if resp := call(t, dir, Request{Cmd: "x"}); !resp.OK {
				t.Fatalf("response %+v", resp)
			}
		})
	}
}

// staleSocket leaves a socket file at path that nobody listens on.
func staleSocket(t *testing.T, path string) {
	t.Helper()
	ln, err := net.ListenUnix("unix", &net.UnixAddr{Name: path, Net: "unix"})
	if err != nil {
		t.Fatal(err)
	}
	ln.SetUnlinkOnClose(false)
	if err := ln.Close(); err != nil {
		t.Fatal(err)
	}
}

func TestStaleSocketReplaced(t *testing.T) {
	dir := t.TempDir()
	staleSocket(t, filepath.Join(dir, SocketName))
	ctx, cancel := context.WithTimeout(context.Background(), testTimeout)
	defer cancel()
	if _, err := Call(ctx, dir, Request{Cmd: "x"}); !errors.Is(err, ErrNotRunning) {
		t.Fatalf("Call on stale socket: %v, want ErrNotRunning", err)
	}
	listen(t, dir, echo)
	if resp := call(t, dir, Request{Cmd: "x"}); !resp.OK {
		t.Fatalf("response %+v", resp)
	}
}

func TestNotASocketIsKept(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, SocketName)
	if err := os.WriteFile(path, []byte("precious"), 0o600); err != nil {
		t.Fatal(err)
	}
	if s, err := Listen(dir, echo); err == nil {
		_ = s.Close()
		t.Fatal("Listen replaced a regular file")
	}
	if b, _ := os.ReadFile(path); string(b) != "precious" {
		t.Fatalf("file changed to %q", b)
	}
}

func TestAlreadyRunning(t *testing.T) {
	dir := t.TempDir()
	first := listen(t, dir, echo)
	if s, err := Listen(dir, echo); err == nil || !strings.Contains(err.Error(), "already running") {
		if s != nil {
			_ = s.Close()
		}
		t.Fatalf("second Listen: %v, want already running", err)
	}
	// The failed attempt must not disturb the running server.
	if resp := call(t, dir, Request{Cmd: "x"}); !resp.OK {
		t.Fatalf("first server after failed second Listen: %+v", resp)
	}
	if err := first.Close(); err != nil {
		t.Fatal(err)
	}
	listen(t, dir, echo)
	if resp := call(t, dir, Request{Cmd: "x"}); !resp.OK {
		t.Fatalf("restarted server: %+v", resp)
	}
}

func TestAlreadyRunningForeignListener(t *testing.T) {
	// A daemon that answers on the socket without our lock (another build,
	// another lock directory) is detected by probing.
	dir := t.TempDir()
	ln, err := net.Listen("unix", filepath.Join(dir, SocketName))
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	if s, err := Listen(dir, echo); err == nil || !strings.Contains(err.Error(), "already running") {
		if s != nil {
			_ = s.Close()
		}
		t.Fatalf("Listen: %v, want already running", err)
	}
}

func TestCloseRemovesSocketAndUnblocks(t *testing.T) {
	dir := t.TempDir()
	s, err := Listen(dir, echo)
	if err != nil {
		t.Fatal(err)
	}
	_, r := dialRaw(t, dir) // idle connection
	// Make sure the server has accepted it before closing.
	if resp := call(t, dir, Request{Cmd: "x"}); !resp.OK {
		t.Fatal(resp)
	}
	closed := make(chan error, 1)
	go func() { closed <- s.Close() }()
	select {
	case err := <-closed:
		if err != nil {
			t.Fatalf("Close: %v", err)
		}
	case <-time.After(testTimeout):
		t.Fatal("Close did not return")
	}
	if _, err := os.Lstat(filepath.Join(dir, SocketName)); !os.IsNotExist(err) {
		t.Fatalf("socket still present after Close: %v", err)
	}
	if _, err := r.ReadBytes('\n'); err == nil {
		t.Fatal("idle connection still open after Close")
	}
	if err := s.Close(); err != nil {
		t.Fatalf("second Close: %v", err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), testTimeout)
	defer cancel()
	if _, err := Call(ctx, dir, Request{Cmd: "x"}); !errors.Is(err, ErrNotRunning) {
		t.Fatalf("Call after Close: %v, want ErrNotRunning", err)
	}
}

func TestCloseCancelsHandler(t *testing.T) {
	dir := t.TempDir()
	entered := make(chan struct{})
	s, err := Listen(dir, func(ctx context.Context, _ Request) Response {
		close(entered)
		<-ctx.Done()
		return errorResponse("cancelled")
	})
	if err != nil {
		t.Fatal(err)
	}
	go func() {
		ctx, cancel := context.WithTimeout(context.Background(), testTimeout)
		defer cancel()
		_, _ = Call(ctx, dir, Request{Cmd: "block"})
	}()
	select {
	case <-entered:
	case <-time.After(testTimeout):
		t.Fatal("handler not called")
	}
	done := make(chan struct{})
	go func() { _ = s.Close(); close(done) }()
	select {
	case <-done:
	case <-time.After(testTimeout):
		t.Fatal("Close did not cancel the running handler")
	}
}

func TestCallContext(t *testing.T) {
	dir := t.TempDir()
	release := make(chan struct{})
	defer close(release)
	listen(t, dir, func(ctx context.Context, _ Request) Response {
		select {
		case <-release:
		case <-ctx.Done():
		}
		return Response{OK: true}
	})
	t.Run("deadline", func(t *testing.T) {
		ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
		defer cancel()
		if _, err := Call(ctx, dir, Request{Cmd: "slow"}); !errors.Is(err, context.DeadlineExceeded) {
			t.Fatalf("Call: %v, want deadline exceeded", err)
		}
	})
	t.Run("cancel", func(t *testing.T) {
		ctx, cancel := context.WithCancel(context.Background())
		time.AfterFunc(50*time.Millisecond, cancel)
		if _, err := Call(ctx, dir, Request{Cmd: "slow"}); !errors.Is(err, context.Canceled) {
			t.Fatalf("Call: %v, want canceled", err)
		}
	})
}

func TestCallNotRunning(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), testTimeout)
	defer cancel()
	for _, dir := range []string{t.TempDir(), filepath.Join(t.TempDir(), "missing")} {
		if _, err := Call(ctx, dir, Request{Cmd: "x"}); !errors.Is(err, ErrNotRunning) {
			t.Fatalf("Call(%s): %v, want ErrNotRunning", dir, err)
		}
	}
}

func TestListenNilHandler(t *testing.T) {
	if _, err := Listen(t.TempDir(), nil); err == nil {
		t.Fatal("nil handler accepted")
	}
}

func TestAllowedUID(t *testing.T) {
	tests := []struct {
		uid  uint32
		euid int
		want bool
	}{
		{0, 0, true},
		{0, 1000, true},
		{1000, 1000, true},
		{1000, 0, false},
		{65534, 1000, false},
	}
	for _, tc := range tests {
		if got := allowedUID(tc.uid, tc.euid); got != tc.want {
			t.Errorf("allowedUID(%d, %d) = %v, want %v", tc.uid, tc.euid, got, tc.want)
		}
	}
}

func FuzzHandle(f *testing.F) {
	for _, s := range []string{`{"cmd":"a"}`, `{"cmd":"a","args":["b"]}`, `{}`, `null`, `[`, "\xff"} {
		f.Add([]byte(s))
	}
	s := &Server{ctx: context.Background(), h: echo}
	f.Fuzz(func(t *testing.T, line []byte) {
		resp := s.handle(line)
		var req Request
		valid := json.Unmarshal(line, &req) == nil && req.Cmd != ""
		if resp.OK != valid {
			t.Fatalf("line %q: ok=%v, want %v (%s)", line, resp.OK, valid, resp.Error)
		}
		if !resp.OK && resp.Error == "" {
			t.Fatalf("line %q: error response without message", line)
		}
		if _, err := encodeLine(resp); err != nil && len(line) < MaxLine/8 {
			t.Fatalf("line %q: response not encodable: %v", line, err)
		}
	})
}
