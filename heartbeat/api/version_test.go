package api

import (
	"runtime/debug"
	"testing"
)

func TestVersionFromSettings(t *testing.T) {
	for _, tc := range []struct {
		settings []debug.BuildSetting
		want     string
	}{
		{nil, BaseVersion + "~dev"},
		{[]debug.BuildSetting{{Key: "vcs.revision", Value: "4651239abcdef0123"}}, BaseVersion + "~dev"},
		{[]debug.BuildSetting{
			{Key: "vcs.revision", Value: "4651239abcdef0123"},
			{Key: "vcs.time", Value: "2026-12-07T23:30:00+02:00"},
			{Key: "vcs.modified", Value: "false"},
		}, BaseVersion + "~git20261207.4651239"},
		{[]debug.BuildSetting{
			{Key: "vcs.revision", Value: "4651239abcdef0123"},
			{Key: "vcs.time", Value: "2026-12-07T21:30:00Z"},
			{Key: "vcs.modified", Value: "true"},
		}, BaseVersion + "~git20261207.4651239.dirty"},
	} {
		if got := versionFromSettings(tc.settings); got != tc.want {
			t.Errorf("versionFromSettings(%v) = %q, want %q", tc.settings, got, tc.want)
		}
	}
	if Version == "" {
		t.Error("Version is empty")
	}
}
