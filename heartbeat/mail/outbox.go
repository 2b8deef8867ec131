package mail

import (
	"fmt"
	"strings"
	"time"

	"github.com/hasuite/hasuite/heartbeat/notify"
)

// Message is one mail to send: the sender is the Mailer's.
type Message struct {
	To      []string
	Subject string
	Body    string
}

// Bounds and delays of the outbox.
const (
	// Gather is how long the first event of a quiet period waits for the
	// rest of its burst (a failover is node-dead, fence-*, group-active
	// within moments), so that one mail tells the whole story.
	Gather = 2 * time.Second
	// BackoffMin and BackoffMax bound the wait before a failed delivery
	// is tried again; it doubles from one to the next.
	BackoffMin = time.Second
	BackoffMax = time.Minute
	// MaxEvents is how many events one mail lists; more are counted.
	MaxEvents = 100
	// MaxQueued bounds the mails waiting for delivery; beyond it the
	// oldest undelivered mail is dropped (and counted).
	MaxQueued = 100
)

// outbox is the mailer's pure state: events folded into mails at most
// once per interval, and mails waiting for (re)delivery with backoff. It
// does no IO and reads no clock.
type outbox struct {
	node     string
	to       []string
	interval time.Duration

	events []notify.Event
	extra  int       // events beyond MaxEvents in the pending mail
	foldAt time.Time // when the pending events become a mail; zero: none
	last   time.Time // when the last event mail was made

	queue   []*item
	dropped uint64
}

type item struct {
	msg   Message
	tries int
	next  time.Time
}

// addEvent folds e into the pending mail; the mail is made Gather after
// the first event, and never sooner than interval after the previous one.
func (o *outbox) addEvent(e notify.Event, now time.Time) {
	if len(o.events) < MaxEvents {
		o.events = append(o.events, e)
	} else {
		o.extra++
	}
	if o.foldAt.IsZero() {
		o.foldAt = now.Add(Gather)
		if !o.last.IsZero() && o.last.Add(o.interval).After(o.foldAt) {
			o.foldAt = o.last.Add(o.interval)
		}
	}
}

// add queues a ready mail (MailTo resources), delivered at once.
func (o *outbox) add(m Message, now time.Time) {
	if len(o.queue) >= MaxQueued {
		o.queue = o.queue[1:]
		o.dropped++
	}
	o.queue = append(o.queue, &item{msg: m, next: now})
}

// next is when due must next be called; zero when nothing waits.
func (o *outbox) next() time.Time {
	t := o.foldAt
	if len(o.queue) > 0 && (t.IsZero() || o.queue[0].next.Before(t)) {
		t = o.queue[0].next
	}
	return t
}

// due returns the mail to deliver now, if any, after making the pending
// event mail when its time has come. Mails go out in order: a failing one
// holds the ones behind it.
func (o *outbox) due(now time.Time) *item {
	if !o.foldAt.IsZero() && !now.Before(o.foldAt) {
		o.add(o.fold(), now)
		o.events, o.extra, o.foldAt, o.last = nil, 0, time.Time{}, now
	}
	if len(o.queue) > 0 && !now.Before(o.queue[0].next) {
		return o.queue[0]
	}
	return nil
}

// done records the outcome of delivering it (the head of the queue).
func (o *outbox) done(it *item, err error, now time.Time) {
	if len(o.queue) == 0 || o.queue[0] != it {
		return
	}
	if err == nil {
		o.queue = o.queue[1:]
		return
	}
	it.tries++
	it.next = now.Add(backoff(it.tries))
}

func backoff(tries int) time.Duration {
	d := BackoffMin
	for i := 1; i < tries && d < BackoffMax; i++ {
		d *= 2
	}
	return min(d, BackoffMax)
}

// fold makes one mail of the pending events.
func (o *outbox) fold() Message {
	first := o.events[0]
	subject := fmt.Sprintf("[hasuite] %s: %s", o.node, summary(first))
	if n := len(o.events) - 1 + o.extra; n > 0 {
		subject += fmt.Sprintf(" (+%d more)", n)
	}
	var b strings.Builder
	fmt.Fprintf(&b, "Cluster events on node %s:\n\n", o.node)
	for _, e := range o.events {
		b.WriteString(Line(e) + "\n")
	}
	if o.extra > 0 {
		fmt.Fprintf(&b, "... and %d more events (see the log)\n", o.extra)
	}
	return Message{To: o.to, Subject: subject, Body: b.String()}
}

func summary(e notify.Event) string {
	switch {
	case e.Group != "":
		return e.Name + " " + e.Group
	case e.Node != "":
		return e.Name + " " + e.Node
	}
	return e.Name
}

// Line is one event as a mail lists it.
func Line(e notify.Event) string {
	s := e.Time.Format(notify.TimeFormat) + "  " + e.Name
	for _, kv := range [][2]string{{"node", e.Node}, {"group", e.Group}, {"link", e.Link}, {"state", e.State}, {"reason", e.Reason}} {
		if kv[1] != "" {
			s += "  " + kv[0] + "=" + kv[1]
		}
	}
	return s
}
