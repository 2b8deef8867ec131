// Package control is the heartbeat daemon's local control channel: a Unix
// stream socket <runDir>/control.sock carrying one JSON request per line and
// one JSON response per line, plus the daemon's pid file. A streaming
// command (HandleStream, Stream: hactl events) answers its request with a
// response line, then one frame per line until either side closes.
//
// Access control is twofold: the socket file is mode 0600 (only its owner
// may connect) and every connection's peer credentials (SO_PEERCRED) must be
// uid 0 or the daemon's effective uid, so a socket whose mode was widened by
// mistake still refuses strangers.
package control
