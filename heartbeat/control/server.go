package control

import (
	"context"
	"errors"
	"net"
	"os"
	"sync"
	"time"
)

// Server serves a Handler on the control socket. It is safe for concurrent
// use; every connection has its own goroutine.
type Server struct {
	ln   *net.UnixListener
	path string
	info os.FileInfo // the socket we created, to not remove a successor's
	lock *os.File
	h    Handler
	euid int

	ctx    context.Context
	cancel context.CancelFunc
	wg     sync.WaitGroup

	mu     sync.Mutex
	conns  map[*net.UnixConn]struct{}
	closed bool
	// streams are the streaming commands (HandleStream).
	streams map[string]StreamHandler

	closeOnce sync.Once
	closeErr  error
}

func newServer(ln *net.UnixListener, path string, info os.FileInfo, lock *os.File, h Handler) *Server {
	ctx, cancel := context.WithCancel(context.Background())
	s := &Server{
		ln: ln, path: path, info: info, lock: lock, h: h, euid: os.Geteuid(),
		ctx: ctx, cancel: cancel, conns: make(map[*net.UnixConn]struct{}),
	}
	s.wg.Add(1)
	go s.acceptLoop()
	return s
}

// Path is the socket's file name.
func (s *Server) Path() string { return s.path }

func (s *Server) acceptLoop() {
	defer s.wg.Done()
	backoff := 5 * time.Millisecond
	for {
		c, err := s.ln.AcceptUnix()
		if err != nil {
			if errors.Is(err, net.ErrClosed) || s.ctx.Err() != nil {
				return
			}
			// EMFILE and friends: wait a little and retry rather than
			// giving up the control channel or spinning.
			select {
			case <-time.After(backoff):
			case <-s.ctx.Done():
				return
			}
			backoff = min(2*backoff, time.Second)
			continue
		}
		backoff = 5 * time.Millisecond
		if !s.track(c) {
			_ = c.Close()
			return
		}
		s.wg.Add(1)
		go func() {
			defer s.wg.Done()
			defer s.untrack(c)
			s.serveConn(c)
		}()
	}
}

func (s *Server) track(c *net.UnixConn) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return false
	}
	s.conns[c] = struct{}{}
	return true
}

func (s *Server) untrack(c *net.UnixConn) {
	s.mu.Lock()
	delete(s.conns, c)
	s.mu.Unlock()
	_ = c.Close()
}

// Close stops accepting, cancels running handlers' contexts, closes every
// connection, waits for all goroutines, removes the socket (if it is still
// ours) and releases the run directory lock. Later calls return the first
// call's result.
func (s *Server) Close() error {
	s.closeOnce.Do(func() {
		s.mu.Lock()
		s.closed = true
		for c := range s.conns {
			_ = c.Close()
		}
		s.mu.Unlock()
		s.cancel()
		err := s.ln.Close()
		s.wg.Wait()
		if cur, serr := os.Lstat(s.path); serr == nil && os.SameFile(cur, s.info) {
			if rerr := os.Remove(s.path); rerr != nil {
				err = errors.Join(err, rerr)
			}
		}
		err = errors.Join(err, s.lock.Close())
		s.closeErr = err
	})
	return s.closeErr
}
