package cli

import (
	"strings"
	"testing"

	"github.com/hasuite/hasuite/heartbeat/api"
)

func TestStatusShowsGroupHealth(t *testing.T) {
	st := twoNodes()
	st.Groups = []api.Group{
		{Key: "198.18.0.100/24/eth0", PreferredNode: "alpha", State: "running",
			Health: &api.GroupHealth{Eligible: true, Score: -2, PeerEligible: false, PeerScore: 0,
				Checks: []api.CheckStatus{{Name: "flag", Passing: false, Runs: 7}, {Name: "web", Passing: true, Runs: 7, LastOK: true}}}},
		{Key: "198.18.0.200/24/eth0", PreferredNode: "beta", State: "stopped"},
	}
	var b strings.Builder
	if err := WriteStatus(&b, st); err != nil {
		t.Fatal(err)
	}
	want := "running, health: eligible, score -2 (peer: INELIGIBLE, score 0), check flag failing, check web passing\n"
	if !strings.Contains(b.String(), want) {
		t.Errorf("hactl status lacks %q:\n%s", want, b.String())
	}
	if strings.Contains(b.String(), "stopped, health") {
		t.Errorf("a group without health shows one:\n%s", b.String())
	}
}
