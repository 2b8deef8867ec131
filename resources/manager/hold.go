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
