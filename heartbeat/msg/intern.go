package msg

// internName returns name as a string without allocating for the field
// names Heartbeat v1 sends on every packet (a switch on string(b) does not
// copy b). At 100 packets/s per link this saves a dozen allocations each.
func internName(b []byte) string {
	switch string(b) {
	case FType:
		return FType
	case FSrc:
		return FSrc
	case FSrcUUID:
		return FSrcUUID
	case FDest:
		return FDest
	case FDestUUID:
		return FDestUUID
	case FSeq:
		return FSeq
	case FGen:
		return FGen
	case FTS:
		return FTS
	case FLoad:
		return FLoad
	case FTTL:
		return FTTL
	case FAuth:
		return FAuth
	case "st":
		return "st"
	case "dt":
		return "dt"
	case "protocol":
		return "protocol"
	case "info":
		return "info"
	case "ackseq":
		return "ackseq"
	case "firstseq":
		return "firstseq"
	case "lastseq":
		return "lastseq"
	}
	return string(b)
}
