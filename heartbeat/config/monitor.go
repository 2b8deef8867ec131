package config

// monitor_interval: the default monitoring interval of every resource of
// haresources (this suite's directive; Heartbeat 3.0.6 does not monitor
// resources). Unset or 0 is off, as in Heartbeat: a drop-in replacement
// must not begin restarting services nobody asked it to watch.
// haresources.toml's resource_options monitor_interval overrides it per
// resource.

// minMonitorInterval is the shortest interval accepted.
const minMonitorInterval = 100 * 1000 * 1000 // 100ms

func (b *builder) setMonitorInterval(pos Pos, name, v string) {
	d, err := ParseDuration(v)
	switch {
	case err != nil:
		b.errorf(pos, "%s: %v", name, err)
	case d < 0 || (d > 0 && d < minMonitorInterval):
		b.errorf(pos, "%s %s: want 0 (off) or at least 100ms", name, v)
	default:
		b.c.MonitorInterval = d
	}
}
