package e2ekit

import (
	"fmt"
	"strings"
	"time"
)

// LogTimeLayout is the timestamp layout of our daemon's log
// (heartbeat/daemon logging.go): milliseconds, truncated.
const LogTimeLayout = "2006-01-02T15:04:05.000Z07:00"

// ParseLogTime reads the timestamp that starts one of our daemon's log
// lines.
func ParseLogTime(line string) (time.Time, error) {
	ts, _, ok := strings.Cut(line, "\t")
	if !ok {
		return time.Time{}, fmt.Errorf("no timestamp in %q", line)
	}
	return time.Parse(LogTimeLayout, ts)
}
