package stonith

import (
	"context"
	"errors"
	"reflect"
	"strings"
	"testing"
)

// fakeDevice fails with its result (OK succeeds) and records the calls.
type fakeDevice struct {
	name   string
	result Result
	calls  *[]string
}

func (f fakeDevice) Name() string { return f.name }

func (f fakeDevice) Reset(ctx context.Context, node string) error {
	*f.calls = append(*f.calls, f.name+" reset "+node)
	if f.result == OK {
		return nil
	}
	return newError(f.name, "reset", node, f.result, errors.New(f.name+" failed"))
}

func (f fakeDevice) Status(ctx context.Context) error {
	if f.result == OK {
		return nil
	}
	return newError(f.name, "status", "", f.result, nil)
}

func (f fakeDevice) Hosts(ctx context.Context) ([]string, error) {
	if f.result == OK {
		return []string{"a", f.name}, nil
	}
	return nil, newError(f.name, "gethosts", "", f.result, nil)
}

func TestChainReset(t *testing.T) {
	tests := []struct {
		name      string
		results   []Result
		wantCalls []string
		want      Result
		wantMsgs  []string
	}{
		{name: "first succeeds", results: []Result{OK, OK}, wantCalls: []string{"d0 reset n"}, want: OK},
		{name: "falls back to the second", results: []Result{ResetFail, OK, OK},
			wantCalls: []string{"d0 reset n", "d1 reset n"}, want: OK},
		{name: "all fail, errors joined", results: []Result{Access, BadHost},
			wantCalls: []string{"d0 reset n", "d1 reset n"}, want: Access, wantMsgs: []string{"d0 failed", "d1 failed"}},
		{name: "empty chain", results: nil, want: BadConfig, wantMsgs: []string{"no STONITH device"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var calls []string
			var c Chain
			for i, r := range tt.results {
				c = append(c, fakeDevice{name: "d" + string(rune('0'+i)), result: r, calls: &calls})
			}
			err := c.Reset(context.Background(), "n")
			if got := ResultOf(err); got != tt.want {
				t.Errorf("result %v, want %v (%v)", got, tt.want, err)
			}
			if !reflect.DeepEqual(calls, tt.wantCalls) {
				t.Errorf("calls %q, want %q", calls, tt.wantCalls)
			}
			for _, m := range tt.wantMsgs {
				if err == nil || !strings.Contains(err.Error(), m) {
					t.Errorf("error %v lacks %q", err, m)
				}
			}
			if tt.want == BadHost || tt.want == Access {
				if !errors.Is(err, Access) || !errors.Is(err, BadHost) {
					t.Errorf("joined error %v does not match both results", err)
				}
			}
		})
	}
}

func TestChainStopsWhenContextEnds(t *testing.T) {
	var calls []string
	c := Chain{fakeDevice{"d0", ResetFail, &calls}, fakeDevice{"d1", OK, &calls}}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	err := c.Reset(ctx, "n")
	if err == nil || len(calls) != 0 || !errors.Is(err, Timeout) {
		t.Errorf("Reset = %v with calls %q, want Timeout and no calls", err, calls)
	}
}

func TestChainStatusHosts(t *testing.T) {
	var calls []string
	c := Chain{fakeDevice{"d0", Access, &calls}, fakeDevice{"d1", OK, &calls}, fakeDevice{"d2", OK, &calls}}
	if c.Name() != "d0,d1,d2" {
		t.Errorf("Name = %q", c.Name())
	}
	if err := c.Status(context.Background()); ResultOf(err) != Access {
		t.Errorf("Status = %v, want the failing device's Access", err)
	}
	if err := c[1:].Status(context.Background()); err != nil {
		t.Errorf("Status of working devices = %v", err)
	}
	hosts, err := c.Hosts(context.Background())
	if err != nil || !reflect.DeepEqual(hosts, []string{"a", "d1", "d2"}) {
		t.Errorf("Hosts = %q, %v", hosts, err)
	}
	if _, err := c[:1].Hosts(context.Background()); ResultOf(err) != Access {
		t.Errorf("Hosts of failing devices = %v", err)
	}
}

func TestNewChain(t *testing.T) {
	specs := []Spec{
		{Host: "node2", Type: "null", Params: "x"}, // for the other node: skipped
		{Host: "*", Type: "meatware", Params: "node2"},
		{Host: "node1", Type: "null", Params: "node2"},
		{Host: "*", Type: "suicide", Where: "ha.cf:9"}, // no SelfFence: error
	}
	c, err := NewChain(specs, "NODE1", Options{})
	if got := c.Name(); got != "meatware,null" {
		t.Errorf("chain %q, want meatware,null", got)
	}
	if err == nil || !strings.HasPrefix(err.Error(), "ha.cf:9: ") || ResultOf(err) != BadConfig {
		t.Errorf("err = %v, want the suicide line's BadConfig", err)
	}
}
