#!/usr/bin/env bash
# What netmon's datapath costs, measured side by side in one run (a
# benchmark, not a test: it prints figures and ratios, never fails on them).
#
#  1. Per-packet program cost: run_time_ns / run_cnt (BPF run-time stats) of
#     netmon's rx program against an empty program on the same hook of the
#     same veth, over one 64-byte UDP flood. tcx and legacy tc: both attached
#     at once, each round swapping which runs first. XDP: one program per
#     interface, so rounds alternate between the two. Bar: <= 1.15x.
#  2. Datapath throughput: packets/s of the same flood with netmon attached
#     (auto mode, rx and tx, on both ends) against nothing attached,
#     alternating A/B; medians. Bar: >= 97%.
#  3. Counter read cost: batch vs per-key map lookups (sets BpfSource's
#     choice between them).
#
# usage: sudo bench/bpf-cost.sh [BUILD_DIR]     (default: build)
# env:   NETMON_BENCH_SECONDS (per flood, default 2), NETMON_BENCH_ROUNDS
#        (default 3, at least 3), NETMON_BENCH_CPU (pin the flood, default 1),
#        NETMON_BENCH_MODES (per-packet cost modes, default "tcx tc xdp"),
#        NETMON_BENCH_THROUGHPUT (0 skips the throughput and read sections)
#
# Figures depend on the machine (CPU, mitigations, other load); only the
# ratios, taken minutes apart on the same machine, mean anything.
set -euo pipefail

build=${1:-build}
seconds=${NETMON_BENCH_SECONDS:-2}
rounds=${NETMON_BENCH_ROUNDS:-3}
cpu=${NETMON_BENCH_CPU:-1}
modes=${NETMON_BENCH_MODES:-tcx tc xdp}
throughput=${NETMON_BENCH_THROUGHPUT:-1}
[ "$rounds" -ge 3 ] || rounds=3
[ "$(id -u)" -eq 0 ] || { echo "bpf-cost.sh: needs root" >&2; exit 1; }

cmake --build "$build" --target netmon_udp_flood netmon_bench_attach netmon_bench_map_read \
	-j2 >/dev/null
flood=$build/bench/netmon_udp_flood
attach=$build/bench/netmon_bench_attach
map_read=$build/bench/netmon_bench_map_read

# Two namespaces joined by a veth; nothing else on the link (IPv6 off,
# static neighbours), addresses from the benchmarking range.
tag=nmb$$
ns_a=${tag}a ns_b=${tag}b if_a=${tag}a if_b=${tag}b
ip_a=198.18.0.1 ip_b=198.18.0.2
helper_pid=
cleanup() {
	[ -z "$helper_pid" ] || kill "$helper_pid" 2>/dev/null || true
	ip netns del "$ns_a" 2>/dev/null || true
	ip netns del "$ns_b" 2>/dev/null || true
}
trap cleanup EXIT INT TERM

ip netns add "$ns_a"
ip netns add "$ns_b"
for ns in "$ns_a" "$ns_b"; do
	ip netns exec "$ns" sysctl -qw net.ipv6.conf.all.disable_ipv6=1 \
		net.ipv6.conf.default.disable_ipv6=1
done
ip -n "$ns_a" link add "$if_a" address 02:00:c6:12:00:01 type veth \
	peer name "$if_b" address 02:00:c6:12:00:02 netns "$ns_b"
ip -n "$ns_a" addr add $ip_a/24 dev "$if_a"
ip -n "$ns_b" addr add $ip_b/24 dev "$if_b"
ip -n "$ns_a" neigh add $ip_b lladdr 02:00:c6:12:00:02 nud permanent dev "$if_a"
ip -n "$ns_b" neigh add $ip_a lladdr 02:00:c6:12:00:01 nud permanent dev "$if_b"
ip -n "$ns_a" link set "$if_a" up
ip -n "$ns_b" link set "$if_b" up

flood_pps() {
	"$flood" "$ns_a" $ip_a "$ns_b" $ip_b --payload 18 --seconds "$seconds" --cpu "$cpu" |
		sed -n 's/.*pps=\([0-9]*\).*/\1/p'
}

# Runs the flood while netmon_bench_attach holds the given programs in
# $ns_b (and, with --both-ends, netmon in $ns_a too); prints the helper's
# report, then "pps=N".
with_programs() {
	local both=0
	if [ "$1" = --both-ends ]; then both=1; shift; fi
	local fifo_b fifo_a out_b pid_a=
	fifo_b=$(mktemp -u) fifo_a=$(mktemp -u) out_b=$(mktemp)
	mkfifo "$fifo_b" "$fifo_a"
	ip netns exec "$ns_b" "$attach" "$@" "$if_b" <"$fifo_b" >"$out_b" &
	helper_pid=$!
	exec 7>"$fifo_b"
	if [ $both -eq 1 ]; then
		ip netns exec "$ns_a" "$attach" "$@" "$if_a" <"$fifo_a" >/dev/null &
		pid_a=$!
		exec 8>"$fifo_a"
	fi
	for _ in $(seq 100); do grep -q '^ready' "$out_b" && break; sleep 0.05; done
	grep -q '^ready' "$out_b" || { echo "bpf-cost.sh: netmon_bench_attach failed" >&2; exit 1; }
	sleep 0.2 # the A side, if any, is ready too by now
	local pps
	pps=$(flood_pps)
	exec 7>&-
	[ $both -eq 0 ] || exec 8>&-
	wait "$helper_pid"
	helper_pid=
	[ -z "$pid_a" ] || wait "$pid_a"
	grep -v '^ready' "$out_b"
	echo "pps=$pps"
	rm -f "$fifo_b" "$fifo_a" "$out_b"
}

# "ns per run" of the first program whose name matches, from a report.
ns_per_run() {
	awk -v name="$1" '$2 == name {
		split($3, c, "="); split($4, t, "=");
		if (c[2] > 0) { printf "%.2f\n", t[2] / c[2]; exit } }'
}

median() { sort -g | awk '{ v[NR] = $1 } END { print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }

echo "# netmon datapath cost on $(uname -r), $(nproc) cpus; ${seconds}s floods, $rounds rounds"
echo "# 60-byte frames (64 on the wire), veth between two namespaces"
echo

echo "## per-packet cost of the rx program (ns per run, ours vs empty, same packets)"
printf '%-6s %-11s %10s %10s %8s\n' mode order ours_ns empty_ns ratio
summary=()
for mode in $modes; do
	[ "$mode" != xdp ] || continue
	ratios=()
	for round in $(seq "$rounds"); do
		order=$([ $((round % 2)) -eq 1 ] && echo first || echo last)
		report=$(with_programs --ours "$mode" --empty "$mode-$order" --stats)
		ours=$(ns_per_run netmon_ingress <<<"$report")
		empty=$(ns_per_run empty_tc <<<"$report")
		ratio=$(awk -v a="$ours" -v b="$empty" 'BEGIN { printf "%.3f", a / b }')
		ratios+=("$ratio")
		printf '%-6s %-11s %10s %10s %8s\n' "$mode" "empty-$order" "$ours" "$empty" "$ratio"
	done
	summary+=("$mode $(printf '%s\n' "${ratios[@]}" | median)")
done
if [[ " $modes " == *" xdp "* ]]; then
	ratios=()
	for round in $(seq "$rounds"); do
		ours=$(with_programs --ours xdp --stats | ns_per_run netmon_xdp)
		empty=$(with_programs --empty xdp --stats | ns_per_run empty_xdp)
		ratio=$(awk -v a="$ours" -v b="$empty" 'BEGIN { printf "%.3f", a / b }')
		ratios+=("$ratio")
		printf '%-6s %-11s %10s %10s %8s\n' xdp alternating "$ours" "$empty" "$ratio"
	done
	summary+=("xdp $(printf '%s\n' "${ratios[@]}" | median)")
fi
echo

if [ "$throughput" -ne 0 ]; then
echo "## datapath throughput (pps; netmon auto mode, rx+tx on both ends, vs nothing)"
printf '%-6s %12s %12s %8s\n' round none netmon ratio
bare_all=() ours_all=()
for round in $(seq "$rounds"); do
	bare=$(flood_pps)
	ours=$(with_programs --both-ends --ours auto | sed -n 's/^pps=//p')
	bare_all+=("$bare") ours_all+=("$ours")
	printf '%-6s %12s %12s %8s\n' "$round" "$bare" "$ours" \
		"$(awk -v a="$ours" -v b="$bare" 'BEGIN { printf "%.3f", a / b }')"
done
bare_median=$(printf '%s\n' "${bare_all[@]}" | median)
ours_median=$(printf '%s\n' "${ours_all[@]}" | median)
echo

echo "## counter read cost (per-CPU array, this machine's possible cpus)"
"$map_read" 16 256 1024
echo
fi

echo "## summary (medians)"
for line in "${summary[@]}"; do
	set -- $line
	printf 'per-packet %-4s ours/empty = %sx   (bar <= 1.15x)\n' "$1" "$2"
done
[ "$throughput" -eq 0 ] ||
	printf 'throughput netmon/none = %s   (%s vs %s pps; bar >= 0.97)\n' \
		"$(awk -v a="$ours_median" -v b="$bare_median" 'BEGIN { printf "%.3f", a / b }')" \
		"$ours_median" "$bare_median"
