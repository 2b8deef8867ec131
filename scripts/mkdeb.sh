#!/bin/sh
# Builds the Debian package OUTDIR/hasuite_<version>_<arch>.deb from what
# `make deb` has made: the static binaries in bin/ and the man pages in
# build/man. Needs dpkg-deb and gzip, no network and no root (dpkg-deb
# --root-owner-group makes every file root's).
#
# The package: /usr/sbin/heartbeat, /usr/bin/{cl_status,hactl,hb_standby,
# hb_takeover}, the systemd unit (/lib/systemd/system/heartbeat.service),
# the SysV init script (/etc/init.d/heartbeat, a conffile), the man pages,
# and under /usr/share/doc/hasuite the samples (examples/), the
# documentation, the copyright with the licenses of the Go modules linked
# into the binaries. Nothing under /etc/ha.d. Maintainer scripts and
# control fields are in packaging/deb; docs/operations.md ("Packaging")
# says what they do.
#
# VERSION (from scripts/version.sh unless set), DEB_ARCH (from GOARCH),
# DEB_MAINTAINER and DEB_COMPRESS (xz; gzip is 4 times faster and the
# package 2.5 times larger) override the defaults.
set -eu

cd "$(dirname "$0")/.."
out=${1:-build}
version=${VERSION:-$(sh scripts/version.sh)}
maintainer=${DEB_MAINTAINER:-hasuite maintainers <maintainers@hasuite.example>}
go=${GO:-go}

if [ -z "${DEB_ARCH:-}" ]; then
	goarch=$($go env GOARCH)
	case $goarch in
	386) DEB_ARCH=i386 ;;
	arm) DEB_ARCH=armhf ;;
	ppc64le) DEB_ARCH=ppc64el ;;
	*) DEB_ARCH=$goarch ;;
	esac
fi

for b in heartbeat cl_status hactl hb_standby hb_takeover; do
	[ -x "bin/$b" ] || {
		echo "mkdeb: bin/$b missing: run make deb" >&2
		exit 1
	}
done
pages=$(ls docs/man/*.md)
for p in $pages; do
	p=${p#docs/man/}
	[ -f "build/man/${p%.md}" ] || {
		echo "mkdeb: build/man/${p%.md} missing: run make deb" >&2
		exit 1
	}
done

# The commit's time for every file and the changelog: the same commit
# gives the same package.
if [ -z "${SOURCE_DATE_EPOCH:-}" ]; then
	SOURCE_DATE_EPOCH=$(git log -1 --format=%ct 2>/dev/null || date +%s)
fi
export SOURCE_DATE_EPOCH

root=$out/deb/root
rm -rf "$out/deb"
umask 022
mkdir -p "$root/DEBIAN" "$root/usr/sbin" "$root/usr/bin" "$root/lib/systemd/system" \
	"$root/etc/init.d" "$root/usr/share/doc/hasuite/examples" "$root/usr/share/lintian/overrides"

install -m 0755 bin/heartbeat "$root/usr/sbin/heartbeat"
for b in cl_status hactl hb_standby hb_takeover; do
	install -m 0755 "bin/$b" "$root/usr/bin/$b"
done
# shellcheck disable=SC2016 # $(PREFIX) is the text to replace
sed -e 's|^ExecStart=/usr/local/sbin/heartbeat|ExecStart=/usr/sbin/heartbeat|' \
	-e 's|^# Installed as /etc/systemd/system/heartbeat.service by make install, which|# Installed as /lib/systemd/system/heartbeat.service by the hasuite package|' \
	-e 's|^# sets ExecStart to $(PREFIX)/sbin/heartbeat. Site changes belong in a drop-in|# (ExecStart /usr/sbin/heartbeat). Site changes belong in a drop-in|' \
	etc/systemd/heartbeat.service >"$root/lib/systemd/system/heartbeat.service"
grep -q '^ExecStart=/usr/sbin/heartbeat ' "$root/lib/systemd/system/heartbeat.service"
chmod 0644 "$root/lib/systemd/system/heartbeat.service"
install -m 0755 etc/init.d/heartbeat "$root/etc/init.d/heartbeat"

for p in $pages; do
	page=${p#docs/man/}
	page=${page%.md}
	sect=${page##*.}
	mkdir -p "$root/usr/share/man/man$sect"
	gzip -9n <"build/man/$page" >"$root/usr/share/man/man$sect/$page.gz"
done

doc=$root/usr/share/doc/hasuite
for s in ha.cf ha.toml haresources authkeys; do
	install -m 0644 "etc/$s.sample" "$doc/examples/$s.sample"
done
install -m 0644 README.md "$doc/README.md"
for d in architecture configuration fencing operations protocol resources; do
	install -m 0644 "docs/$d.md" "$doc/$d.md"
done

# copyright: ours, then every Go module linked into the binaries, with its
# license text from the module cache the build used.
{
	cat packaging/deb/copyright
	printf '\nFiles: usr/sbin/heartbeat usr/bin/*\nCopyright: 2026 The hasuite authors and the authors of the Go modules below\nLicense: Apache-2.0 and the licenses below\nComment: The binaries are statically linked Go programs. They contain the Go\n standard library (BSD-3-Clause, /usr/share/doc/hasuite/licenses/go/LICENSE)\n and these modules, whose license texts are in\n /usr/share/doc/hasuite/licenses/<module>/:\n'
} >"$doc/copyright"
mkdir -p "$doc/licenses/go"
goroot=$($go env GOROOT)
install -m 0644 "$goroot/LICENSE" "$doc/licenses/go/LICENSE"
CGO_ENABLED=0 $go list -deps -f '{{with .Module}}{{if not .Main}}{{.Path}} {{.Version}} {{.Dir}}{{end}}{{end}}' \
	./cmd/heartbeat ./cmd/cl_status ./cmd/hactl ./cmd/hb_standby ./cmd/hb_takeover | sort -u |
	while read -r path ver dir; do
		printf ' %s %s\n' "$path" "$ver" >>"$doc/copyright"
		mkdir -p "$doc/licenses/$path"
		found=$(find "$dir" -maxdepth 1 -type f \( -iname 'licen[cs]e*' -o -iname 'copying*' \) | LC_ALL=C sort)
		for l in $found; do
			install -m 0644 "$l" "$doc/licenses/$path/"
		done
		[ -n "$found" ] || {
			echo "mkdeb: no license file in $dir ($path)" >&2
			exit 1
		}
	done

# A native package's changelog: one entry for this build.
commit=$(git rev-parse --short=7 HEAD 2>/dev/null || echo unknown)
{
	printf 'hasuite (%s) unstable; urgency=medium\n\n' "$version"
	printf '  * Built from git commit %s (https://github.com/hasuite/hasuite).\n\n' "$commit"
	printf ' -- %s  %s\n' "$maintainer" "$(LC_ALL=C date -u -d "@$SOURCE_DATE_EPOCH" '+%a, %d %b %Y %H:%M:%S +0000')"
} | gzip -9n >"$doc/changelog.gz"

install -m 0644 packaging/deb/lintian-overrides "$root/usr/share/lintian/overrides/hasuite"

for s in preinst postinst prerm postrm; do
	install -m 0755 "packaging/deb/$s" "$root/DEBIAN/$s"
done
echo /etc/init.d/heartbeat >"$root/DEBIAN/conffiles"
chmod 0644 "$root/DEBIAN/conffiles"
(cd "$root" && find . -path ./DEBIAN -prune -o -type f -print | sed 's|^\./||' | LC_ALL=C sort |
	xargs md5sum) >"$root/DEBIAN/md5sums"
chmod 0644 "$root/DEBIAN/md5sums"
size=$(du -sk --exclude=DEBIAN "$root" | cut -f1)
sed -e "s|@VERSION@|$version|" -e "s|@ARCH@|$DEB_ARCH|" -e "s|@MAINTAINER@|$maintainer|" \
	-e "s|@SIZE@|$size|" packaging/deb/control.in >"$root/DEBIAN/control"
chmod 0644 "$root/DEBIAN/control"

# Directories 0755, files as installed; mtimes clamped to the commit.
find "$root" -type d -exec chmod 0755 {} +
find "$root" -newermt "@$SOURCE_DATE_EPOCH" -exec touch -h -d "@$SOURCE_DATE_EPOCH" {} +

deb=$out/hasuite_${version}_$DEB_ARCH.deb
rm -f "$out"/hasuite_*.deb # one package in OUTDIR: apt install ./build/hasuite_*.deb
dpkg-deb --root-owner-group -Z"${DEB_COMPRESS:-xz}" --build "$root" "$deb" >/dev/null
echo "$deb"
