package events

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/hasuite/hasuite/heartbeat/core"
	"github.com/hasuite/hasuite/heartbeat/node"
	"github.com/hasuite/hasuite/resources/manager"
)

var t0 = time.Date(2026, 12, 7, 21, 0, 0, 0, time.UTC)

func rec(i int) Record {
	return Record{Time: t0.Add(time.Duration(i) * time.Second), Event: "link-up", Link: "eth" + string(rune('0'+i%10))}
}

func TestOrderAndSeq(t *testing.T) {
	h := NewHub(10)
	s, backlog := h.Subscribe(0, t0, 100)
	if len(backlog) != 0 {
		t.Fatalf("backlog with since 0: %v", backlog)
	}
	for i := range 50 {
		h.Publish(rec(i))
	}
	for i := range 50 {
		r := <-s.C
		if r.Seq != uint64(i+1) || !r.Time.Equal(rec(i).Time) {
			t.Fatalf("record %d: seq %d time %v", i, r.Seq, r.Time)
		}
	}
	s.Cancel()
	if _, ok := <-s.C; ok {
		t.Fatal("channel open after Cancel")
	}
	s.Cancel() // twice is harmless
	if s.Dropped() {
		t.Fatal("cancelled subscriber reported as dropped")
	}
}

func TestSlowSubscriberDropped(t *testing.T) {
	h := NewHub(10)
	slow, _ := h.Subscribe(0, t0, 4)
	fast, _ := h.Subscribe(0, t0, 100)
	done := make(chan struct{})
	go func() {
		for i := range 20 {
			h.Publish(rec(i)) // must never block on slow
		}
		close(done)
	}()
	select {
	case <-done:
	case <-time.After(5 * time.Second):
		t.Fatal("Publish blocked on a subscriber that does not read")
	}
	var got []uint64
	for r := range slow.C {
		got = append(got, r.Seq)
	}
	if len(got) != 4 || got[0] != 1 || got[3] != 4 || !slow.Dropped() {
		t.Fatalf("slow subscriber got %v, dropped %v; want the 4 queued then closed", got, slow.Dropped())
	}
	for i := range 20 {
		if r := <-fast.C; r.Seq != uint64(i+1) {
			t.Fatalf("fast subscriber: record %d has seq %d", i, r.Seq)
		}
	}
	if st := h.Stats(); st.Subscribers != 1 || st.Dropped != 1 || st.Published != 20 {
		t.Fatalf("stats %+v", st)
	}
}

func TestSince(t *testing.T) {
	h := NewHub(5)
	for i := range 8 { // records at t0+0s..t0+7s; the ring keeps 3..7
		h.Publish(rec(i))
	}
	now := t0.Add(7 * time.Second)
	for _, c := range []struct {
		since time.Duration
		first uint64
		n     int
	}{
		{-1, 4, 5}, {time.Hour, 4, 5}, {2 * time.Second, 6, 3}, {0, 0, 0},
		{time.Millisecond, 8, 1},
	} {
		s, backlog := h.Subscribe(c.since, now, 0)
		if len(backlog) != c.n || (c.n > 0 && backlog[0].Seq != c.first) {
			t.Errorf("since %v: %d records from seq %v; want %d from %d", c.since, len(backlog), backlog, c.n, c.first)
		}
		for i := 1; i < len(backlog); i++ {
			if backlog[i].Seq != backlog[i-1].Seq+1 {
				t.Errorf("since %v: out of order %v", c.since, backlog)
			}
		}
		s.Cancel()
	}
	// Nothing lost or repeated between the backlog and the channel.
	s, backlog := h.Subscribe(-1, now, 0)
	h.Publish(rec(8))
	if r := <-s.C; r.Seq != backlog[len(backlog)-1].Seq+1 {
		t.Fatalf("first live record seq %d after backlog ending at %d", r.Seq, backlog[len(backlog)-1].Seq)
	}
}

func TestFromNodeAndFormats(t *testing.T) {
	dead := FromNode(node.Event{Kind: node.NodeDead, Node: "node1", NodeFrom: core.Active, NodeTo: core.Dead,
		Cause: core.CauseTimeout, Silence: 1500 * time.Millisecond}, t0)
	b, err := json.Marshal(dead)
	if err != nil {
		t.Fatal(err)
	}
	want := `{"seq":0,"time":"2026-12-07T21:00:00Z","event":"node-dead","node":"node1","from":"active","to":"dead","reason":"no heartbeat","silence_ms":1500}`
	if string(b) != want {
		t.Fatalf("JSON\n got %s\nwant %s", b, want)
	}
	if got := dead.Text(); got != `2026-12-07T21:00:00.000Z node-dead node=node1 from=active to=dead reason="no heartbeat" silence=1500ms` {
		t.Fatalf("text: %s", got)
	}
	if _, ok := dead.FIFO(); ok {
		t.Fatal("node-dead has a notify_fifo line")
	}
	g := FromNode(node.Event{Kind: node.GroupState, Group: "198.18.0.100/24/eth0", GroupFrom: manager.Starting,
		GroupTo: manager.Running}, t0)
	if l, ok := g.FIFO(); !ok || l != `INSTANCE "198.18.0.100/24/eth0" MASTER 0` {
		t.Fatalf("fifo %q %v", l, ok)
	}
	f := FromNode(node.Event{Kind: node.FenceFailed, Node: "node2", Err: errors.New("plugin said no"), Took: time.Second}, t0)
	if f.Error != "plugin said no" || f.TookMS != 1000 || !strings.Contains(f.Text(), `error="plugin said no"`) {
		t.Fatalf("fence record %+v %s", f, f.Text())
	}
	l := FromNode(node.Event{Kind: node.LinkDead, Node: "node2", Link: "eth1", LinkTo: core.LinkDead}, t0)
	if l.To != "dead" {
		t.Fatalf("link record %+v", l)
	}
}
