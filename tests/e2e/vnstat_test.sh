#!/usr/bin/env bash
# netmon's ledger beside Debian's vnStat (issue 14, item 6): both daemons
# book the same veth while the same traffic crosses it, and both books are
# compared with the kernel's own counters (bytes; vnStat keeps no packets).
#   1. steady: both agree with the kernel (vnStat 2.x stores bytes);
#   2. both killed (-9) in the middle of traffic, traffic going on while
#      they are down, both restarted;
#   3. the veth deleted and recreated under the same name while both run;
#   4. the same while both are stopped.
# netmon must equal the kernel in every phase. vnStat's book is asserted as
# it was measured (Debian 12's vnStat 2.10 with its default MaxBandwidth
# and 64bitInterfaceCounters); what it gains or loses per phase is printed.
#
# usage: tests/e2e/vnstat_test.sh NETMON_AGENT       (root; 77 = skipped)
set -euo pipefail

agent=${1:?usage: vnstat_test.sh NETMON_AGENT}
[ "$(id -u)" -eq 0 ] || { echo "vnstat_test: needs root (namespaces)"; exit 77; }
command -v vnstatd >/dev/null || { echo "vnstat_test: vnstat not installed (ci/deps)"; exit 1; }

tag=$$
ns=nvs$tag peer=nvp$tag dev=vn$tag
work=$(mktemp -d "${TMPDIR:-/tmp}/netmon-vnstat.$tag.XXXXXX")
netmon_pid='' vnstat_pid='' fail=0
cleanup() {
	for pid in $netmon_pid $vnstat_pid; do kill -KILL "$pid" 2>/dev/null || true; done
	wait 2>/dev/null || true
	ip netns del "$ns" 2>/dev/null || true
	ip netns del "$peer" 2>/dev/null || true
	rm -rf "$work"
}
trap cleanup EXIT

ip netns add "$ns"
ip netns add "$peer"
for n in "$ns" "$peer"; do
	ip netns exec "$n" sysctl -qw net.ipv6.conf.all.disable_ipv6=1 net.ipv6.conf.default.disable_ipv6=1
done

make_veth() {
	ip -n "$ns" link add "$dev" type veth peer name "${dev}p" netns "$peer"
	ip -n "$ns" addr add 10.89.0.1/24 dev "$dev"
	ip -n "$peer" addr add 10.89.0.2/24 dev "${dev}p"
	ip -n "$ns" link set "$dev" up
	ip -n "$peer" link set "${dev}p" up
	# Static neighbours: no ARP of its own timing on the link, only the
	# pings, so the kernel's counters stand still whenever traffic() is done.
	ip -n "$ns" neigh replace 10.89.0.2 dev "$dev" nud permanent \
		lladdr "$(ip -n "$peer" -j link show "${dev}p" | jq -r '.[0].address')"
	ip -n "$peer" neigh replace 10.89.0.1 dev "${dev}p" nud permanent \
		lladdr "$(ip -n "$ns" -j link show "$dev" | jq -r '.[0].address')"
}
make_veth

# vnStat at its Debian defaults but for its files and the shortest intervals.
mkdir -p "$work/vnstat"
cat >"$work/vnstat.conf" <<EOF
DatabaseDir "$work/vnstat"
PidFile "$work/vnstatd.pid"
UseLogging 0
UpdateInterval 2
PollInterval 2
SaveInterval 1
OfflineSaveInterval 1
AlwaysAddNewInterfaces 1
EOF

start() {
	ip netns exec "$ns" "$agent" --netdev "$dev" --interval 1s -s --ledger "$work/netmon.db" \
		>/dev/null 2>>"$work/netmon.err" &
	netmon_pid=$!
	ip netns exec "$ns" vnstatd --nodaemon --config "$work/vnstat.conf" >>"$work/vnstatd.log" 2>&1 &
	vnstat_pid=$!
	sleep 3 # both have read the counters (vnStat every 2 s)
}
stop() { # SIGNAL
	sleep 3 # both have read the last traffic
	kill -"$1" "$netmon_pid" "$vnstat_pid"
	wait "$netmon_pid" "$vnstat_pid" || true
	netmon_pid='' vnstat_pid=''
}

# Traffic: N pings of 1,000 bytes from the peer, 10 ms apart.
traffic() { ip netns exec "$peer" ping -q -c "$1" -i 0.01 -s 1000 10.89.0.1 >/dev/null; }

kernel_gone_rx=0 kernel_gone_tx=0 # counters of deleted incarnations
kernel() { # rx|tx: everything the kernel counted on every incarnation
	local now gone
	now=$(ip netns exec "$ns" cat "/sys/class/net/$dev/statistics/${1}_bytes")
	gone=kernel_gone_$1
	echo $((now + ${!gone}))
}
recreate() {
	# What a deleted interface counted after a daemon's last reading is gone
	# with it: give both one reading after the traffic (netmon reads every
	# 1 s, vnStat every 2 s).
	sleep 3
	# shellcheck disable=SC2034 # read through ${!gone} in kernel()
	kernel_gone_rx=$(kernel rx) kernel_gone_tx=$(kernel tx)
	ip -n "$ns" link del "$dev"
	make_veth
}

netmon_book() { # rx|tx
	"$agent" --ledger "$work/netmon.db" --report years --json "$dev" |
		jq "[.interfaces[\"$dev\"].years[].${1}_bytes] | add // 0"
}
vnstat_book() { # rx|tx
	vnstat --config "$work/vnstat.conf" --json y -i "$dev" |
		jq ".interfaces[0].traffic.total.$1"
}

phase() { # NAME: compares the books (daemons stopped) with the kernel
	local d k n v
	for d in rx tx; do
		k=$(kernel "$d") n=$(netmon_book "$d") v=$(vnstat_book "$d")
		printf '%-34s %s  kernel %12d  netmon %12d (%+d)  vnstat %12d (%+d)\n' \
			"$1" "$d" "$k" "$n" $((n - k)) "$v" $((v - k))
		eval "last_${d}_kernel=$k last_${d}_netmon=$n last_${d}_vnstat=$v"
		[ "$n" -eq "$k" ] || { echo "FAIL: $1: netmon's $d is not the kernel's"; fail=1; }
	done
}
vnstat_delta() { # rx|tx: vnStat minus kernel after the last phase
	local k=last_${1}_kernel v=last_${1}_vnstat
	echo $((${!v} - ${!k}))
}
expect_vnstat_exact() { # PHASE rx|tx
	local delta
	delta=$(vnstat_delta "$2")
	[ "$delta" -eq 0 ] || { echo "FAIL: $1: vnStat's $2 is $delta off the kernel's"; fail=1; }
}

echo "# vnStat $(vnstatd --version | awk '{ print $3; exit }') beside netmon on $dev"
# 1. Steady: traffic while both run.
start
traffic 300
stop TERM
phase "1 steady"
expect_vnstat_exact "1 steady" rx
expect_vnstat_exact "1 steady" tx
before_rx=$(vnstat_delta rx) before_tx=$(vnstat_delta tx)

# 2. kill -9 in the middle of traffic; traffic goes on while both are down.
start
traffic 600 &
traffic_pid=$!
sleep 2
kill -KILL "$netmon_pid" "$vnstat_pid"
wait "$netmon_pid" "$vnstat_pid" 2>/dev/null || true
sleep 3
start
wait "$traffic_pid"
stop TERM
phase "2 kill -9 during traffic"
two_rx=$(vnstat_delta rx) two_tx=$(vnstat_delta tx)
echo "  vnStat in phase 2 alone: rx $((two_rx - before_rx)), tx $((two_tx - before_tx))"

# 3. Recreated while both run: traffic on the old veth, then on the new one.
start
traffic 200
recreate
sleep 3 # both have seen the new interface (vnStat polls every 2 s)
traffic 200
stop TERM
phase "3 recreated while running"
three_rx=$(vnstat_delta rx) three_tx=$(vnstat_delta tx)
echo "  vnStat in phase 3 alone: rx $((three_rx - two_rx)), tx $((three_tx - two_tx))"

# 4. Recreated while both are stopped: the new veth carries traffic before
# either starts again.
recreate
traffic 200
start
traffic 100
stop TERM
phase "4 recreated while stopped"
four_rx=$(vnstat_delta rx) four_tx=$(vnstat_delta tx)
echo "  vnStat in phase 4 alone: rx $((four_rx - three_rx)), tx $((four_tx - three_tx))"

# vnStat, as measured over repeated runs (Debian 12, vnStat 2.10):
#  2: exact every time: on the same boot it credits what the counters moved
#     while it was down, kill -9 included (the counters it compares with are
#     saved with its book);
#  3: exact (before the neighbours were static, one run of four lost the new
#     interface's first ARP exchange, 84 bytes): it never counts more;
#  4: wrong every time, one of two ways: everything the new interface
#     carried before vnStat started dropped (-208,400 bytes: the 200 pings;
#     all 4 runs of this script as it is), or the recreated interface's
#     lower counters taken for a 32-bit wrap, about +4 GiB booked
#     (+4,294,758,811 bytes; 3 earlier runs, when ARP still crossed the
#     link). Which one depends on whether that wrap is within its
#     MaxBandwidth over the time since its last reading ("syncing" if not).
p2_rx=$((two_rx - before_rx)) p2_tx=$((two_tx - before_tx))
p3_rx=$((three_rx - two_rx)) p3_tx=$((three_tx - two_tx))
p4_rx=$((four_rx - three_rx)) p4_tx=$((four_tx - three_tx))
if [ "$p2_rx" -ne 0 ] || [ "$p2_tx" -ne 0 ]; then
	echo "FAIL: vnStat no longer exact across kill -9 ($p2_rx, $p2_tx): update the expectations"
	fail=1
fi
if [ "$p3_rx" -gt 0 ] || [ "$p3_tx" -gt 0 ]; then
	echo "FAIL: vnStat counted more than the kernel on a recreated interface ($p3_rx, $p3_tx)"
	fail=1
fi
if [ "$p4_rx" -eq 0 ] || [ "$p4_tx" -eq 0 ]; then
	echo "FAIL: vnStat exact on an interface recreated while down: update the expectations"
	fail=1
fi

[ "$fail" -eq 0 ] || { tail -n 20 "$work/netmon.err" "$work/vnstatd.log" >&2 || true; exit 1; }
echo "vnstat_test: netmon equal to the kernel in every phase"
