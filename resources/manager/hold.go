package manager

// Hold is a set of groups in Heartbeat's rsc_hold words: a bit mask of
// local (1) and foreign (2).
type Hold int

// Hold values.
const (
	None    Hold = 0
	Local   Hold = 1
	Foreign Hold = 2
	All     Hold = 3
)

func (h Hold) String() string {
	switch h {
	case None:
		return "none"
	case Local:
		return "local"
	case Foreign:
		return "foreign"
	case All:
		return "all"
	}
	return "none"
}

// ParseHold parses an rsc_hold word; "failback" means foreign, as in
// hb_standby.
func ParseHold(s string) (Hold, bool) {
	switch s {
	case "none":
		return None, true
	case "local":
		return Local, true
	case "foreign", "failback":
		return Foreign, true
	case "all":
		return All, true
	}
	return None, false
}

// StandbySet is the set "hb_standby WORD" moves away from the node that
// runs it, in its terms, as Heartbeat's hb_standby: all, local or foreign;
// failback means foreign (give the peer its groups back).
func StandbySet(word string) (Hold, bool) {
	if word == "none" {
		return None, false
	}
	return ParseHold(word)
}

// TakeoverSet is the set "hb_takeover WORD" brings to the node that runs
// it, in its terms: all, local or foreign; failback means local (take back
// the groups this node is preferred for), as Heartbeat's documentation
// says. (Heartbeat 3.0.6's rc.d/hb_takeover has no failback case and runs
// hb_standby all on the peer: it takes everything.) The same word goes on
// the wire as the hb_takeover message's rsc_hold, failback sent as local.
func TakeoverSet(word string) (Hold, bool) {
	if word == "failback" {
		return Local, true
	}
	return StandbySet(word)
}

// mirror turns a set named by one node into the same set named by the
// other: my local groups are the peer's foreign ones.
func (h Hold) mirror() Hold {
	var m Hold
	if h&Local != 0 {
		m |= Foreign
	}
	if h&Foreign != 0 {
		m |= Local
	}
	return m
}
