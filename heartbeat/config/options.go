package config

import (
	"fmt"
	"slices"
	"strings"
	"time"
)

// The setters below implement option directives. Each validates one value
// and either stores it or reports an error naming the directive.

func timeSetter(field func(*Config) *time.Duration, positive bool) func(*builder, Pos, string, string) {
	return func(b *builder, pos Pos, name, v string) {
		d, err := ParseDuration(v)
		if err != nil {
			b.errorf(pos, "%s: %v", name, err)
			return
		}
		if positive && d <= 0 {
			b.errorf(pos, "%s %s: must be more than 0", name, v)
			return
		}
		*field(b.c) = d
	}
}

func intSetter(field func(*Config) *int, lo, hi int) func(*builder, Pos, string, string) {
	return func(b *builder, pos Pos, name, v string) {
		n, err := parseInt(v, lo, hi)
		if err != nil {
			b.errorf(pos, "%s: %v", name, err)
			return
		}
		*field(b.c) = n
	}
}

// enumSetter accepts one of words, case-insensitively (Heartbeat is
// case-sensitive here; being lenient costs nothing).
func enumSetter(field func(*Config) *string, words ...string) func(*builder, Pos, string, string) {
	return func(b *builder, pos Pos, name, v string) {
		w := strings.ToLower(v)
		if !slices.Contains(words, w) {
			b.errorf(pos, "%s: invalid value %q (want %s)", name, v, strings.Join(words, " or "))
			return
		}
		*field(b.c) = w
	}
}

func stringSetter(field func(*Config) *string) func(*builder, Pos, string, string) {
	return func(b *builder, pos Pos, name, v string) {
		if err := checkWord(name, v); err != nil {
			b.errorf(pos, "%s: %v", name, err)
			return
		}
		*field(b.c) = v
	}
}

// checkOnly validates the value of a directive that has no effect, so that
// a file this suite accepts is still one Heartbeat accepts.
func checkOnly(check func(string) error) func(*builder, Pos, string, string) {
	return func(b *builder, pos Pos, name, v string) {
		if check == nil {
			return
		}
		if err := check(v); err != nil {
			b.errorf(pos, "%s: %v", name, err)
		}
	}
}

func (b *builder) setRTSCTS(pos Pos, name, v string) {
	on, err := parseBool(v)
	if err != nil {
		b.errorf(pos, "%s: %v", name, err)
		return
	}
	b.c.RTSCTS = on
}

func (b *builder) setRealtime(pos Pos, name, v string) {
	on, err := parseBool(v)
	if err != nil {
		b.errorf(pos, "%s: %v", name, err)
		return
	}
	b.c.Realtime = on
}

func checkBool(v string) error {
	_, err := parseBool(v)
	return err
}

func checkRange(lo, hi int) func(string) error {
	return func(v string) error {
		_, err := parseInt(v, lo, hi)
		return err
	}
}

func checkTime(v string) error {
	d, err := ParseDuration(v)
	if err == nil && d <= 0 {
		err = fmt.Errorf("%s: must be more than 0", v)
	}
	return err
}

func checkWords(words ...string) func(string) error {
	return func(v string) error {
		if !slices.Contains(words, v) {
			return fmt.Errorf("invalid value %q (want %s)", v, strings.Join(words, " or "))
		}
		return nil
	}
}

// checkEnv wants NAME=value; Heartbeat exports it as HA_NAME.
func checkEnv(v string) error {
	if i := strings.IndexByte(v, '='); i <= 0 {
		return fmt.Errorf("%q is not NAME=value", v)
	}
	return nil
}

// checkAPIAuth wants "client [uid=list] [gid=list]" with at least one list
// (set_api_authorization).
func checkAPIAuth(rest string) error {
	f := fields(rest)
	if len(f) < 2 {
		return fmt.Errorf("want: apiauth <client> [uid=<list>] [gid=<list>], with uid= or gid=")
	}
	for _, t := range f[1:] {
		if !strings.HasPrefix(t, "uid=") && !strings.HasPrefix(t, "gid=") {
			return fmt.Errorf("%q is neither uid=<list> nor gid=<list>", t)
		}
	}
	return nil
}

// baudRates are the speeds Heartbeat's StringToBaud knows.
var baudRates = []int{9600, 19200, 38400, 57600, 115200, 230400, 460800}

func (b *builder) setBaud(pos Pos, name, v string) {
	n, err := parseInt(v, 0, 1<<30)
	if err != nil || !slices.Contains(baudRates, n) {
		b.errorf(pos, "%s: invalid speed %q (want one of 9600, 19200, 38400, 57600, 115200, 230400, 460800)", name, v)
		return
	}
	b.c.Baud = n
}

// setAutoFailback takes on, off, legacy or any boolean word.
func (b *builder) setAutoFailback(pos Pos, name, v string) {
	if strings.EqualFold(v, "legacy") {
		b.c.AutoFailback = "legacy"
		b.niceFailback = false
		return
	}
	on, err := parseBool(v)
	if err != nil {
		b.errorf(pos, "%s: invalid value %q (want on, off or legacy)", name, v)
		return
	}
	b.c.AutoFailback = map[bool]string{true: "on", false: "off"}[on]
	b.niceFailback = true
}

// setNiceFailback keeps Heartbeat's odd semantics (set_nice_failback): the
// value given is ignored; the result is auto_failback off when an earlier
// auto_failback on/off was read, else legacy. This one directive therefore
// depends on line order, exactly as in Heartbeat.
func (b *builder) setNiceFailback(pos Pos, name, v string) {
	if _, err := parseBool(v); err != nil {
		b.errorf(pos, "%s: %v", name, err)
		return
	}
	result := "legacy"
	if b.niceFailback {
		result = "off"
	}
	b.warnf(pos, "nice_failback is obsolete and its value is ignored; as in Heartbeat it means auto_failback %s here: write auto_failback on, off or legacy instead", result)
	b.setAutoFailback(pos, "auto_failback", result)
	b.c.Set["auto_failback"] = pos
	b.c.params["auto_failback"] = result
}

// setMaxRexmitDelay takes Heartbeat's plain milliseconds, or a time with an
// explicit unit (a bare "0.5" would be ambiguous).
func (b *builder) setMaxRexmitDelay(pos Pos, name, v string) {
	var d time.Duration
	if n, err := parseInt(v, 1, maxMillis); err == nil {
		d = time.Duration(n) * time.Millisecond
	} else if strings.Trim(v, "0123456789.") == "" {
		b.errorf(pos, "%s: %q must be a whole number of milliseconds (or carry a unit: ms, us, s)", name, v)
		return
	} else if d, err = ParseDuration(v); err != nil {
		b.errorf(pos, "%s: %v", name, err)
		return
	}
	if d <= 0 {
		b.errorf(pos, "%s %s: must be more than 0", name, v)
		return
	}
	b.c.MaxRexmitDelay = d
}

// setAutojoin accepts only none: Heartbeat itself refuses other values with
// haresources ("R1 style resource management conflicts with autojoin").
func (b *builder) setAutojoin(pos Pos, name, v string) {
	switch strings.ToLower(v) {
	case "none":
	case "other", "any":
		b.errorf(pos, "%s %s: runtime joins conflict with haresources resource management; only autojoin none is allowed", name, v)
	default:
		b.errorf(pos, "%s: invalid value %q (want none)", name, v)
	}
}

// setPacemaker accepts only the values that leave haresources mode on.
func (b *builder) setPacemaker(pos Pos, name, v string) {
	switch strings.ToLower(v) {
	case "respawn", "minimal", "manual", "valgrind", "ccm-only":
		b.errorf(pos, "%s %s: this suite manages haresources (v1) clusters only; use %s off or remove the line", name, v, name)
		return
	}
	on, err := parseBool(v)
	if err != nil {
		b.errorf(pos, "%s: invalid value %q (want off)", name, v)
		return
	}
	if on {
		b.errorf(pos, "%s %s: this suite manages haresources (v1) clusters only; use %s off or remove the line", name, v, name)
	}
}

func (b *builder) setStonithFallback(pos Pos, name, v string) {
	switch strings.ToLower(v) {
	case "takeover":
		b.c.StonithFallback = true
	case "off", "none", "no":
		b.c.StonithFallback = false
	default:
		b.errorf(pos, "%s: invalid value %q (want takeover or off)", name, v)
	}
}

func (b *builder) setStonithPluginDir(pos Pos, name, v string) {
	if err := checkAbsPath("plugin directory", v); err != nil {
		b.errorf(pos, "%s: %v", name, err)
		return
	}
	b.c.StonithPluginDir = v
}

// setSelfFence is "self_fence <absolute program> [args...]": what this node
// runs to fence itself. It is run directly, never through a shell.
func (b *builder) setSelfFence(pos Pos, name, rest string) {
	argv := fields(rest)
	if len(argv) == 0 {
		b.errorf(pos, "%s: want self_fence <absolute path of a program> [arguments]", name)
		return
	}
	if err := checkAbsPath("self_fence program", argv[0]); err != nil {
		b.errorf(pos, "%s: %v", name, err)
		return
	}
	b.c.SelfFence = argv
}

func (b *builder) setWatchdog(pos Pos, name, v string) {
	if err := checkAbsPath("watchdog device", v); err != nil {
		b.errorf(pos, "%s: %v", name, err)
		return
	}
	b.c.Watchdog = v
}

// syslogFacilities are the names cluster-glue's cl_syslogfac_str2int knows.
var syslogFacilities = []string{
	"auth", "authpriv", "cron", "daemon", "ftp", "kern", "lpr", "mail", "news", "syslog", "user", "uucp",
	"local0", "local1", "local2", "local3", "local4", "local5", "local6", "local7", "none",
}

func (b *builder) setLogFacility(pos Pos, name, v string) {
	f := strings.ToLower(v)
	if !slices.Contains(syslogFacilities, f) {
		b.errorf(pos, "%s: unknown syslog facility %q (want e.g. daemon, local0-local7 or none)", name, v)
		return
	}
	b.c.LogFacility = f
}

// addNode declares a normal node. Names are lower-cased as Heartbeat does.
func (b *builder) addNode(pos Pos, name, v string) {
	if err := checkNodeName(v); err != nil {
		b.errorf(pos, "%s: %v", name, err)
		return
	}
	n := asciiLower(v)
	if slices.Contains(b.c.Nodes, n) {
		b.warnf(pos, "node %s is declared more than once", n)
		return
	}
	b.c.Nodes = append(b.c.Nodes, n)
}
