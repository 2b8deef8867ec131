#!/bin/sh
# Prints the suite's version, a valid Debian package version (it starts
# with a digit), derived from git; `make build` puts it into every binary
# (heartbeat -V, hactl version) and `make deb` into the package.
#
#   git describe (tags v<digit>...)   version
#   v1.2.0                            1.2.0          a release
#   v1.2.0-rc1                        1.2.0~rc1      before 1.2.0
#   v1.2.0-5-gabc1234                 1.2.0+git20261207.5.abc1234   after 1.2.0
#   abc1234 (no release tag)          0.1.0~git20261207.abc1234     before 0.1.0
#   ...-dirty (modified sources)      the above with .dirty (+dirty after a tag)
#   not a git tree                    0.1.0~dev
#
# The date is the commit date of HEAD (UTC, YYYYMMDD), so the version of a
# commit is the same wherever and whenever it is built and later commits
# sort higher. 0.1.0 is heartbeat/api's BaseVersion, the release the
# sources lead to; a plain `go build` (no -ldflags) derives the same
# 0.1.0~git<date>.<hash> from the VCS stamp Go embeds. VERSION in the
# environment overrides everything.
set -eu

if [ -n "${VERSION:-}" ]; then
	printf '%s\n' "$VERSION"
	exit 0
fi

cd "$(dirname "$0")/.."
base=$(sed -n 's/^const BaseVersion = "\(.*\)"$/\1/p' heartbeat/api/api.go)
[ -n "$base" ] || {
	echo "version.sh: no BaseVersion in heartbeat/api/api.go" >&2
	exit 1
}

if ! desc=$(git describe --tags --always --dirty --abbrev=7 --match 'v[0-9]*' 2>/dev/null); then
	printf '%s~dev\n' "$base"
	exit 0
fi
date=$(TZ=UTC git log -1 --format=%cd --date=format-local:%Y%m%d)

dirty=
case $desc in
*-dirty)
	dirty=1
	desc=${desc%-dirty}
	;;
esac

case $desc in
v[0-9]*-[0-9]*-g[0-9a-f]*)
	# v<tag>-<commits since>-g<hash>; the tag itself may contain '-'.
	hash=${desc##*-g}
	rest=${desc%-g*}
	n=${rest##*-}
	tag=${rest%-*}
	v="$(printf '%s' "${tag#v}" | tr '-' '~')+git$date.$n.$hash"
	[ -z "$dirty" ] || v="$v.dirty"
	;;
v[0-9]*)
	v=$(printf '%s' "${desc#v}" | tr '-' '~')
	[ -z "$dirty" ] || v="$v+dirty"
	;;
*)
	v="$base~git$date.$desc"
	[ -z "$dirty" ] || v="$v.dirty"
	;;
esac

# Only what a Debian upstream version may hold (no '-': no revision).
case $v in
[0-9]*) ;;
*)
	echo "version.sh: \"$v\" does not start with a digit" >&2
	exit 1
	;;
esac
case $v in
*[!0-9A-Za-z.+~]*)
	echo "version.sh: \"$v\" is not a valid Debian version" >&2
	exit 1
	;;
esac
printf '%s\n' "$v"
