package config

import (
	"fmt"
	"net/netip"
	"strconv"
	"strings"
)

// parseBool accepts the words of cluster-glue's cl_str_to_boolean,
// case-insensitively.
func parseBool(s string) (bool, error) {
	switch strings.ToLower(s) {
	case "true", "on", "yes", "y", "1":
		return true, nil
	case "false", "off", "no", "n", "0":
		return false, nil
	}
	return false, fmt.Errorf("%q is not a boolean (want yes/no, on/off, true/false, y/n or 1/0)", s)
}

// parseInt parses a decimal integer in [lo, hi]. Unlike Heartbeat's atoi it
// rejects junk instead of reading it as 0.
func parseInt(s string, lo, hi int) (int, error) {
	if s == "" || strings.IndexFunc(s, func(r rune) bool { return r < '0' || r > '9' }) >= 0 {
		return 0, fmt.Errorf("%q is not a non-negative decimal integer", s)
	}
	n, err := strconv.Atoi(s)
	if err != nil || n < lo || n > hi {
		return 0, fmt.Errorf("%s is out of range %d-%d", s, lo, hi)
	}
	return n, nil
}

// asciiLower lower-cases ASCII letters only, as Heartbeat's
// inplace_ascii_strdown does; node names go on the wire this way.
func asciiLower(s string) string {
	b := []byte(s)
	for i, c := range b {
		if c >= 'A' && c <= 'Z' {
			b[i] = c + 'a' - 'A'
		}
	}
	return string(b)
}

// hbWhitespace and hbDelims are Heartbeat's WHITESPACE and DELIMS sets.
const (
	hbWhitespace = " \t\n\r\f"
	hbDelims     = ", \t\n\r\f"
)

// checkWord rejects names that could not have come from one ha.cf token
// (TOML strings can hold anything).
func checkWord(what, s string) error {
	if s == "" {
		return fmt.Errorf("empty %s", what)
	}
	for _, r := range s {
		if r < 0x20 || r == 0x7f || strings.ContainsRune(hbDelims+"#", r) {
			return fmt.Errorf("%s %q contains a blank, comma, '#' or control character", what, s)
		}
	}
	return nil
}

// checkNodeName validates a node name: one token, shorter than Heartbeat's
// HOSTLENG (100).
func checkNodeName(s string) error {
	if err := checkWord("node name", s); err != nil {
		return err
	}
	if len(s) >= 100 {
		return fmt.Errorf("node name %q is longer than 99 bytes", s)
	}
	return nil
}

// checkIfName validates a network interface name the way the kernel's
// dev_valid_name does.
func checkIfName(s string) error {
	if s == "" {
		return fmt.Errorf("missing interface name")
	}
	if len(s) > 15 {
		return fmt.Errorf("interface name %q is longer than 15 bytes", s)
	}
	if s == "." || s == ".." || strings.ContainsAny(s, "/:") {
		return fmt.Errorf("invalid interface name %q (alias labels such as eth0:1 are not interfaces)", s)
	}
	return checkWord("interface name", s)
}

// checkHost validates an address literal or a DNS host name.
func checkHost(s string) error {
	if _, err := netip.ParseAddr(s); err == nil {
		return nil
	}
	if len(s) == 0 || len(s) > 253 {
		return fmt.Errorf("invalid host %q", s)
	}
	for _, label := range strings.Split(strings.TrimSuffix(s, "."), ".") {
		if label == "" || len(label) > 63 || label[0] == '-' || label[len(label)-1] == '-' {
			return fmt.Errorf("invalid host %q: not an IP address or host name", s)
		}
		for i := 0; i < len(label); i++ {
			c := label[i]
			if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '_') {
				return fmt.Errorf("invalid host %q: not an IP address or host name", s)
			}
		}
	}
	return nil
}

// checkAbsPath requires an absolute path without control characters.
func checkAbsPath(what, s string) error {
	if !strings.HasPrefix(s, "/") {
		return fmt.Errorf("%s %q is not an absolute path", what, s)
	}
	return checkWord(what, s)
}
