package core

import (
	"errors"
	"fmt"
	"strings"
	"time"
)

// Config is what the core needs to know; the daemon builds it from the
// parsed ha.cf and the state directory.
type Config struct {
	LocalNode string
	// Nodes are all normal nodes, the local one included, in ha.cf order.
	Nodes []string
	// PingNodes counts ping pseudo-nodes; they only change ttl here.
	PingNodes int
	// Links are the names of the local media; every message goes out on all.
	Links []string

	Keepalive, Deadtime, Warntime, Initdead time.Duration
	// MaxRexmitDelay spaces retransmission requests (Heartbeat's max_rexmit_delay).
	MaxRexmitDelay time.Duration
	// RexmitTries bounds the requests for one missing message before we give
	// it up; Heartbeat asks forever. Default 10.
	RexmitTries int
	Hopfudge    int

	UUID       []byte // 16 bytes, sent as srcuuid
	Generation uint64 // this run's generation (hg), already persisted

	// FlowControl advertises protocol=1: ACKs and the reqnodes join, as
	// Heartbeat 3.0.6 does. Disabled for good if a peer does not speak it.
	FlowControl bool
	// Seed makes retransmission jitter and ACK triggers reproducible.
	Seed int64
	// PeerMarks are the newest (generation, seq) seen from each peer by a
	// previous run, from the state directory. They let a restarted node
	// reject replays of traffic it had already seen before it restarted.
	PeerMarks map[string]Mark
}

// Mark is the newest message seen from a peer: its generation and seq.
type Mark struct {
	Gen uint64 `json:"gen"`
	Seq uint64 `json:"seq"`
}

func (c *Config) validate() error {
	var errs []error
	if c.LocalNode == "" {
		errs = append(errs, errors.New("local node name is empty"))
	}
	seen := map[string]bool{}
	local := false
	for _, n := range c.Nodes {
		if n != strings.ToLower(n) || n == "" {
			errs = append(errs, fmt.Errorf("node name %q must be non-empty lower case", n))
		}
		if seen[n] {
			errs = append(errs, fmt.Errorf("node %q listed twice", n))
		}
		seen[n] = true
		local = local || n == c.LocalNode
	}
	if !local {
		errs = append(errs, fmt.Errorf("local node %q is not among the nodes", c.LocalNode))
	}
	if c.Keepalive <= 0 || c.Deadtime <= 2*c.Keepalive {
		errs = append(errs, fmt.Errorf("deadtime %v must exceed twice keepalive %v", c.Deadtime, c.Keepalive))
	}
	if c.Initdead < c.Deadtime {
		errs = append(errs, fmt.Errorf("initdead %v must be at least deadtime %v", c.Initdead, c.Deadtime))
	}
	if len(c.UUID) != 16 {
		errs = append(errs, fmt.Errorf("uuid must be 16 bytes, got %d", len(c.UUID)))
	}
	if c.Generation == 0 {
		errs = append(errs, errors.New("generation must be non-zero"))
	}
	return errors.Join(errs...)
}

func (c *Config) applyDefaults() {
	if c.Warntime <= 0 || c.Warntime >= c.Deadtime {
		c.Warntime = c.Deadtime / 2
	}
	if c.MaxRexmitDelay <= 0 {
		c.MaxRexmitDelay = 250 * time.Millisecond
	}
	if c.RexmitTries <= 0 {
		c.RexmitTries = 10
	}
	if c.Hopfudge < 0 {
		c.Hopfudge = 1
	}
}
