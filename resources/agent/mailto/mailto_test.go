package mailto

import (
	"context"
	"strings"
	"testing"
	"time"
)

type outbox struct{ got []string }

func (o *outbox) Queue(to []string, subject, body string) {
	o.got = append(o.got, strings.Join(to, ",")+"|"+subject+"|"+body)
}

func TestMailTo(t *testing.T) {
	o := &outbox{}
	a, err := New([]string{"ops@example.com,root@example.com", "Web"}, "node1", o)
	if err != nil {
		t.Fatal(err)
	}
	a.now = func() time.Time { return time.Date(2026, 12, 7, 21, 0, 0, 0, time.UTC) }
	ctx := context.Background()
	if run, _ := a.Status(ctx); run {
		t.Fatal("running before start")
	}
	a.Stop(ctx) // not running: no mail
	a.Start(ctx)
	if run, _ := a.Status(ctx); !run {
		t.Fatal("not running after start")
	}
	a.Stop(ctx)
	want := []string{
		"ops@example.com,root@example.com|Web Takeover in progress at Mon Dec  7 21:00:00 UTC 2026 on node1|Web Takeover in progress at Mon Dec  7 21:00:00 UTC 2026 on node1\n",
		"ops@example.com,root@example.com|Web Migrating resource away at Mon Dec  7 21:00:00 UTC 2026 from node1|Web Migrating resource away at Mon Dec  7 21:00:00 UTC 2026 from node1\n",
	}
	if strings.Join(o.got, "\n") != strings.Join(want, "\n") {
		t.Errorf("got\n%q\nwant\n%q", o.got, want)
	}
	if a.String() != "MailTo::ops@example.com,root@example.com" {
		t.Error(a.String())
	}
	b, _ := New([]string{"a@example.com"}, "n", &outbox{})
	if b.subject != "Resource Group" {
		t.Error(b.subject)
	}
	if r, _ := New([]string{"root"}, "n", nil); r == nil || r.to[0] != "root@localhost" {
		t.Errorf("MailTo::root: %+v", r)
	}
	for _, bad := range [][]string{{}, {"a@@b"}, {"a@b.c,,x"}, {"ro ot"}, {"<a@b.c>"}, {"a@b.c", "s", "x"}} {
		if _, err := New(bad, "n", nil); err == nil {
			t.Errorf("%q accepted", bad)
		}
	}
}
