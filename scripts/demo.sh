#!/usr/bin/env bash
# A two-node heartbeat cluster in network namespaces on this machine:
# the nodes find each other, node2 is killed, node1 detects it, node2
# returns, then stops gracefully. Everything is removed on exit, also on
# failure or Ctrl-C. Needs root (network namespaces).
set -euo pipefail

cd "$(dirname "$0")/.."
BIN=$PWD/bin
P="hbdemo$$"
WORK=$(mktemp -d /tmp/hbdemo.XXXXXX)
KEEPALIVE=${KEEPALIVE:-100ms}
DEADTIME=${DEADTIME:-500ms}

say()  { printf '\n\033[1m==> %s\033[0m\n' "$*"; }
info() { printf '    %s\n' "$*"; }

cleanup() {
	set +e
	for n in 1 2; do
		[ -f "$WORK/node$n/pid" ] && kill -9 "$(cat "$WORK/node$n/pid")" 2>/dev/null
	done
	for ns in "$P-node1" "$P-node2" "$P-sw"; do ip netns del "$ns" 2>/dev/null; done
	rm -rf "$WORK"
}
trap cleanup EXIT
trap 'echo; echo "interrupted"; exit 130' INT TERM

[ "$(id -u)" = 0 ] || { echo "make demo needs root (network namespaces)"; exit 1; }
for b in heartbeat cl_status hactl; do [ -x "$BIN/$b" ] || { echo "missing $BIN/$b: run make build"; exit 1; }; done

say "Creating a switch and two nodes in network namespaces ($P-*)"
ip netns add "$P-sw"
ip -n "$P-sw" link add br0 type bridge
ip -n "$P-sw" link set br0 up
for n in 1 2; do
	ns="$P-node$n"
	ip netns add "$ns"
	ip -n "$ns" link set lo up
	ip link add "$P-n$n" type veth peer name "$P-s$n"
	ip link set "$P-n$n" netns "$ns"
	ip link set "$P-s$n" netns "$P-sw"
	ip -n "$ns" link set "$P-n$n" name eth0
	ip -n "$ns" addr add "198.18.0.$n/24" dev eth0
	ip -n "$ns" link set eth0 up
	ip -n "$P-sw" link set "$P-s$n" master br0 up
	info "node$n: 198.18.0.$n on eth0"
done

for n in 1 2; do
	d="$WORK/node$n"
	mkdir -p "$d/etc" "$d/run" "$d/state"
	cat >"$d/etc/ha.cf" <<EOC
# demo cluster: fast timers, one unicast link
keepalive $KEEPALIVE
deadtime $DEADTIME
warntime 250ms
initdead 2
ucast eth0 198.18.0.$((3 - n))
node node1 node2
EOC
	printf 'auth 1\n1 sha256 demo-secret-%s\n' "$P" >"$d/etc/authkeys"
	chmod 600 "$d/etc/authkeys"
done
info "ha.cf: keepalive $KEEPALIVE, deadtime $DEADTIME, authkeys: sha256 (HMAC-SHA256)"

start_node() {
	local n=$1 d="$WORK/node$1"
	ip netns exec "$P-node$n" "$BIN/heartbeat" -c "$d/etc" -n "node$n" --run-dir "$d/run" --state-dir "$d/state" \
		>>"$d/log" 2>&1 &
	echo $! >"$d/pid"
	disown # the demo reports kills itself; no "Killed" job notices
}
cl() { local n=$1; shift; "$BIN/cl_status" --run-dir "$WORK/node$n/run" "$@"; }

wait_for() { # wait_for <node> <peer> <state> <seconds>
	local end=$((SECONDS + $4))
	while [ $SECONDS -lt $end ]; do
		[ "$(cl "$1" nodestatus "$2" 2>/dev/null || true)" = "$3" ] && return 0
		sleep 0.05
	done
	echo "node$1 never saw $2 become $3; its log:"; cat "$WORK/node$1/log"; return 1
}

say "Starting heartbeat on both nodes"
start_node 1
start_node 2
wait_for 1 node2 active 10
wait_for 2 node1 active 10
info "node1: cl_status nodestatus node2 -> $(cl 1 nodestatus node2)"
info "node2: cl_status nodestatus node1 -> $(cl 2 nodestatus node1)"
"$BIN/hactl" --run-dir "$WORK/node1/run" status | sed 's/^/    /'

say "Killing node2's daemon with SIGKILL (no goodbye)"
t0=$(date +%s%N)
kill -9 "$(cat "$WORK/node2/pid")"
wait_for 1 node2 dead 5
t1=$(date +%s%N)
info "node1 declared node2 dead after $(((t1 - t0) / 1000000)) ms (deadtime $DEADTIME)"
grep -E "node node2 is dead|late heartbeat" "$WORK/node1/log" | tail -2 | sed 's/^/    log: /'

say "Restarting node2"
start_node 2
wait_for 1 node2 active 10
info "node1 sees node2 $(cl 1 nodestatus node2) again (new generation)"

say "Stopping node2 gracefully (heartbeat -k): the peer is told at once"
t0=$(date +%s%N)
"$BIN/heartbeat" -k --run-dir "$WORK/node2/run" &
stopper=$!
wait_for 1 node2 dead 5
t1=$(date +%s%N)
wait "$stopper"
info "node1 saw node2 leave after $(((t1 - t0) / 1000000)) ms (deadtime $DEADTIME): shutdone, not a timeout"
grep -E "announced a graceful stop" "$WORK/node1/log" | tail -1 | sed 's/^/    log: /'

say "Done; cleaning up namespaces and processes"
