package config

import (
	"errors"
	"net"
	"net/netip"
	"strconv"
)

// Metrics are this suite's Prometheus settings (Heartbeat 3.0.6 has none).
type Metrics struct {
	// Listen is metrics_listen: the address:port of the /metrics HTTP
	// server, "" (the default) for none.
	Listen string
	// Required is metrics_required: when on (the default) a metrics
	// address that cannot be bound stops the daemon at start; when off
	// the daemon runs without metrics and retries the address.
	Required bool
}

func init() {
	directives["metrics_listen"] = directive{apply: (*builder).setMetricsListen, once: true, record: true}
	directives["metrics_required"] = directive{apply: (*builder).setMetricsRequired, once: true, record: true}
}

func (b *builder) setMetricsListen(pos Pos, name, v string) {
	addr, err := ParseListenAddr(v)
	if err != nil {
		b.errorf(pos, "%s %s: %v", name, v, err)
		return
	}
	b.c.Metrics.Listen = addr
}

func (b *builder) setMetricsRequired(pos Pos, name, v string) {
	on, err := parseBool(v)
	if err != nil {
		b.errorf(pos, "%s: %v", name, err)
		return
	}
	b.c.Metrics.Required = on
}

// ParseListenAddr checks a TCP listen address "IP:port", "[IPv6]:port" or
// ":port" (every address) and returns it normalised. Host names are
// refused: the daemon must not depend on name resolution to start.
func ParseListenAddr(s string) (string, error) {
	host, port, err := net.SplitHostPort(s)
	if err != nil {
		return "", errors.New("want address:port, e.g. 127.0.0.1:9101 or [::1]:9101 or :9101")
	}
	p, err := strconv.ParseUint(port, 10, 16)
	if err != nil || p == 0 {
		return "", errors.New("the port must be a number from 1 to 65535")
	}
	if host == "" {
		return ":" + strconv.FormatUint(p, 10), nil
	}
	ip, err := netip.ParseAddr(host)
	if err != nil || ip.Zone() != "" {
		return "", errors.New("the address must be an IP address (no host names, no zones), or empty for every address")
	}
	return netip.AddrPortFrom(ip, uint16(p)).String(), nil
}

// effectiveMetrics adds the metrics settings to Settings (and so to
// Effective and hactl check --json).
func (c *Config) effectiveMetrics(line, optional func(name, value string)) {
	optional("metrics_listen", c.Metrics.Listen)
	line("metrics_required", map[bool]string{true: "on", false: "off"}[c.Metrics.Required])
}
