package haresources

import (
	"fmt"
	"path/filepath"
	"strings"
	"time"

	"github.com/hasuite/hasuite/internal/tomlpos"
)

// Check is one [[group.check]] of haresources.toml: a command run on both
// nodes all the time, whose results make a node eligible for the group or
// not (Weight 0) or shift its health score for the group, with
// keepalived's vrrp_script semantics (see the package documentation).
type Check struct {
	// Name identifies the check within its group (logs, status); it
	// defaults to the base name of Command[0].
	Name string
	// Command is the argv, run directly (never through a shell).
	// Command[0] is a path, or a bare name looked up in CheckPath when
	// the configuration is loaded.
	Command []string
	// Interval between the end of one run and the start of the next.
	Interval time.Duration
	// Timeout bounds one run (its process group is killed); a timeout is
	// a failure.
	Timeout time.Duration
	// Fall consecutive failures make the check failed; Rise consecutive
	// successes make it passing again.
	Fall, Rise int
	// Weight: 0 makes a node whose check failed ineligible for the group;
	// a positive weight is added to the node's score while the check
	// passes, a negative one subtracted while it fails.
	Weight int
	// User runs the command as this user ("name" or "name:group"); ""
	// keeps the daemon's credentials.
	User string
	Pos  Pos
}

// Check defaults and bounds (keepalived's: interval 1 s, timeout the
// interval, fall and rise 1, weight 0 within -253..253).
const (
	DefaultCheckInterval = time.Second
	MinCheckInterval     = 10 * time.Millisecond
	MaxCheckWeight       = 253
	maxFallRise          = 1000
)

// CheckPath is where a bare command name is looked up, in order (the
// daemon's own $PATH is never used: both nodes and heartbeat -t must
// agree whatever environment started them).
var CheckPath = []string{"/usr/local/sbin", "/usr/local/bin", "/usr/sbin", "/usr/bin", "/sbin", "/bin"}

// UserGroup splits a check's User into its user and group names.
func (c Check) UserGroup() (user, group string) {
	u, g, _ := strings.Cut(c.User, ":")
	return u, g
}

func validCheckName(s string) bool {
	if s == "" || len(s) > 64 {
		return false
	}
	for _, c := range []byte(s) {
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '.' || c == '_') {
			return false
		}
	}
	return true
}

// checkOptions reads the group's [[group.check]] tables. The command's
// existence and the user are checked when the configuration is loaded by
// the daemon (heartbeat -t), not here: parsing does no IO.
func (b *builder) checkOptions(g tomlGroup, gp string, at func(string) Pos) []Check {
	var out []Check
	names := map[string]string{}
	for k, t := range g.Checks {
		cp := fmt.Sprintf("%s.check[%d]", gp, k)
		c := Check{Interval: DefaultCheckInterval, Fall: 1, Rise: 1, Pos: at(cp)}
		ok := true
		bad := func(key, format string, a ...any) {
			b.errorf(at(cp+"."+key), "%s.%s: "+format, append([]any{cp, key}, a...)...)
			ok = false
		}
		list, isList := t.Command.v.([]any)
		switch {
		case !t.Command.set:
			b.errorf(c.Pos, "%s: command is missing (an argv array, e.g. [\"/usr/bin/killall\", \"-0\", \"httpd\"])", cp)
			ok = false
		case !isList || len(list) == 0:
			bad("command", "want a non-empty array of strings (the argv; no shell: write [\"sh\", \"-c\", \"...\"] for one)")
		}
		for j, e := range list {
			s, isStr := e.(string)
			switch {
			case !isStr:
				bad(fmt.Sprintf("command[%d]", j), "want a string, have %s", tomlpos.TypeName(e))
			case strings.IndexByte(s, 0) >= 0:
				bad(fmt.Sprintf("command[%d]", j), "contains a NUL byte")
			case j == 0 && s == "":
				bad("command[0]", "empty program")
			default:
				c.Command = append(c.Command, s)
			}
		}
		if t.Name.set {
			s, isStr := t.Name.v.(string)
			if !isStr || !validCheckName(s) {
				bad("name", "want 1 to 64 letters, digits, '-', '.' or '_'")
			} else {
				c.Name = s
			}
		} else if len(c.Command) > 0 {
			c.Name = filepath.Base(c.Command[0])
		}
		if c.Name != "" {
			if prev, dup := names[c.Name]; dup {
				b.errorf(c.Pos, "%s: a check named %q is already in %s (give each check of a group its own name)", cp, c.Name, prev)
				ok = false
			}
			names[c.Name] = cp
		}
		if t.Interval.set {
			v, msg := parseTimeout(t.Interval.v)
			switch {
			case msg != "":
				bad("interval", "%s", strings.Replace(msg, "timeout ", "", 1))
			case v < MinCheckInterval:
				bad("interval", "at least %s", MinCheckInterval)
			default:
				c.Interval = v
			}
		}
		c.Timeout = c.Interval
		if t.Timeout.set {
			v, msg := parseTimeout(t.Timeout.v)
			switch {
			case msg != "":
				bad("timeout", "%s", strings.Replace(msg, "timeout ", "", 1))
			case v < time.Millisecond:
				bad("timeout", "at least 1ms")
			default:
				c.Timeout = v
			}
		}
		for _, n := range []struct {
			key      string
			v        tomlValue
			dst      *int
			min, max int64
		}{
			{"fall", t.Fall, &c.Fall, 1, maxFallRise},
			{"rise", t.Rise, &c.Rise, 1, maxFallRise},
			{"weight", t.Weight, &c.Weight, -MaxCheckWeight, MaxCheckWeight},
		} {
			if !n.v.set {
				continue
			}
			v, isInt := n.v.v.(int64)
			if !isInt || v < n.min || v > n.max {
				bad(n.key, "want an integer from %d to %d", n.min, n.max)
				continue
			}
			*n.dst = int(v)
		}
		if t.User.set {
			s, isStr := t.User.v.(string)
			u, grp, hasColon := strings.Cut(s, ":")
			if !isStr || u == "" || (hasColon && grp == "") || strings.ContainsAny(s, " \t\n/") {
				bad("user", "want a user name, or \"user:group\"")
			} else {
				c.User = s
			}
		}
		if ok {
			out = append(out, c)
		}
	}
	return out
}
