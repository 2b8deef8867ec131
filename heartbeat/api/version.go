package api

import (
	"runtime/debug"
	"time"
)

// vcsVersion derives the version from the VCS information go build embeds
// (vcs.revision, vcs.time, vcs.modified), by the rule of scripts/version.sh
// for a tree without a release tag: BaseVersion~git<YYYYMMDD>.<hash of 7>,
// with .dirty for modified sources. Without that information it returns
// BaseVersion~dev.
func vcsVersion() string {
	info, ok := debug.ReadBuildInfo()
	if !ok {
		return BaseVersion + "~dev"
	}
	return versionFromSettings(info.Settings)
}

func versionFromSettings(settings []debug.BuildSetting) string {
	var rev, date string
	dirty := false
	for _, s := range settings {
		switch s.Key {
		case "vcs.revision":
			rev = s.Value
		case "vcs.time":
			if t, err := time.Parse(time.RFC3339, s.Value); err == nil {
				date = t.UTC().Format("20060102")
			}
		case "vcs.modified":
			dirty = s.Value == "true"
		}
	}
	if len(rev) < 7 || date == "" {
		return BaseVersion + "~dev"
	}
	v := BaseVersion + "~git" + date + "." + rev[:7]
	if dirty {
		v += ".dirty"
	}
	return v
}
