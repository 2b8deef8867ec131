package core

// Counters are totals over all peers, for metrics and `hactl status`.
type Counters struct {
	TxMessages      uint64
	RxAccepted      uint64
	RxDuplicate     uint64
	RxReplay        uint64
	RxBadFields     uint64
	RxUnknownNode   uint64
	RxOwn           uint64
	RexmitRequested uint64
	RexmitSent      uint64
	NakSent         uint64
	LostMessages    uint64
}

// PeerCounters are per-peer totals.
type PeerCounters struct {
	Accepted  uint64
	Duplicate uint64
	Replay    uint64
	Gaps      uint64
	Lost      uint64
}
