#!/usr/bin/env bash
# A two-node cluster in network namespaces on this machine, serving a
# virtual IP and a small HTTP service to a client:
#   node1 fails (power off), node2 takes over; node1 returns and gets its
#   service back (auto_failback on); hb_standby moves it on purpose.
# The client polls the VIP every 5 ms and prints each change of server with
# the outage it saw. Everything is removed on exit, also on failure or
# Ctrl-C. Needs root (network namespaces).
set -euo pipefail

cd "$(dirname "$0")/.."
BIN=$PWD/bin
P="hbdemo$$"
WORK=$(mktemp -d /tmp/hbdemo.XXXXXX)
KEEPALIVE=${KEEPALIVE:-10ms}
DEADTIME=${DEADTIME:-50ms}
VIP=198.18.0.100

say()  { printf '\n\033[1m==> %s\033[0m\n' "$*"; }
info() { printf '    %s\n' "$*"; }

cleanup() {
	set +e
	for ns in "$P-node1" "$P-node2" "$P-client"; do
		for pid in $(ip netns pids "$ns" 2>/dev/null); do kill -9 "$pid" 2>/dev/null; done
	done
	for ns in "$P-node1" "$P-node2" "$P-client" "$P-sw"; do ip netns del "$ns" 2>/dev/null; done
	if [ -n "${KEEP:-}" ]; then echo "kept $WORK"; else rm -rf "$WORK"; fi
}
trap cleanup EXIT
trap 'echo; echo "interrupted"; exit 130' INT TERM

[ "$(id -u)" = 0 ] || { echo "make demo needs root (network namespaces)"; exit 1; }
for b in heartbeat cl_status hactl hb_standby; do [ -x "$BIN/$b" ] || { echo "missing $BIN/$b: run make build"; exit 1; }; done
go build -o "$WORK/demo-httpd" ./internal/demo/httpd
go build -o "$WORK/demo-poll" ./internal/demo/poll

say "Network: a switch, a client and two nodes in namespaces ($P-*)"
ip netns add "$P-sw"
ip -n "$P-sw" link add br0 type bridge
ip -n "$P-sw" link set br0 up
attach() { # attach <host> <index> <address>
	local ns="$P-$1"
	ip netns add "$ns"
	ip -n "$ns" link set lo up
	ip link add "$P-h$2" type veth peer name "$P-s$2"
	ip link set "$P-h$2" netns "$ns"
	ip link set "$P-s$2" netns "$P-sw"
	ip -n "$ns" link set "$P-h$2" name eth0
	ip -n "$ns" addr add "$3/24" dev eth0
	ip -n "$ns" link set eth0 up
	ip -n "$P-sw" link set "$P-s$2" master br0 up
	info "$1: $3"
}
attach node1 1 198.18.0.1
attach node2 2 198.18.0.2
attach client 3 198.18.0.10

for n in 1 2; do
	d="$WORK/node$n"
	mkdir -p "$d/etc/resource.d" "$d/run" "$d/state"
	cat >"$d/etc/ha.cf" <<EOC
keepalive $KEEPALIVE
warntime 30ms
deadtime $DEADTIME
initdead 2
ucast eth0 198.18.0.$((3 - n))
node node1 node2
auto_failback on
EOC
	printf 'auth 1\n1 sha256 demo-secret-%s\n' "$P" >"$d/etc/authkeys"
	chmod 600 "$d/etc/authkeys"
	echo "node1 $VIP/24/eth0 httpd" >"$d/etc/haresources"
	# The service, as a Heartbeat resource.d script: start, stop, status.
	cat >"$d/etc/resource.d/httpd" <<EOS
#!/bin/bash
PIDFILE=$d/run/httpd.pid
# alive and not a zombie waiting to be reaped
running() {
	local pid st
	pid=\$(cat \$PIDFILE 2>/dev/null) || return 1
	st=\$(awk '{print \$3}' /proc/\$pid/stat 2>/dev/null)
	[ -n "\$st" ] && [ "\$st" != Z ] && [ "\$st" != X ]
}
case "\$1" in
start)
	running && exit 0
	setsid "$WORK/demo-httpd" -node node$n -listen :80 -pidfile \$PIDFILE >>$d/httpd.log 2>&1 </dev/null &
	for i in \$(seq 1000); do (exec 3<>/dev/tcp/127.0.0.1/80) 2>/dev/null && exit 0; sleep 0.002; done
	exit 1 ;;
stop)
	running && kill "\$(cat \$PIDFILE)"
	for i in \$(seq 1000); do running || { rm -f \$PIDFILE; exit 0; }; sleep 0.002; done
	exit 1 ;;
status)
	if running; then echo "httpd is running"; else echo "httpd is stopped"; fi ;;
esac
EOS
	chmod 755 "$d/etc/resource.d/httpd"
done
info "haresources on both nodes: node1 $VIP/24/eth0 httpd"
info "ha.cf: keepalive $KEEPALIVE, deadtime $DEADTIME, auto_failback on; authkeys: sha256"

start_node() {
	local n=$1 d="$WORK/node$1"
	ip netns exec "$P-node$n" "$BIN/heartbeat" -c "$d/etc" -n "node$n" --run-dir "$d/run" --state-dir "$d/state" \
		>>"$d/log" 2>&1 &
	disown
}
cl() { local n=$1; shift; "$BIN/cl_status" --run-dir "$WORK/node$n/run" "$@"; }
wait_for() { # wait_for <seconds> <command...>: until the command succeeds
	local end=$((SECONDS + $1)); shift
	until "$@" >/dev/null 2>&1; do
		[ $SECONDS -lt $end ] || { echo "timed out waiting for: $*"; for f in "$WORK"/node*/log; do echo "--- $f"; tail -n 20 "$f"; done; return 1; }
		sleep 0.02
	done
}
holds() { [ "$(cl "$1" rscstatus)" = "$2" ]; }
client_sees() { grep -q "hello from $1" <(tail -n 1 "$WORK/client.log"); }
mac_of() { ip -n "$P-$1" link show eth0 | awk '/link\/ether/ {print $2}'; }
neigh() { ip -n "$P-client" neigh show "$VIP" | awk '{print $5}'; }

say "Starting heartbeat on both nodes"
start_node 1
start_node 2
wait_for 10 holds 1 local
wait_for 10 holds 2 none
info "node1 holds: $(cl 1 rscstatus)   node2 holds: $(cl 2 rscstatus)"

say "The client polls http://$VIP/ every 5 ms (its output below)"
ip netns exec "$P-client" "$WORK/demo-poll" -url "http://$VIP/" >"$WORK/client.log" 2>&1 &
poller=$!
wait_for 5 client_sees node1
tail -n +1 "$WORK/client.log" | sed 's/^/    client: /'
info "client's neighbour table: $VIP -> $(neigh) (node1 is $(mac_of node1))"

say "Powering node1 off (every process killed, link down)"
for pid in $(ip netns pids "$P-node1"); do kill -9 "$pid"; done
ip -n "$P-node1" link set eth0 down
wait_for 10 client_sees node2
sleep 0.2
tail -n 2 "$WORK/client.log" | sed 's/^/    client: /'
info "node2 holds: $(cl 2 rscstatus); client's neighbour table: $VIP -> $(neigh) (node2 is $(mac_of node2))"
grep -E "node node1 is dead|group .* started" "$WORK/node2/log" | tail -2 | cut -c1-150 | sed 's/^/    node2 log: /'

say "Node1 comes back: it gets its service back (auto_failback on)"
ip -n "$P-node1" link set eth0 up
rm -f "$WORK/node1/run/httpd.pid"
start_node 1
wait_for 15 client_sees node1
wait_for 10 holds 1 local
sleep 0.2
tail -n 1 "$WORK/client.log" | sed 's/^/    client: /'
info "node1 holds: $(cl 1 rscstatus)   node2 holds: $(cl 2 rscstatus); neighbour: $VIP -> $(neigh)"

say "hb_standby on node1: a planned switchover to node2"
"$BIN/hb_standby" --run-dir "$WORK/node1/run" 2>&1 | sed 's/^/    /'
wait_for 10 client_sees node2
sleep 0.2
tail -n 1 "$WORK/client.log" | sed 's/^/    client: /'

say "hb_takeover failback on node1: and back"
"$BIN/hb_takeover" --run-dir "$WORK/node1/run" failback 2>&1 | sed 's/^/    /'
wait_for 10 client_sees node1
sleep 0.2
tail -n 1 "$WORK/client.log" | sed 's/^/    client: /'

say "Stopping both nodes gracefully; cleaning up"
kill "$poller" 2>/dev/null || true
"$BIN/heartbeat" -k --run-dir "$WORK/node1/run"
"$BIN/heartbeat" -k --run-dir "$WORK/node2/run"
info "done"
