package core

// Counters are totals over all peers, for metrics and `hactl status`.
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

// PeerCounters are per-peer totals.
type PeerCounters struct {
	Accepted  uint64 `json:"accepted"`
	Duplicate uint64 `json:"duplicate"`
	Replay    uint64 `json:"replay"`
	Gaps      uint64 `json:"gaps"`
	Lost      uint64 `json:"lost"`
}
