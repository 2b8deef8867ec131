// Package api defines the requests the daemon answers on its control socket
// and typed client calls for the command-line tools (cl_status, hactl,
// heartbeat -k/-r/-s).
package api

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/hasuite/hasuite/heartbeat/control"
)

// Commands understood by the daemon.
const (
	CmdStatus    = "status"    // -> Status
	CmdParameter = "parameter" // args: name -> Parameter
	CmdStop      = "stop"      // graceful stop; returns at once
	CmdReload    = "reload"    // re-read authkeys and ha.cf
	CmdDebug     = "debug"     // args: "+1", "-1" or a level -> Debug
	CmdStandby   = "standby"   // args: all|foreign|local|failback -> Move, once moved
	CmdTakeover  = "takeover"  // args: all|foreign|local|failback -> Move, once moved
	// CmdFenceConfirm: args: node. An operator reset node by hand (meatware).
	CmdFenceConfirm = "fence-confirm"
	// CmdCleanup: args: group. Clears the group's failures here (hactl
	// cleanup) -> Group.
	CmdCleanup = "cleanup"
)

// HeartbeatVersion is the protocol version we speak and report where
// Heartbeat's tools print theirs.
const HeartbeatVersion = "3.0.6"

// Version is the suite's version, a Debian package version (it starts with
// a digit; see scripts/version.sh). make build sets it from git describe
// with -ldflags "-X github.com/hasuite/hasuite/heartbeat/api.Version=...";
// a plain go build gets it from the VCS stamp Go embeds, as
// BaseVersion~git<commit date>.<hash>[.dirty], and without one (go test, a
// source tree without .git) it is BaseVersion~dev.
var Version string

// BaseVersion is the release the current sources lead to; scripts/version.sh
// uses the same value when git has no release tag.
const BaseVersion = "0.1.0"

func init() {
	if Version == "" {
		Version = vcsVersion()
	}
}

// Status is the daemon's full state for status commands.
type Status struct {
	Version   string   `json:"version"`
	Pid       int      `json:"pid"`
	Hostname  string   `json:"hostname"`
	Managed   string   `json:"managed_by"` // "haresources" or "none"
	Resources string   `json:"resources"`  // none|local|foreign|all|transition
	Debug     int      `json:"debug"`
	Core      Snapshot `json:"core"`
	Links     []Link   `json:"links"`
	Dropped   Dropped  `json:"dropped"`
	Groups    []Group  `json:"groups"`
	// Reach is this node's reachability: its ping nodes and groups; nil
	// when none is configured.
	Reach *Reach `json:"reach,omitempty"`
}

// Reach is this node's reachability.
type Reach struct {
	Alive    int          `json:"alive"` // ping nodes and groups answering
	Total    int          `json:"total"`
	Targets  []PingTarget `json:"targets"`
	Counters PingCounters `json:"counters"`
}

// PingTarget is one ping node or ping group.
type PingTarget struct {
	Name  string     `json:"name"`
	Group bool       `json:"group"`
	State string     `json:"state"` // ping (answering), dead, or init (not yet answered)
	Hosts []PingHost `json:"hosts"`
}

// PingHost is one probed address of a ping node or group.
type PingHost struct {
	Addr string `json:"addr"`
	// LastReply is the age of its last matched echo reply; -1: never.
	LastReply time.Duration `json:"last_reply_ns"`
	RTT       time.Duration `json:"rtt_ns"` // of the last matched reply
	Sent      uint64        `json:"sent"`
	Answered  uint64        `json:"answered"`
}

// PingCounters count the ICMP traffic of the ping nodes.
type PingCounters struct {
	Sent       uint64 `json:"sent"`
	SendErrors uint64 `json:"send_errors"`
	Replies    uint64 `json:"replies"`   // echo replies with our identifier
	WrongID    uint64 `json:"wrong_id"`  // echo replies with another identifier (ignored)
	NotReply   uint64 `json:"not_reply"` // other ICMP messages (ignored)
	Malformed  uint64 `json:"malformed"` // (ignored)
	Unmatched  uint64 `json:"unmatched"` // our identifier, but no echo of that sequence to that address within deadping (ignored)
}

// Snapshot is the membership state as the local node sees it. The types
// of the status live here, not in the membership core, so that the client
// commands do not link the state machines.
type Snapshot struct {
	Node        string         `json:"node"`
	State       string         `json:"state"`
	Generation  uint64         `json:"generation"`
	UUID        string         `json:"uuid"`
	LastSeq     uint64         `json:"last_seq"`
	CommUp      bool           `json:"comm_up"`
	Stopping    bool           `json:"stopping"`
	FlowControl bool           `json:"flow_control"`
	Keepalive   time.Duration  `json:"keepalive_ns"`
	Deadtime    time.Duration  `json:"deadtime_ns"`
	Warntime    time.Duration  `json:"warntime_ns"`
	Initdead    time.Duration  `json:"initdead_ns"`
	Uptime      time.Duration  `json:"uptime_ns"`
	Nodes       []NodeSnapshot `json:"nodes"`
	Counters    Counters       `json:"counters"`
}

// NodeSnapshot describes one node, the local one included.
type NodeSnapshot struct {
	Name  string `json:"name"`
	Type  string `json:"type"`
	State string `json:"state"`
	Local bool   `json:"local"`
	// Deadtime is the timeout applied to this node now.
	Deadtime time.Duration `json:"deadtime_ns"`
	// LastHeard is the age of the last status; -1 when never heard.
	LastHeard  time.Duration  `json:"last_heard_ns"`
	Generation uint64         `json:"generation"`
	LastSeq    uint64         `json:"last_seq"`
	Missing    int            `json:"missing"`
	Links      []LinkSnapshot `json:"links"`
	Counters   PeerCounters   `json:"counters"`
}

// LinkSnapshot is one medium as seen for one node.
type LinkSnapshot struct {
	Name      string        `json:"name"`
	State     string        `json:"state"`         // LinkUp or LinkDead
	LastHeard time.Duration `json:"last_heard_ns"` // -1 when never heard
	Packets   uint64        `json:"packets"`
}

// Link states as LinkSnapshot.State reports them (cl_status's words).
const (
	LinkUp   = "up"
	LinkDead = "dead"
)

// Counters are the membership totals over all peers.
type Counters struct {
	TxMessages      uint64 `json:"tx_messages"`
	RxAccepted      uint64 `json:"rx_accepted"`
	RxDuplicate     uint64 `json:"rx_duplicate"`
	RxReplay        uint64 `json:"rx_replay"`
	RxBadFields     uint64 `json:"rx_bad_fields"`
	RxUnknownNode   uint64 `json:"rx_unknown_node"`
	RxOwn           uint64 `json:"rx_own"`
	RexmitRequested uint64 `json:"rexmit_requested"`
	RexmitSent      uint64 `json:"rexmit_sent"`
	NakSent         uint64 `json:"nak_sent"`
	LostMessages    uint64 `json:"lost_messages"`
}

// PeerCounters are one peer's totals.
type PeerCounters struct {
	Accepted  uint64 `json:"accepted"`
	Duplicate uint64 `json:"duplicate"`
	Replay    uint64 `json:"replay"`
	Gaps      uint64 `json:"gaps"`
	Lost      uint64 `json:"lost"`
}

// Group is one haresources group as this node sees it.
type Group struct {
	Key           string `json:"key"`
	PreferredNode string `json:"preferred_node"`
	State         string `json:"state"` // stopped|starting|running|stopping|stop-failed|restarting
	Failed        bool   `json:"failed"`
	// Failures counts the failures here (monitors, restarts, starts)
	// within the group's restart_window.
	Failures int `json:"failures"`
	// LastFailure is the newest failure's reason, LastFailureAt its time
	// (RFC 3339); empty when none since the daemon started.
	LastFailure   string `json:"last_failure,omitempty"`
	LastFailureAt string `json:"last_failure_at,omitempty"`
	// FailedForGood: its restarts were used up here; it is not started
	// here again until hactl cleanup (or the peer's death).
	FailedForGood bool `json:"failed_for_good"`
	// Health: the group's health from its checks ([[group.check]]) here
	// and as the peer advertises it; absent when neither node has checks.
	Health *GroupHealth `json:"health,omitempty"`
}

// GroupHealth is one group's health on both nodes: eligible (no weight-0
// check failed) and the score (the weights of the checks).
type GroupHealth struct {
	Eligible     bool          `json:"eligible"`
	Score        int           `json:"score"`
	PeerEligible bool          `json:"peer_eligible"`
	PeerScore    int           `json:"peer_score"`
	Checks       []CheckStatus `json:"checks,omitempty"`
}

// CheckStatus is one check here.
type CheckStatus struct {
	Name    string `json:"name"`
	Passing bool   `json:"passing"`
	Runs    int    `json:"runs"`
	// LastOK is the newest run's result (false before the first).
	LastOK bool `json:"last_ok"`
}

// Move is the outcome of a standby or takeover.
type Move struct {
	Holding string `json:"holding"` // what this node holds now: none|local|foreign|all
	Took    string `json:"took"`
}

// Link is one local medium with its IO counters.
type Link struct {
	Name      string `json:"name"`
	Kind      string `json:"kind"`
	Target    string `json:"target"` // peer address, group or device
	TxPackets uint64 `json:"tx_packets"`
	TxErrors  uint64 `json:"tx_errors"`
	RxPackets uint64 `json:"rx_packets"`
	RxBad     uint64 `json:"rx_bad"`
	LastError string `json:"last_error,omitempty"`
}

// Dropped counts packets rejected before they reached the core.
type Dropped struct {
	Malformed   uint64 `json:"malformed"`
	BadAuth     uint64 `json:"bad_auth"`
	NoAuth      uint64 `json:"no_auth"`
	TooLarge    uint64 `json:"too_large"`
	QueueFull   uint64 `json:"queue_full"`
	FromOurself uint64 `json:"from_ourself"`
}

// Parameter is one ha.cf parameter as cl_status hbparameter prints it.
type Parameter struct {
	Name  string `json:"name"`
	Value string `json:"value"`
	Set   bool   `json:"set"`
}

// Debug is the daemon's debug level after a change.
type Debug struct {
	Level int `json:"level"`
}

// DefaultTimeout bounds a client call; cl_status uses 5 s like Heartbeat.
const DefaultTimeout = 5 * time.Second

// Call sends one request and decodes the response's data into out (if not nil).
func Call(ctx context.Context, runDir, cmd string, out any, args ...string) error {
	resp, err := control.Call(ctx, runDir, control.Request{Cmd: cmd, Args: args})
	if err != nil {
		return err
	}
	if !resp.OK {
		return fmt.Errorf("%s: %s", cmd, resp.Error)
	}
	if out != nil && len(resp.Data) > 0 {
		if err := json.Unmarshal(resp.Data, out); err != nil {
			return fmt.Errorf("%s: bad response: %w", cmd, err)
		}
	}
	return nil
}

// GetStatus fetches the daemon's status.
func GetStatus(ctx context.Context, runDir string) (*Status, error) {
	var s Status
	if err := Call(ctx, runDir, CmdStatus, &s); err != nil {
		return nil, err
	}
	return &s, nil
}
