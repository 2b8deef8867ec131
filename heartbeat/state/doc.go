// Package state keeps the few facts a Heartbeat node must remember across
// restarts: its generation number (hb_generation) and its node UUID (hb_uuid).
//
// Both files use Heartbeat 3.0.6's on-disk formats, so a node can switch
// between the real Heartbeat and this suite without its peer noticing a
// replay (a lower generation) or a new node (a different UUID). Writes are
// atomic and durable: a crash never leaves a half-written or lower value.
package state
