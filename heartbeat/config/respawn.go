package config

import (
	"path"
	"strings"
	"time"
)

// respawnLine is "respawn <user> <path> [args...]" (failfast: the same,
// and the node fences itself when the program dies abnormally). As in
// Heartbeat, the program must be given by its absolute path; whether it
// exists and the user is known is checked where it runs (daemon.Check).
func respawnLine(failfast bool) func(*builder, Pos, string, string) {
	return func(b *builder, pos Pos, name, rest string) {
		f := fields(rest)
		if len(f) < 2 {
			b.errorf(pos, "%s: want %s <user> </absolute/path> [args...]", name, name)
			return
		}
		user, prog := f[0], f[1]
		if err := checkWord("user", user); err != nil {
			b.errorf(pos, "%s: %v", name, err)
			return
		}
		if !strings.HasPrefix(prog, "/") || path.Clean(prog) != prog {
			b.errorf(pos, "%s: program %q is not an absolute, clean path", name, prog)
			return
		}
		b.c.Respawn = append(b.c.Respawn, RespawnSpec{User: user, Path: prog, Args: f[2:], FailFast: failfast, Pos: pos})
	}
}

// addEnv is "env NAME=value": respawned programs get HA_NAME=value, as
// Heartbeat exports it.
func (b *builder) addEnv(pos Pos, name, v string) {
	if err := checkEnv(v); err != nil {
		b.errorf(pos, "%s: %v", name, err)
		return
	}
	b.c.Env = append(b.c.Env, "HA_"+v)
}

// MinPingInterval is ping_interval's least default: by default each ping
// host gets one echo every keepalive, but no more often than this: a keepalive of 10 ms must not make the daemon flood a
// router with 100 echoes a second. ping_interval may go below it.
const MinPingInterval = 100 * time.Millisecond
