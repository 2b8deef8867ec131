package haresources

import (
	"fmt"
	"math/bits"
	"net/netip"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/hasuite/hasuite/internal/diag"
)

// OCFConfDir is where Heartbeat's OCF::agent::instance form finds its
// parameter files: OCFConfDir/<agent>/<instance>. Parse and ParseResource
// read it; tests and daemons with another layout may change it before
// parsing.
var OCFConfDir = "/etc/ha.d/conf/OCF"

// ipv4Glob is ResourceManager's isip: the shell glob
// [0-9]*.[0-9]*.[0-9]*.[0-9]* (a shell '*' matches '/' too).
var ipv4Glob = regexp.MustCompile(`^[0-9].*\.[0-9].*\.[0-9].*\.[0-9]`)

// maxIfaceLen is IFNAMSIZ-1: the longest Linux interface name or label.
const maxIfaceLen = 15

// Error is one mistake in a haresources file, at a place. Parse and
// ParseTOML return *Error values (joined when there are several); its
// Error method returns "file:line: msg".
type Error = diag.Diag

func errAt(pos Pos, format string, args ...any) *Error {
	return &Error{Pos: pos, Msg: fmt.Sprintf(format, args...)}
}

// ParseResource parses one resource token of a haresources line (see the
// package documentation for the forms). pos is where the token was written;
// it is copied into the result and names errors. An ocf:provider:agent
// resource gets its agent name as Instance here; Parse replaces it with
// "<agent>_<group number>".
func ParseResource(tok string, pos Pos) (Resource, error) {
	if msg := checkToken(tok); msg != "" {
		return Resource{}, errAt(pos, "resource %q: %s", tok, msg)
	}
	r, msg := parseResource(tok)
	if msg != "" {
		return Resource{}, errAt(pos, "resource %q: %s", tok, msg)
	}
	r.Raw, r.Pos = tok, pos
	return r, nil
}

// checkToken says what keeps tok from being one haresources word, or "".
func checkToken(tok string) string {
	switch {
	case tok == "":
		return "empty"
	case !utf8.ValidString(tok):
		return "not valid UTF-8"
	}
	for _, c := range tok {
		switch {
		case c == '#':
			return "contains '#' (a comment would start there)"
		case c == '\\':
			return "contains a backslash (allowed only at the end of a line, to continue it)"
		case unicode.IsSpace(c):
			return "contains a blank"
		case unicode.IsControl(c) || c == utf8.RuneError:
			return fmt.Sprintf("contains the control character %U", c)
		}
	}
	return ""
}

// parseResource parses a valid token; it returns a message on error.
func parseResource(tok string) (Resource, string) {
	if len(tok) >= 4 && strings.EqualFold(tok[:4], "ocf:") && !strings.HasPrefix(tok, "OCF::") {
		return parseOCFParams(tok)
	}
	if addr, _, _ := strings.Cut(tok, "/"); strings.Contains(addr, ":") {
		if _, err := netip.ParseAddr(addr); err == nil {
			return ipResource("IPv6addr", tok, false)
		}
	}
	if ipv4Glob.MatchString(tok) {
		r, msg := ipResource("IPaddr", tok, true)
		if msg != "" {
			msg = "looks like an IPv4 address (Heartbeat's IPaddr shorthand) but " + msg
		}
		return r, msg
	}
	name, rest, hasArgs := strings.Cut(tok, "::")
	switch name {
	case "IPaddr", "IPaddr2", "IPv6addr":
		if !hasArgs {
			return Resource{}, name + " needs an address: " + name + "::<ip>[/bits[/iface]...]"
		}
		return ipResource(name, rest, name != "IPv6addr")
	case "OCF":
		if !hasArgs {
			return Resource{}, "OCF needs an agent and an instance: OCF::<agent>::<instance>"
		}
		return parseHeartbeatOCF(rest)
	}
	if msg := checkName(name); msg != "" {
		return Resource{}, "script name " + msg
	}
	r := Resource{Kind: KindScript, Type: name}
	if hasArgs {
		r.Args = strings.Split(rest, "::")
		for i, a := range r.Args {
			if a == "" {
				return Resource{}, fmt.Sprintf("argument %d is empty (\"::\" separates arguments)", i+1)
			}
		}
	}
	return r, ""
}

// checkName says what keeps s from being a plain file name, or "".
func checkName(s string) string {
	switch {
	case s == "":
		return "is empty"
	case s == "." || s == "..":
		return fmt.Sprintf("%q is not a file name", s)
	case strings.Contains(s, "/"):
		return fmt.Sprintf("%q contains '/' (give a name, not a path)", s)
	}
	return ""
}

// ipResource parses an address spec for the agent typ.
func ipResource(typ, spec string, v4 bool) (Resource, string) {
	var ip *IPSpec
	var msg string
	if v4 {
		ip, msg = parseIPv4Spec(spec)
	} else {
		ip, msg = parseIPv6Spec(spec)
	}
	if msg != "" {
		return Resource{}, msg
	}
	return Resource{Kind: KindIP, Type: typ, Args: []string{spec}, IP: ip}, ""
}

// parseAddr parses a virtual IP address of the wanted family.
func parseAddr(s string, v4 bool) (netip.Addr, string) {
	a, err := netip.ParseAddr(s)
	if err != nil {
		return a, fmt.Sprintf("%q is not an IP address", s)
	}
	switch {
	case a.Zone() != "":
		return a, fmt.Sprintf("address %q has a zone; give the interface as /bits/iface instead", s)
	case v4 && !a.Is4():
		if a.Is4In6() {
			return a, fmt.Sprintf("%q is an IPv4-mapped IPv6 address; write the IPv4 address", s)
		}
		return a, fmt.Sprintf("%q is not an IPv4 address (use IPv6addr:: for IPv6)", s)
	case !v4 && !a.Is6():
		return a, fmt.Sprintf("%q is not an IPv6 address", s)
	case !v4 && a.Is4In6():
		return a, fmt.Sprintf("%q is an IPv4-mapped IPv6 address; use the IPv4 form", s)
	case a.IsUnspecified(), a.IsLoopback(), a.IsMulticast(), a == netip.AddrFrom4([4]byte{255, 255, 255, 255}):
		return a, fmt.Sprintf("%s cannot be a virtual IP address (unspecified, loopback, multicast or broadcast)", a)
	}
	return a, ""
}

// parseBits parses a prefix length 1..max; for IPv4 a contiguous dotted
// netmask is accepted too, as Heartbeat's IPaddr does.
func parseBits(s string, max int) (int, string) {
	if s == "" {
		return 0, "empty prefix length"
	}
	if max == 32 && strings.Contains(s, ".") {
		m, err := netip.ParseAddr(s)
		if err != nil || !m.Is4() {
			return 0, fmt.Sprintf("netmask %q is not a dotted IPv4 netmask", s)
		}
		b := m.As4()
		v := uint32(b[0])<<24 | uint32(b[1])<<16 | uint32(b[2])<<8 | uint32(b[3])
		if v == 0 || (^v)&(^v+1) != 0 {
			return 0, fmt.Sprintf("netmask %q is not a contiguous netmask", s)
		}
		return bits.OnesCount32(v), ""
	}
	if len(s) > 3 || strings.Trim(s, "0123456789") != "" {
		return 0, fmt.Sprintf("prefix length %q is not a number", s)
	}
	n, _ := strconv.Atoi(s)
	if n < 1 || n > max {
		return 0, fmt.Sprintf("prefix length %d is out of range 1-%d", n, max)
	}
	return n, ""
}

// checkIface says what keeps s from being a Linux interface name, or "".
func checkIface(s string) string {
	switch {
	case s == "":
		return "empty interface name"
	case len(s) > maxIfaceLen:
		return fmt.Sprintf("interface name %q is longer than %d characters", s, maxIfaceLen)
	case s == "." || s == "..":
		return fmt.Sprintf("%q is not an interface name", s)
	case strings.ContainsAny(s, ":/"):
		return fmt.Sprintf("interface name %q contains ':' or '/'", s)
	}
	return ""
}

// isDotted says whether s is digits and dots with at least one of each: the
// broadcast address in ip/bits/bcast.
func isDotted(s string) bool {
	return strings.Contains(s, ".") && strings.ContainsAny(s, "0123456789") && strings.Trim(s, "0123456789.") == ""
}

// parseIPv4Spec parses ip[/bits[/iface[:label]][/broadcast]].
func parseIPv4Spec(spec string) (*IPSpec, string) {
	parts := strings.Split(spec, "/")
	if len(parts) > 4 {
		return nil, "too many '/' parts: want ip[/bits[/iface[:label]][/broadcast]]"
	}
	a, msg := parseAddr(parts[0], true)
	if msg != "" {
		return nil, msg
	}
	ip := &IPSpec{Addr: a.String()}
	if len(parts) > 1 {
		if ip.Bits, msg = parseBits(parts[1], 32); msg != "" {
			return nil, msg
		}
	}
	if len(parts) > 2 {
		third := parts[2]
		if isDotted(third) {
			if len(parts) > 3 {
				return nil, fmt.Sprintf("%q after the prefix length is a broadcast address, so nothing may follow it", third)
			}
			if ip.Broadcast, msg = parseBroadcast(third); msg != "" {
				return nil, msg
			}
			return ip, ""
		}
		iface, label, hasLabel := strings.Cut(third, ":")
		if msg = checkIface(iface); msg != "" {
			return nil, msg
		}
		ip.Iface = iface
		if hasLabel {
			switch {
			case label == "":
				return nil, fmt.Sprintf("empty label in %q", third)
			case strings.Contains(label, ":"):
				return nil, fmt.Sprintf("label %q contains ':'", label)
			case len(third) > maxIfaceLen:
				return nil, fmt.Sprintf("label %q is longer than %d characters", third, maxIfaceLen)
			}
			ip.Label = third
		}
	}
	if len(parts) > 3 {
		if ip.Broadcast, msg = parseBroadcast(parts[3]); msg != "" {
			return nil, msg
		}
	}
	return ip, ""
}

func parseBroadcast(s string) (string, string) {
	b, err := netip.ParseAddr(s)
	if err != nil || !b.Is4() {
		return "", fmt.Sprintf("broadcast %q is not an IPv4 address", s)
	}
	return b.String(), ""
}

// parseIPv6Spec parses addr[/bits[/iface]].
func parseIPv6Spec(spec string) (*IPSpec, string) {
	parts := strings.Split(spec, "/")
	if len(parts) > 3 {
		return nil, "too many '/' parts: want addr[/bits[/iface]]"
	}
	a, msg := parseAddr(parts[0], false)
	if msg != "" {
		return nil, msg
	}
	ip := &IPSpec{Addr: a.String()}
	if len(parts) > 1 {
		if ip.Bits, msg = parseBits(parts[1], 128); msg != "" {
			return nil, msg
		}
	}
	if len(parts) > 2 {
		if msg = checkIface(parts[2]); msg != "" {
			return nil, msg
		}
		ip.Iface = parts[2]
	}
	return ip, ""
}

// parseHeartbeatOCF parses the part after "OCF::": agent::instance.
func parseHeartbeatOCF(rest string) (Resource, string) {
	args := strings.Split(rest, "::")
	if len(args) != 2 {
		return Resource{}, fmt.Sprintf("want OCF::<agent>::<instance>, have %d arguments", len(args))
	}
	agent, inst := args[0], args[1]
	if msg := checkName(agent); msg != "" {
		return Resource{}, "OCF agent name " + msg
	}
	if msg := checkName(inst); msg != "" {
		return Resource{}, "OCF instance name " + msg
	}
	return Resource{Kind: KindOCF, Type: agent, Args: []string{agent, inst}, OCF: &OCFSpec{
		Provider:  "heartbeat",
		Agent:     agent,
		Instance:  inst,
		ParamFile: filepath.Join(OCFConfDir, agent, inst),
	}}, ""
}

// isShellName says whether s is a valid shell variable name.
func isShellName(s string) bool {
	if s == "" {
		return false
	}
	for i, c := range s {
		if !(c == '_' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || i > 0 && c >= '0' && c <= '9') {
			return false
		}
	}
	return true
}

// parseOCFParams parses ocf:<provider>:<agent>[::name=value...].
func parseOCFParams(tok string) (Resource, string) {
	head, rest, hasParams := strings.Cut(tok, "::")
	f := strings.Split(head, ":")
	if len(f) != 3 {
		return Resource{}, "want ocf:<provider>:<agent>[::name=value...]"
	}
	if f[0] != "ocf" {
		return Resource{}, fmt.Sprintf("resource class %q must be written \"ocf\" (or use Heartbeat's OCF::<agent>::<instance>)", f[0])
	}
	if msg := checkName(f[1]); msg != "" {
		return Resource{}, "OCF provider name " + msg
	}
	if msg := checkName(f[2]); msg != "" {
		return Resource{}, "OCF agent name " + msg
	}
	spec := &OCFSpec{Provider: f[1], Agent: f[2], Instance: f[2]}
	if hasParams {
		spec.Params = map[string]string{}
		for i, p := range strings.Split(rest, "::") {
			name, value, ok := strings.Cut(p, "=")
			switch {
			case !ok:
				return Resource{}, fmt.Sprintf("parameter %d %q: want name=value", i+1, p)
			case !isShellName(name):
				return Resource{}, fmt.Sprintf("parameter name %q is not a shell identifier", name)
			}
			if _, dup := spec.Params[name]; dup {
				return Resource{}, fmt.Sprintf("parameter %q is given twice", name)
			}
			spec.Params[name] = value
		}
	}
	return Resource{Kind: KindOCF, Type: f[2], OCF: spec}, ""
}

// identity names what a resource controls: two resources with the same
// identity must not be in one file (the same address, the same script with
// the same arguments, the same OCF instance).
func identity(r *Resource) string {
	switch {
	case r.Kind == KindIP && r.IP != nil:
		return "ip " + r.IP.Addr
	case r.Kind == KindOCF && r.OCF != nil && r.OCF.ParamFile != "":
		return "OCF " + r.OCF.Agent + "\x00" + r.OCF.Instance
	case r.Kind == KindOCF && r.OCF != nil:
		keys := make([]string, 0, len(r.OCF.Params))
		for k := range r.OCF.Params {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		id := "ocf " + r.OCF.Provider + "\x00" + r.OCF.Agent
		for _, k := range keys {
			id += "\x00" + k + "=" + r.OCF.Params[k]
		}
		return id
	}
	return "script " + r.Type + "\x00" + strings.Join(r.Args, "\x00")
}
