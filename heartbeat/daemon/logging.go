package daemon

import (
	"fmt"
	"io"
	"log/syslog"
	"os"
	"strings"
	"sync"
	"time"

	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"

	"github.com/hasuite/hasuite/heartbeat/config"
)

// logSetup is the logger and what must be closed with it.
type logSetup struct {
	log     *zap.Logger
	level   zap.AtomicLevel
	closers []io.Closer
}

func (l *logSetup) Close() {
	_ = l.log.Sync()
	for _, c := range l.closers {
		_ = c.Close()
	}
}

// newLogger honours logfile (normal messages), debugfile (everything) and
// logfacility (syslog), like Heartbeat; with none of them it logs to stderr.
func newLogger(cfg *config.Config, debug int, stderr io.Writer) (*logSetup, error) {
	ls := &logSetup{level: zap.NewAtomicLevelAt(levelFor(debug))}
	encCfg := zap.NewProductionEncoderConfig()
	encCfg.EncodeTime = zapcore.TimeEncoderOfLayout("2006-01-02T15:04:05.000Z07:00")
	encCfg.EncodeLevel = zapcore.CapitalLevelEncoder
	encCfg.EncodeDuration = zapcore.StringDurationEncoder
	enc := zapcore.NewConsoleEncoder(encCfg)
	var cores []zapcore.Core
	info := zap.LevelEnablerFunc(func(l zapcore.Level) bool { return l >= zapcore.InfoLevel && ls.level.Enabled(l) })
	if cfg.LogFile != "" && cfg.LogFile != "/dev/null" {
		f, err := os.OpenFile(cfg.LogFile, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o640)
		if err != nil {
			return nil, fmt.Errorf("logfile: %w", err)
		}
		ls.closers = append(ls.closers, f)
		cores = append(cores, zapcore.NewCore(enc, zapcore.AddSync(f), info))
	}
	if cfg.DebugFile != "" && cfg.DebugFile != "/dev/null" {
		f, err := os.OpenFile(cfg.DebugFile, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o640)
		if err != nil {
			return nil, fmt.Errorf("debugfile: %w", err)
		}
		ls.closers = append(ls.closers, f)
		cores = append(cores, zapcore.NewCore(enc, zapcore.AddSync(f), ls.level))
	}
	if fac := strings.ToLower(cfg.LogFacility); fac != "" && fac != "none" {
		prio, ok := syslogFacilities[fac]
		if !ok {
			return nil, fmt.Errorf("logfacility %q is not a syslog facility", cfg.LogFacility)
		}
		w, err := syslog.New(prio|syslog.LOG_INFO, "heartbeat")
		if err != nil {
			return nil, fmt.Errorf("logfacility %s: %w", fac, err)
		}
		ls.closers = append(ls.closers, w)
		plain := zapcore.NewConsoleEncoder(zapcore.EncoderConfig{MessageKey: "msg", LevelKey: "level",
			EncodeLevel: zapcore.CapitalLevelEncoder, ConsoleSeparator: " "})
		cores = append(cores, zapcore.NewCore(plain, zapcore.AddSync(w), info))
	}
	if len(cores) == 0 {
		cores = append(cores, zapcore.NewCore(enc, zapcore.AddSync(&lockedWriter{w: stderr}), ls.level))
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

type lockedWriter struct {
	mu sync.Mutex
	w  io.Writer
}

func (l *lockedWriter) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Write(p)
}

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
