package stonith

import (
	"context"
	"errors"
	"fmt"
	"strings"
)

// Chain is several devices tried in order. Heartbeat supports one device;
// a chain adds fallbacks (e.g. IPMI, then a PDU, then meatware).
type Chain []Device

var _ Device = Chain(nil)

// Name lists the member names, comma-separated.
func (c Chain) Name() string {
	names := make([]string, len(c))
	for i, d := range c {
		names[i] = d.Name()
	}
	return strings.Join(names, ",")
}

func (c Chain) empty(op, node string) error {
	return newError("chain", op, node, BadConfig, errors.New("no STONITH device configured"))
}

// Reset tries each device in order and succeeds at the first that does.
// Otherwise it returns every device's error joined (ResultOf gives the
// first one's Result). It stops early when ctx ends.
func (c Chain) Reset(ctx context.Context, node string) error {
	if len(c) == 0 {
		return c.empty("reset", node)
	}
	var errs []error
	for _, d := range c {
		if err := ctx.Err(); err != nil {
			errs = append(errs, newError(d.Name(), "reset", node, Timeout, fmt.Errorf("not tried: %w", err)))
			break
		}
		err := d.Reset(ctx, node)
		if err == nil {
			return nil
		}
		errs = append(errs, err)
	}
	return errors.Join(errs...)
}

// Status checks every device; it returns nil when all are operational,
// else the failures joined.
func (c Chain) Status(ctx context.Context) error {
	if len(c) == 0 {
		return c.empty("status", "")
	}
	var errs []error
	for _, d := range c {
		errs = append(errs, d.Status(ctx))
	}
	return errors.Join(errs...)
}

// Hosts is the union of the devices' host lists, in order. It fails only
// when no device could list its hosts.
func (c Chain) Hosts(ctx context.Context) ([]string, error) {
	if len(c) == 0 {
		return nil, c.empty("gethosts", "")
	}
	var hosts []string
	seen := make(map[string]bool)
	var errs []error
	ok := false
	for _, d := range c {
		hs, err := d.Hosts(ctx)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		ok = true
		for _, h := range hs {
			if !seen[h] {
				seen[h] = true
				hosts = append(hosts, h)
			}
		}
	}
	if !ok {
		return nil, errors.Join(errs...)
	}
	return hosts, nil
}
