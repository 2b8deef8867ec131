package config

import (
	"errors"
	"fmt"
	"math/big"
	"strconv"
	"strings"
	"time"
)

// maxMillis bounds every configured time. It is the largest value a 32-bit
// C long holds, which is what Heartbeat stores times in, and far beyond
// any sensible timeout.
const maxMillis = 1<<31 - 1

// unitMillis maps a time unit to milliseconds per unit. "s" is ours:
// Heartbeat rejects "30s", which surprises everyone.
var unitMillis = map[string]*big.Rat{
	"":     big.NewRat(1000, 1),
	"s":    big.NewRat(1000, 1),
	"ms":   big.NewRat(1, 1),
	"msec": big.NewRat(1, 1),
	"us":   big.NewRat(1, 1000),
	"usec": big.NewRat(1, 1000),
}

// ParseDuration parses Heartbeat's time syntax (cl_get_msec): a decimal
// number with an optional fraction, optional blanks, and an optional unit:
// none or "s" = seconds, "ms"/"msec" = milliseconds, "us"/"usec" =
// microseconds (units are case-insensitive). The result is rounded to the
// nearest millisecond, halves up, so "0.1" is 100ms and "499us" is 0.
// Negative values, exponents and trailing junk are rejected.
func ParseDuration(s string) (time.Duration, error) {
	t := strings.Trim(s, " \t")
	end := 0
	digits := 0
	dot := false
	for end < len(t) {
		c := t[end]
		if c >= '0' && c <= '9' {
			digits++
		} else if c == '.' && !dot {
			dot = true
		} else {
			break
		}
		end++
	}
	if digits == 0 {
		return 0, fmt.Errorf("invalid time %q: want a number of seconds, optionally with unit ms, us or s", s)
	}
	num := t[:end]
	unit := strings.ToLower(strings.TrimLeft(t[end:], " \t"))
	perUnit, ok := unitMillis[unit]
	if !ok {
		return 0, fmt.Errorf("invalid time %q: unknown unit %q (want ms, us or s; no unit means seconds)", s, t[end:])
	}
	if strings.HasSuffix(num, ".") {
		num += "0"
	}
	if strings.HasPrefix(num, ".") {
		num = "0" + num
	}
	// Heartbeat parses with atof; exact rational arithmetic gives the same
	// rounding without binary floating point surprises at the .5 edges.
	r, ok := new(big.Rat).SetString(num)
	if !ok {
		return 0, fmt.Errorf("invalid time %q", s)
	}
	r.Mul(r, perUnit)
	r.Add(r, big.NewRat(1, 2))
	ms := new(big.Int).Quo(r.Num(), r.Denom())
	if !ms.IsInt64() || ms.Int64() > maxMillis {
		return 0, errors.New("time " + strconv.Quote(s) + " is too large")
	}
	return time.Duration(ms.Int64()) * time.Millisecond, nil
}

// formatMillis writes a duration the way Heartbeat records computed
// times: whole milliseconds with an "ms" suffix.
func formatMillis(d time.Duration) string {
	return strconv.FormatInt(d.Milliseconds(), 10) + "ms"
}
