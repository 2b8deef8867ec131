package mail

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/hasuite/hasuite/heartbeat/notify"
)

var t0 = time.Date(2026, 12, 7, 21, 0, 0, 0, time.UTC)

func ev(name, group string, at time.Duration) notify.Event {
	return notify.Event{Name: name, Node: "node1", Group: group, Time: t0.Add(at)}
}

// A burst is one mail, made Gather after its first event; events within
// the interval after it wait for the next mail; the two go out in order.
func TestOutboxFoldsAndLimits(t *testing.T) {
	o := &outbox{node: "node1", to: []string{"ops@example.com"}, interval: time.Minute}
	if !o.next().IsZero() || o.due(t0) != nil {
		t.Fatal("empty outbox has work")
	}
	o.addEvent(ev("node-dead", "", 0), t0)
	o.addEvent(ev("fence-ok", "", 500*time.Millisecond), t0.Add(500*time.Millisecond))
	o.addEvent(ev("group-active", "g1", time.Second), t0.Add(time.Second))
	if got := o.next(); !got.Equal(t0.Add(Gather)) {
		t.Fatalf("next %v, want t0+%v", got, Gather)
	}
	if o.due(t0.Add(time.Second)) != nil {
		t.Fatal("mail made before the burst was gathered")
	}
	it := o.due(t0.Add(Gather))
	if it == nil {
		t.Fatal("no mail after Gather")
	}
	if it.msg.Subject != "[hasuite] node1: node-dead node1 (+2 more)" || len(it.msg.To) != 1 {
		t.Errorf("subject %q", it.msg.Subject)
	}
	for _, w := range []string{"node-dead  node=node1", "fence-ok", "group-active  node=node1  group=g1"} {
		if !strings.Contains(it.msg.Body, w) {
			t.Errorf("body lacks %q:\n%s", w, it.msg.Body)
		}
	}
	o.done(it, nil, t0.Add(Gather))
	// 10 s later: waits for the interval since the last mail.
	o.addEvent(ev("node-up", "", 10*time.Second), t0.Add(10*time.Second))
	o.addEvent(ev("group-stopped", "g1", 11*time.Second), t0.Add(11*time.Second))
	if got := o.next(); !got.Equal(t0.Add(Gather + time.Minute)) {
		t.Fatalf("next %v, want the interval after the last mail", got)
	}
	if o.due(t0.Add(30*time.Second)) != nil {
		t.Fatal("rate limit not kept")
	}
	it = o.due(t0.Add(Gather + time.Minute))
	if it == nil || it.msg.Subject != "[hasuite] node1: node-up node1 (+1 more)" {
		t.Fatalf("second mail %+v", it)
	}
}

// A failed delivery is retried with a doubling backoff up to BackoffMax;
// the mails behind it wait, and go out in order once it is delivered.
func TestOutboxRetriesWithBackoff(t *testing.T) {
	o := &outbox{node: "node1", to: []string{"a@b.c"}, interval: time.Second}
	o.add(Message{Subject: "first"}, t0)
	o.add(Message{Subject: "second"}, t0)
	now := t0
	var waits []time.Duration
	for range 9 {
		it := o.due(now)
		if it == nil || it.msg.Subject != "first" {
			t.Fatalf("at %v: %+v", now.Sub(t0), it)
		}
		o.done(it, errors.New("connection refused"), now)
		next := o.next()
		waits = append(waits, next.Sub(now))
		if o.due(next.Add(-time.Millisecond)) != nil {
			t.Fatal("retried early")
		}
		now = next
	}
	want := []time.Duration{1, 2, 4, 8, 16, 32, 60, 60, 60}
	for i := range want {
		want[i] *= time.Second
	}
	for i := range want {
		if waits[i] != want[i] {
			t.Fatalf("waits %v, want %v", waits, want)
		}
	}
	for _, s := range []string{"first", "second"} {
		it := o.due(now)
		if it == nil || it.msg.Subject != s {
			t.Fatalf("want %s, got %+v", s, it)
		}
		o.done(it, nil, now)
	}
	if o.due(now) != nil || !o.next().IsZero() {
		t.Fatal("left over")
	}
}

// Bounds: a mail lists at most MaxEvents events and counts the rest; the
// queue keeps at most MaxQueued mails, dropping the oldest.
func TestOutboxBounds(t *testing.T) {
	o := &outbox{node: "n", interval: time.Second}
	for i := range MaxEvents + 5 {
		o.addEvent(ev("link-dead", "", time.Duration(i)), t0)
	}
	it := o.due(t0.Add(Gather))
	if it == nil || !strings.Contains(it.msg.Subject, "(+104 more)") || !strings.Contains(it.msg.Body, "and 5 more events") {
		t.Fatalf("%+v", it)
	}
	for range MaxQueued + 3 {
		o.add(Message{Subject: "m"}, t0)
	}
	if len(o.queue) != MaxQueued || o.dropped != 4 {
		t.Fatalf("queue %d dropped %d", len(o.queue), o.dropped)
	}
}
