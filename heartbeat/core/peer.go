package core

import (
	"sort"
	"time"
)

// peer is everything the core tracks about another node.
type peer struct {
	name  string
	state NodeState
	uuid  []byte

	heard      bool          // any valid message ever
	lastStatus time.Duration // last fresh status message (or start)
	deadtime   time.Duration // advertised "dt", 0 when unknown
	warned     bool
	protocol   bool // the peer advertises protocol=1
	shutdone   bool // announced a graceful stop in generation gen

	// Sequence tracking (Heartbeat's struct seqtrack).
	gen      uint64
	genKnown bool
	lastSeq  uint64
	missing  map[uint64]*gap
	// resumed: lastSeq comes from a previous run's mark, so the first newer
	// message is not a gap to recover, only a floor for replays.
	resumed bool
	// statusSeq is the seq of the newest status processed.
	statusSeq uint64

	ackTrigger  int
	ackedByPeer uint64 // highest of our seqs the peer acknowledged

	// fields are the last values of the watched status fields.
	fields map[string]string

	links    map[string]*link
	counters PeerCounters
}

type gap struct {
	due   time.Duration
	tries int
}

type link struct {
	name      string
	state     LinkState
	lastHeard time.Duration
	heard     bool
	packets   uint64
}

func newPeer(name string, ackTrigger int) *peer {
	return &peer{name: name, ackTrigger: ackTrigger, links: map[string]*link{}}
}

func (p *peer) link(name string) *link {
	l, ok := p.links[name]
	if !ok {
		l = &link{name: name}
		p.links[name] = l
	}
	return l
}

// linkList returns the links in name order so events come out deterministically.
func (p *peer) linkList() []*link {
	out := make([]*link, 0, len(p.links))
	for _, l := range p.links {
		out = append(out, l)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].name < out[j].name })
	return out
}

// resetSeq forgets the sequence state for a new generation.
func (p *peer) resetSeq(gen uint64) {
	p.gen = gen
	p.genKnown = true
	p.lastSeq = 0
	p.missing = nil
	p.resumed = false
	p.statusSeq = 0
}
