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
	"github.com/hasuite/hasuite/heartbeat/core"
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
)

// Version is the suite's version; HeartbeatVersion is the protocol version
// we speak and report where Heartbeat's tools print theirs.
const (
	Version          = "0.1.0"
	HeartbeatVersion = "3.0.6"
)

// Status is the daemon's full state for status commands.
type Status struct {
	Version   string        `json:"version"`
	Pid       int           `json:"pid"`
	Hostname  string        `json:"hostname"`
	Managed   string        `json:"managed_by"` // "haresources" or "none"
	Resources string        `json:"resources"`  // none|local|foreign|all|transition
	Debug     int           `json:"debug"`
	Core      core.Snapshot `json:"core"`
	Links     []Link        `json:"links"`
	Dropped   Dropped       `json:"dropped"`
	Groups    []Group       `json:"groups"`
}

// Group is one haresources group as this node sees it.
type Group struct {
	Key           string `json:"key"`
	PreferredNode string `json:"preferred_node"`
	State         string `json:"state"` // stopped|starting|running|stopping|stop-failed
	Failed        bool   `json:"failed"`
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
