#!/bin/sh
# Installs what the end-to-end tests and benchmarks need (Debian/Ubuntu, as
# root): iproute2 (ip netns, tc), util-linux (unshare, nsenter), nftables
# (packet loss where the kernel has no sch_netem), a ping, socat, procps and
# the real Linux-HA peers: heartbeat, cluster-glue, resource-agents, and keepalived (benchmarks);
# python3-aiosmtpd (an SMTP server for the mail alert tests); pacemaker-cli-utils
# (crm_verify and crm_simulate check hactl export pacemaker); and what make
# deb and the package test (test/pkg) need: go-md2man (man pages), lintian,
# man-db (man -l), git (the version); dpkg-deb is dpkg's.
#
# Idempotent and non-interactive. Fast path: when every package is already
# installed, apt is not touched at all.
#
# The heartbeat package starts its service on install. The tests run their
# own private heartbeat nodes, so a system-wide one must not run: a
# policy-rc.d that refuses every start is put in place for the install (and
# removed afterwards only if this script created it); after an install the
# heartbeat and logd services are disabled and any heartbeat or ha_logd of
# this machine's own namespaces that still runs is stopped. Nodes of running
# tests (other network or mount namespaces) are left alone.
#
# INSTALL_TEST_DEPS_FORCE=1 takes the install path even when everything is
# present (to test this script).
set -eu

PACKAGES="iproute2 util-linux procps nftables socat heartbeat cluster-glue resource-agents keepalived python3-aiosmtpd pacemaker-cli-utils go-md2man lintian man-db git"

if [ "$(id -u)" -ne 0 ]; then
	echo "install-test-deps: must run as root" >&2
	exit 1
fi

export DEBIAN_FRONTEND=noninteractive
export NEEDRESTART_MODE=a

installed() {
	[ "$(dpkg-query -W -f='${Status}' "$1" 2>/dev/null || true)" = "install ok installed" ]
}

missing=""
for p in $PACKAGES; do
	installed "$p" || missing="$missing $p"
done
# Any ping will do (iputils-ping and inetutils-ping conflict); add one only
# when there is none.
if ! command -v ping >/dev/null 2>&1; then
	missing="$missing iputils-ping"
fi
if [ "${INSTALL_TEST_DEPS_FORCE:-}" = 1 ] && [ -z "$missing" ]; then
	missing=" $PACKAGES"
fi

POLICY=/usr/sbin/policy-rc.d
created_policy=no
cleanup() {
	if [ "$created_policy" = yes ]; then
		rm -f "$POLICY"
	fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# after_install makes sure the freshly installed packages run nothing.
after_install() {
	# Never start at boot either (a CI VM may have systemd as PID 1).
	if [ -d /run/systemd/system ] && command -v systemctl >/dev/null 2>&1; then
		systemctl disable --now heartbeat.service logd.service keepalived.service >/dev/null 2>&1 || true
	fi
	if command -v update-rc.d >/dev/null 2>&1 && [ -e /etc/init.d/heartbeat ]; then
		update-rc.d heartbeat disable >/dev/null 2>&1 || true
	fi
	if command -v update-rc.d >/dev/null 2>&1 && [ -e /etc/init.d/keepalived ]; then
		update-rc.d keepalived disable >/dev/null 2>&1 || true
	fi

	# Stop any heartbeat/ha_logd running in this machine's own namespaces (one
	# that started before this script, or despite policy-rc.d). Selected by PID
	# after comparing namespaces, so test nodes are never hit.
	my_net=$(readlink /proc/self/ns/net)
	my_mnt=$(readlink /proc/self/ns/mnt)
	system_daemons() {
		for d in /proc/[0-9]*; do
			pid=${d#/proc/}
			comm=$(cat "$d/comm" 2>/dev/null) || continue
			case "$comm" in
			heartbeat | ha_logd | keepalived) ;;
			*) continue ;;
			esac
			[ "$(readlink "$d/ns/net" 2>/dev/null)" = "$my_net" ] || continue
			[ "$(readlink "$d/ns/mnt" 2>/dev/null)" = "$my_mnt" ] || continue
			echo "$pid"
		done
	}
	pids=$(system_daemons)
	if [ -n "$pids" ]; then
		echo "install-test-deps: stopping system heartbeat/ha_logd/keepalived: $(echo $pids)"
		# shellcheck disable=SC2086
		kill -TERM $pids 2>/dev/null || true
		i=0
		while [ $i -lt 100 ] && [ -n "$(system_daemons)" ]; do
			sleep 0.1
			i=$((i + 1))
		done
		pids=$(system_daemons)
		if [ -n "$pids" ]; then
			# shellcheck disable=SC2086
			kill -KILL $pids 2>/dev/null || true
		fi
	fi
}

if [ -n "$missing" ]; then
	echo "install-test-deps: installing:$missing"
	if [ ! -e "$POLICY" ]; then
		printf '#!/bin/sh\n# added by install-test-deps.sh: no service starts during the install\nexit 101\n' >"$POLICY"
		chmod 0755 "$POLICY"
		created_policy=yes
	fi
	apt-get update -q
	# shellcheck disable=SC2086 # word splitting of the package list is intended
	apt-get install -y -q --no-install-recommends \
		-o Dpkg::Options::=--force-confdef -o Dpkg::Options::=--force-confold $missing
	after_install
else
	echo "install-test-deps: all packages present"
fi

# Sanity: what the tests look for.
for f in /usr/bin/cl_status /usr/sbin/nft /usr/bin/nsenter /usr/bin/unshare /usr/bin/go-md2man /usr/bin/lintian /usr/bin/man /usr/bin/dpkg-deb /usr/sbin/crm_verify /usr/sbin/crm_simulate; do
	[ -x "$f" ] || {
		echo "install-test-deps: $f missing after install" >&2
		exit 1
	}
done
if [ ! -x /usr/libexec/heartbeat/heartbeat ] && [ ! -x /usr/lib/heartbeat/heartbeat ]; then
	echo "install-test-deps: heartbeat daemon missing after install" >&2
	exit 1
fi
getent passwd hacluster >/dev/null && getent group haclient >/dev/null || {
	echo "install-test-deps: user hacluster / group haclient missing" >&2
	exit 1
}
echo "install-test-deps: done"
