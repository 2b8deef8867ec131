package daemon

import (
	"fmt"
	"io"
	"log/syslog"
	"os"
	"os/signal"
	"strings"
	"sync"
	"syscall"
	"time"

	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"

	"github.com/hasuite/hasuite/heartbeat/config"
	"github.com/hasuite/hasuite/internal/asyncwrite"
)

// logSetup is the logger and what must be closed with it.
type logSetup struct {
	log     *zap.Logger
	others  *zap.Logger // every destination but syslog
	level   zap.AtomicLevel
	queues  []*asyncwrite.Writer // in front of every destination
	closers []io.Closer          // the destinations
}

// Close writes out what is queued (each destination gets a bounded time:
// a stuck one must not keep the daemon from exiting) and closes the
// destinations.
func (l *logSetup) Close() {
	for _, q := range l.queues {
		if q.Sync() == nil {
			_ = q.Close()
		}
	}
	for _, c := range l.closers {
		_ = c.Close()
	}
}

// flush writes out what is queued and syncs the log files, each within a
// bounded time: before this node reboots itself, so that the reason
// reaches the disk.
func (l *logSetup) flush() {
	for _, q := range l.queues {
		_ = q.Sync()
	}
}

// queue puts an asyncwrite.Writer in front of a destination: the event loop
// logs, and must never wait for a disk, journald or syslog. Lines that do
// not fit its queue are dropped, then counted in the log.
func (l *logSetup) queue(name string, dst io.Writer) zapcore.WriteSyncer {
	q := asyncwrite.New(dst, asyncwrite.Options{OnDrop: func(n int) {
		l.log.Warn("log lines dropped: the log destination did not take them in time",
			zap.String("destination", name), zap.Int("dropped", n))
	}})
	l.queues = append(l.queues, q)
	return q
}

// brokenPipeOnce makes SIGPIPE harmless, once per process.
var brokenPipeOnce sync.Once

// survivePipeErrors keeps a broken stderr or stdout (a pipe whose reader
// died: "heartbeat 2>&1 | logger" after logger exited) from killing the
// daemon: Go kills a program that writes to a broken pipe on fd 1 or 2
// with SIGPIPE unless the signal is handled. With a handler the write
// fails with EPIPE and the line is lost, like any line of a destination
// that is gone. Not ignored (SIG_IGN would be inherited by the resource
// scripts); a handled signal is reset to the default on exec.
func survivePipeErrors() {
	brokenPipeOnce.Do(func() { signal.Notify(make(chan os.Signal, 1), syscall.SIGPIPE) })
}

// newLogger honours logfile (normal messages), debugfile (everything) and
// logfacility (syslog), like Heartbeat; with none of them it logs to stderr.
func newLogger(cfg *config.Config, debug int, stderr io.Writer) (_ *logSetup, err error) {
	survivePipeErrors()
	ls := &logSetup{level: zap.NewAtomicLevelAt(levelFor(debug))}
	defer func() {
		if err != nil {
			ls.Close() // nothing was logged: the queues stop at once
		}
	}()
	encCfg := zap.NewProductionEncoderConfig()
	encCfg.EncodeTime = zapcore.TimeEncoderOfLayout("2006-01-02T15:04:05.000Z07:00")
	encCfg.EncodeLevel = zapcore.CapitalLevelEncoder
	encCfg.EncodeDuration = zapcore.StringDurationEncoder
	enc := zapcore.NewConsoleEncoder(encCfg)
	var cores []zapcore.Core
	var syslogCore zapcore.Core
	info := zap.LevelEnablerFunc(func(l zapcore.Level) bool { return l >= zapcore.InfoLevel && ls.level.Enabled(l) })
	if cfg.LogFile != "" && cfg.LogFile != "/dev/null" {
		f, err := os.OpenFile(cfg.LogFile, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o640)
		if err != nil {
			return nil, fmt.Errorf("logfile: %w", err)
		}
		ls.closers = append(ls.closers, f)
		cores = append(cores, zapcore.NewCore(enc, ls.queue("logfile "+cfg.LogFile, f), info))
	}
	if cfg.DebugFile != "" && cfg.DebugFile != "/dev/null" {
		f, err := os.OpenFile(cfg.DebugFile, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o640)
		if err != nil {
			return nil, fmt.Errorf("debugfile: %w", err)
		}
		ls.closers = append(ls.closers, f)
		cores = append(cores, zapcore.NewCore(enc, ls.queue("debugfile "+cfg.DebugFile, f), ls.level))
	}
	if fac := strings.ToLower(cfg.LogFacility); fac != "" && fac != "none" {
		prio, ok := syslogFacilities[fac]
		if !ok {
			return nil, fmt.Errorf("logfacility %q is not a syslog facility", cfg.LogFacility)
		}
		// A syslog that is not there (stopped, crashed, not installed)
		// must not keep the daemon from running: say so once, on stderr
		// and in the other destinations, and deliver once it is back
		// (syslog then gets its own line saying so).
		w := newSyslogWriter(syslogPath, prio|syslog.LOG_INFO, "heartbeat")
		w.onDown = func(err error) {
			fmt.Fprintf(stderr, "heartbeat: syslog unavailable (logfacility %s, %s): %v; logging there resumes when it is back\n", fac, syslogPath, err)
			ls.others.Warn("syslog unavailable: lines for logfacility are not delivered until it is back",
				zap.String("logfacility", fac), zap.String("socket", syslogPath), zap.Error(err))
		}
		w.onUp = func(outage time.Duration, lost int) {
			fmt.Fprintf(stderr, "heartbeat: syslog available again (logfacility %s) after %v; %d lines were not delivered to it\n", fac, outage.Round(time.Millisecond), lost)
			ls.others.Warn("syslog available again", zap.String("logfacility", fac),
				zap.Duration("unavailable", outage.Round(time.Millisecond)), zap.Int("lines_not_delivered", lost))
		}
		ls.closers = append(ls.closers, w)
		plain := zapcore.NewConsoleEncoder(zapcore.EncoderConfig{MessageKey: "msg", LevelKey: "level",
			EncodeLevel: zapcore.CapitalLevelEncoder, ConsoleSeparator: " "})
		syslogCore = zapcore.NewCore(plain, ls.queue("syslog", w), info)
	}
	ls.others = zap.New(zapcore.NewTee(cores...)) // a no-op without cores
	if syslogCore != nil {
		cores = append(cores, syslogCore)
	}
	if len(cores) == 0 {
		// Hide any Sync of stderr: fsync at exit is for log files.
		cores = append(cores, zapcore.NewCore(enc, ls.queue("stderr", struct{ io.Writer }{stderr}), ls.level))
	}
	ls.log = zap.New(zapcore.NewTee(cores...))
	return ls, nil
}

func levelFor(debug int) zapcore.Level {
	if debug > 0 {
		return zapcore.DebugLevel
	}
	return zapcore.InfoLevel
}

// syslogPath is the socket of logfacility: DefaultSyslogPath, other in
// unit tests.
var syslogPath = DefaultSyslogPath

var syslogFacilities = map[string]syslog.Priority{
	"kern": syslog.LOG_KERN, "user": syslog.LOG_USER, "mail": syslog.LOG_MAIL, "daemon": syslog.LOG_DAEMON,
	"auth": syslog.LOG_AUTH, "syslog": syslog.LOG_SYSLOG, "lpr": syslog.LOG_LPR, "news": syslog.LOG_NEWS,
	"uucp": syslog.LOG_UUCP, "cron": syslog.LOG_CRON, "authpriv": syslog.LOG_AUTHPRIV, "ftp": syslog.LOG_FTP,
	"local0": syslog.LOG_LOCAL0, "local1": syslog.LOG_LOCAL1, "local2": syslog.LOG_LOCAL2, "local3": syslog.LOG_LOCAL3,
	"local4": syslog.LOG_LOCAL4, "local5": syslog.LOG_LOCAL5, "local6": syslog.LOG_LOCAL6, "local7": syslog.LOG_LOCAL7,
}

// rateLimiter lets one log line per key through per interval and counts
// the rest, so a flood of bad packets cannot flood the log.
type rateLimiter struct {
	every time.Duration
	last  map[string]time.Time
	muted map[string]int
}

func newRateLimiter(every time.Duration) *rateLimiter {
	return &rateLimiter{every: every, last: map[string]time.Time{}, muted: map[string]int{}}
}

// allow reports whether to log now and how many lines were suppressed since
// the last one that was let through.
func (r *rateLimiter) allow(key string, now time.Time) (bool, int) {
	if t, ok := r.last[key]; ok && now.Sub(t) < r.every {
		r.muted[key]++
		return false, 0
	}
	r.last[key] = now
	n := r.muted[key]
	delete(r.muted, key)
	return true, n
}
