package config

import (
	"strings"
	"testing"
)

// TestSuggestions: a misspelt directive (ha.cf) or key (ha.toml) is
// answered with the nearest known name, as file:line: unknown ... (did
// you mean ...?). The first three rows are the typos of the issue:
// keeplive is printed in a widely copied tutorial.
func TestSuggestions(t *testing.T) {
	hacf := []struct{ in, want string }{
		{"keeplive 2", `unknown directive "keeplive" (did you mean keepalive?)`},
		{"deadtme 30", `unknown directive "deadtme" (did you mean deadtime?)`},
		{"ucats eth0 198.18.0.2", `unknown directive "ucats" (did you mean ucast?)`},
		{"Keepalive 2", `unknown directive "Keepalive" (directive names are lower case: keepalive)`},
		{"UDP eth0", `unknown directive "UDP" (directive names are lower case: bcast)`},
		{"nodes node3", `unknown directive "nodes" (did you mean node?)`},
		{"auto_fallback on", `unknown directive "auto_fallback" (did you mean auto_failback?)`},
		{"respwan hacluster /bin/true", `unknown directive "respwan" (did you mean respawn?)`},
		// Directives that join the table in an init function (notify.go,
		// metrics.go) are suggested too.
		{"notfy_master /bin/true", `unknown directive "notfy_master" (did you mean notify_master?)`},
		{"metrics_listn :9101", `unknown directive "metrics_listn" (did you mean metrics_listen?)`},
	}
	for _, tc := range hacf {
		t.Run("ha.cf "+tc.in, func(t *testing.T) {
			_, err := ParseHACF(strings.NewReader(tc.in+"\n"+base), "ha.cf")
			wantDiag(t, err, "ha.cf", 1, tc.want)
		})
	}
	t.Run("ha.cf without a near directive", func(t *testing.T) {
		_, err := ParseHACF(strings.NewReader("frobnicate 1\n"+base), "ha.cf")
		wantDiag(t, err, "ha.cf", 1, `unknown directive "frobnicate"`)
		if strings.Contains(err.Error(), "did you mean") {
			t.Errorf("a suggestion for a word near nothing: %v", err)
		}
	})

	const head = "nodes = [\"node1\", \"node2\"]\n[[media]]\nkind = \"ucast\"\ndev = \"eth0\"\npeer = \"198.18.0.2\"\n"
	toml := []struct {
		name, in string
		line     int
		want     string
	}{
		{"keeplive", "keeplive = 2\n" + head, 1, "unknown key keeplive (did you mean keepalive?)"},
		{"deadtme", "deadtme = 30\n" + head, 1, "unknown key deadtme (did you mean deadtime?)"},
		{"ucats as a key", "ucats = \"eth0 198.18.0.2\"\n" + head, 1, `unknown key ucats (did you mean a [[media]] table with kind = "ucast"?)`},
		{"ucats as a kind", head + "[[media]]\nkind = \"ucats\"\ndev = \"eth1\"\npeer = \"198.19.0.2\"\n", 6,
			`media[1]: unknown kind "ucats" (want ucast, ucast6, bcast, mcast, mcast6 or serial; did you mean "ucast"?)`},
		{"ucast as a key", "ucast = \"eth0 198.18.0.2\"\n" + head, 1, `unknown key ucast: media are [[media]] tables, here with kind = "ucast"`},
		{"medium key", head + "prer = \"198.18.0.3\"\n", 6, "unknown key media.prer (did you mean media.peer?)"},
		{"auth key", head + "[auth]\ncurent = 1\nkeys = [{index = 1, method = \"sha256\", secret = \"k\"}]\n", 7, "unknown key auth.curent (did you mean auth.current?)"},
		{"table name", head + "[[pings]]\nhosts = [\"198.18.0.254\"]\n", 6, "unknown key pings (did you mean ping?)"},
	}
	for _, tc := range toml {
		t.Run("ha.toml "+tc.name, func(t *testing.T) {
			_, err := ParseTOML(strings.NewReader(tc.in), "ha.toml")
			wantDiag(t, err, "ha.toml", tc.line, tc.want)
		})
	}
}
