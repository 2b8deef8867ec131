package events

import (
	"sync"
	"time"
)

// Defaults for NewHub and Subscribe.
const (
	// DefaultCapacity is how many recent events the ring keeps.
	DefaultCapacity = 1000
	// DefaultQueue is a subscriber's queue: events published but not yet
	// taken by its connection's goroutine. A burst larger than this (a
	// takeover of many groups is a few dozen events) while the client
	// does not read gets the subscriber dropped.
	DefaultQueue = 256
)

// Hub is the ring of recent events and the set of subscribers. Publish
// never blocks on a subscriber; all methods are safe for concurrent use.
type Hub struct {
	mu      sync.Mutex
	ring    []Record
	next    int // where the next record goes in ring
	full    bool
	seq     uint64
	subs    map[*Sub]struct{}
	dropped uint64 // subscribers dropped for not reading
}

// Sub is one subscriber. Its channel C delivers the records published
// after Subscribe, in order, and is closed when the subscriber is
// dropped (Dropped reports true) or cancelled.
type Sub struct {
	C       <-chan Record
	c       chan Record
	hub     *Hub
	dropped bool // guarded by hub.mu
}

// NewHub returns a hub keeping the last capacity events (DefaultCapacity
// if capacity <= 0).
func NewHub(capacity int) *Hub {
	if capacity <= 0 {
		capacity = DefaultCapacity
	}
	return &Hub{ring: make([]Record, capacity), subs: map[*Sub]struct{}{}}
}

// Publish numbers r, keeps it in the ring and offers it to every
// subscriber. A subscriber whose queue is full is dropped: its channel
// is closed after what it has queued. Publish returns at once.
func (h *Hub) Publish(r Record) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.seq++
	r.Seq = h.seq
	h.ring[h.next] = r
	h.next++
	if h.next == len(h.ring) {
		h.next, h.full = 0, true
	}
	for s := range h.subs {
		select {
		case s.c <- r:
		default:
			s.dropped = true
			delete(h.subs, s)
			close(s.c)
			h.dropped++
		}
	}
}

// Subscribe registers a subscriber with a queue of queue records
// (DefaultQueue if <= 0) and returns it with the kept records not older
// than since before now (none if since is 0, all kept if since < 0), oldest
// first. Records published after the backlog arrive on C; none is lost or
// repeated between the two.
func (h *Hub) Subscribe(since time.Duration, now time.Time, queue int) (*Sub, []Record) {
	if queue <= 0 {
		queue = DefaultQueue
	}
	c := make(chan Record, queue)
	s := &Sub{C: c, c: c, hub: h}
	h.mu.Lock()
	defer h.mu.Unlock()
	var backlog []Record
	if since != 0 {
		backlog = h.recentLocked(since, now)
	}
	h.subs[s] = struct{}{}
	return s, backlog
}

// Recent returns the kept records not older than since before now
// (every kept record if since < 0), oldest first.
func (h *Hub) Recent(since time.Duration, now time.Time) []Record {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.recentLocked(since, now)
}

func (h *Hub) recentLocked(since time.Duration, now time.Time) []Record {
	var all []Record
	if h.full {
		all = append(all, h.ring[h.next:]...)
	}
	all = append(all, h.ring[:h.next]...)
	if since < 0 {
		return all
	}
	cut := now.Add(-since)
	for i, r := range all {
		if !r.Time.Before(cut) {
			return all[i:]
		}
	}
	return nil
}

// Cancel unregisters s and closes its channel (if not done already).
func (s *Sub) Cancel() {
	h := s.hub
	h.mu.Lock()
	defer h.mu.Unlock()
	if _, ok := h.subs[s]; ok {
		delete(h.subs, s)
		close(s.c)
	}
}

// Dropped reports whether the hub dropped s because its queue was full.
// It is meaningful once C is closed.
func (s *Sub) Dropped() bool {
	s.hub.mu.Lock()
	defer s.hub.mu.Unlock()
	return s.dropped
}

// Stats are the hub's figures for metrics.
type Stats struct {
	Published   uint64 // events published
	Subscribers int    // subscribers now
	Dropped     uint64 // subscribers dropped for not reading
}

// Stats returns the hub's figures.
func (h *Hub) Stats() Stats {
	h.mu.Lock()
	defer h.mu.Unlock()
	return Stats{Published: h.seq, Subscribers: len(h.subs), Dropped: h.dropped}
}
