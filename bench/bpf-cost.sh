#!/usr/bin/env bash
# What netmon's datapath costs, measured side by side in one run (a
# benchmark, not a test: it prints figures and ratios, never fails on them).
#
#  1. Per-packet program cost: run_time_ns / run_cnt (BPF run-time stats,
#     on while the helper holds a BPF_ENABLE_STATS fd, which is what
#     kernel.bpf_stats_enabled=1 turns on too) of netmon's rx program against
#     an empty program, over 64-byte UDP floods on the same hook of the same
#     veth. Bar: <= 1.15x. Methods (NETMON_BENCH_METHODS, default "together"):
#     together  both programs on the hook, so they see the very same packets
#               and drift of the machine's speed between floods cancels out;
#               whichever runs first absorbs part of the kernel work before it
#               (on netmon's program 5-20 ns more than on the empty one), so
#               each pair runs both orders and takes their geometric mean.
#               xdp, one program per interface, runs "apart" instead.
#     alone     one program at a time on the hook, alternating floods (each
#               pair both orders): no position effect, but flood-to-flood
#               drift (the empty program's ns vary by 1.5x here) is all in it.
#     apart     one program per interface, two veth pairs sharing one flood
#               packet by packet, swapped for the pair's second flood.
#     Each flood loads the programs afresh, so where the kernel puts their
#     maps and images differs every time; the same object measures 1.11x to
#     1.24x from one load to the next, hence medians over pairs.
#     Calibration rows, by the same method (programs in bpf/empty.bpf.c): one
#     map lookup and nothing else, in a per-CPU array and in a per-CPU hash,
#     the reference points the budget was set against (about 1.05x and
#     1.55x); and the lookup plus the two adds any per-CPU array counter
#     needs (netmon's common path without GSO or overflow): the floor.
#  2. Datapath throughput: packets/s of the same flood with netmon attached
#     (auto mode, rx and tx, on both ends) against nothing attached, and
#     against empty tcx programs on the same hooks (the hook's own cost),
#     alternating; medians. Bar: netmon/none >= 97%.
#  3. Counter read cost: batch vs per-key map lookups (sets BpfSource's
#     choice between them).
#
# usage: sudo bench/bpf-cost.sh [BUILD_DIR]     (default: build)
# env:   NETMON_BENCH_SECONDS   per flood (default 2)
#        NETMON_BENCH_ROUNDS    pairs of floods per mode and A/B rounds
#                               (default 3, at least 3)
#        NETMON_BENCH_CPU       the cpu the flood is pinned to (default 1)
#        NETMON_BENCH_MODES     per-packet cost modes (default "tcx tc xdp")
#        NETMON_BENCH_METHODS   per-packet methods, e.g. "together alone"
#                               (default "together"; xdp: "apart")
#        NETMON_BENCH_CALIBRATE 0 skips the lookup-only calibration rows
#        NETMON_BENCH_THROUGHPUT  0 skips the throughput and read sections
#        NETMON_BENCH_RT        1 (default): flood as SCHED_FIFO, so other
#                               load preempts the measured path less
#
# Figures depend on the machine (CPU, virtualisation, other load): the ns
# of an empty program are mostly the two clock reads around it, and grow
# with load, so read ratios from one run, and rerun on a quiet machine.
set -euo pipefail

build=${1:-build}
seconds=${NETMON_BENCH_SECONDS:-2}
rounds=${NETMON_BENCH_ROUNDS:-3}
cpu=${NETMON_BENCH_CPU:-1}
modes=${NETMON_BENCH_MODES:-tcx tc xdp}
throughput=${NETMON_BENCH_THROUGHPUT:-1}
realtime=${NETMON_BENCH_RT:-1}
methods=${NETMON_BENCH_METHODS:-together}
calibrate=${NETMON_BENCH_CALIBRATE:-1}
[ "$rounds" -ge 3 ] || rounds=3
[ "$(id -u)" -eq 0 ] || { echo "bpf-cost.sh: needs root" >&2; exit 1; }

cmake --build "$build" --target netmon_udp_flood netmon_bench_attach netmon_bench_map_read \
	-j2 >/dev/null
flood=$build/bench/netmon_udp_flood
attach=$build/bench/netmon_bench_attach
map_read=$build/bench/netmon_bench_map_read

# Two namespaces joined by two veth pairs (the second only for XDP, which
# takes one program per interface); nothing else on the links (IPv6 off,
# static neighbours), addresses from the benchmarking range.
tag=nmb$$
ns_a=${tag}a ns_b=${tag}b
if_a=${tag}a if_b=${tag}b if_c=${tag}c if_d=${tag}d
ip_b=198.18.0.2 ip_d=198.19.0.2
helper_pids=()
cleanup() {
	for pid in "${helper_pids[@]}"; do kill "$pid" 2>/dev/null || true; done
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
link_pair() { # IF_A IF_B SUBNET MAC_A MAC_B
	ip -n "$ns_a" link add "$1" address "$4" type veth peer name "$2" address "$5" netns "$ns_b"
	ip -n "$ns_a" addr add "$3.1/24" dev "$1"
	ip -n "$ns_b" addr add "$3.2/24" dev "$2"
	ip -n "$ns_a" neigh add "$3.2" lladdr "$5" nud permanent dev "$1"
	ip -n "$ns_b" neigh add "$3.1" lladdr "$4" nud permanent dev "$2"
	ip -n "$ns_a" link set "$1" up
	ip -n "$ns_b" link set "$2" up
}
link_pair "$if_a" "$if_b" 198.18.0 02:00:c6:12:00:01 02:00:c6:12:00:02
link_pair "$if_c" "$if_d" 198.19.0 02:00:c6:13:00:01 02:00:c6:13:00:02

flood_pps() { # DESTINATIONS
	"$flood" "$ns_a" "$ns_b" "$1" --payload 18 --seconds "$seconds" --cpu "$cpu" --rt "$realtime" |
		sed -n 's/.*pps=\([0-9]*\).*/\1/p'
}

# with_programs DESTINATIONS HELPER_ARGS...: floods DESTINATIONS while
# netmon_bench_attach holds HELPER_ARGS in $ns_b (and $helper_a_args, if
# set, in $ns_a); prints the report from $ns_b, then "pps=N".
helper_a_args=
with_programs() {
	local dst=$1
	shift
	local dir
	dir=$(mktemp -d)
	mkfifo "$dir/in_b" "$dir/in_a"
	ip netns exec "$ns_b" "$attach" "$@" <"$dir/in_b" >"$dir/out_b" &
	helper_pids=($!)
	exec 7>"$dir/in_b"
	if [ -n "$helper_a_args" ]; then
		# shellcheck disable=SC2086 # word splitting intended
		ip netns exec "$ns_a" "$attach" $helper_a_args <"$dir/in_a" >"$dir/out_a" &
		helper_pids+=($!)
		exec 8>"$dir/in_a"
	fi
	local out outs=("$dir/out_b")
	[ -z "$helper_a_args" ] || outs+=("$dir/out_a")
	for out in "${outs[@]}"; do
		for _ in $(seq 100); do grep -qs '^ready' "$out" && break; sleep 0.05; done
		grep -qs '^ready' "$out" || { echo "bpf-cost.sh: netmon_bench_attach failed" >&2; exit 1; }
	done
	local pps
	pps=$(flood_pps "$dst")
	exec 7>&-
	[ -z "$helper_a_args" ] || exec 8>&-
	wait "${helper_pids[@]}"
	helper_pids=()
	grep -v '^ready' "$dir/out_b"
	echo "pps=$pps"
	rm -rf "$dir"
}

# "ns per run" of the first program whose name matches, from a report.
ns_per_run() {
	awk -v name="$1" '$2 == name {
		split($3, c, "="); split($4, t, "=");
		if (c[2] > 0) { printf "%.2f\n", t[2] / c[2]; exit } }'
}

median() { sort -g | awk '{ v[NR] = $1 } END { print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }

echo "# netmon datapath cost on $(uname -r), $(nproc) cpus, load $(cut -d' ' -f1 /proc/loadavg);"
echo "# ${seconds}s floods on cpu $cpu (SCHED_FIFO: $realtime), $rounds rounds"
echo "# 60-byte frames (64 on the wire), veth between two namespaces"
echo

echo "## per-packet cost of the rx program (ns per run; methods: see the header)"
printf '%-13s %-8s %-5s %-12s %9s %9s %7s %7s\n' program method pair order ours_ns empty_ns ratio pair
summary=()
ratio_of() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.3f", a / b }'; }

# prog_name MODE PROGRAM: the name the kernel reports for PROGRAM ("ours",
# "empty", or a calibration program of bpf/empty.bpf.c) on MODE's rx hook.
prog_name() {
	case $2 in
	ours) [ "$1" = xdp ] && echo netmon_xdp || echo netmon_ingress ;;
	empty) [ "$1" = xdp ] && echo empty_xdp || echo empty_tc ;;
	*) echo "${2}_tc" ;;
	esac
}

# Where netmon_bench_attach puts the empty program when it is alone on a hook.
empty_alone() { [ "$1" = xdp ] && echo xdp || echo "$1-first"; }

# ns_alone MODE PROGRAM: one flood with only PROGRAM on $if_b's rx hook;
# prints ns per run.
ns_alone() {
	local report args
	case $2 in
	ours) args=(--ours "$1" "$if_b") ;;
	empty) args=(--empty "$(empty_alone "$1")" "$if_b") ;;
	*) args=("--empty=$2" "$1-first" "$if_b") ;;
	esac
	report=$(with_programs $ip_b "${args[@]}" --stats)
	ns_per_run "$(prog_name "$1" "$2")" <<<"$report"
}

# measure MODE METHOD PROGRAM LABEL: the rounds of one row group; appends the
# median of the pairs to summary.
measure() {
	local mode=$1 method=$2 program=$3 label=$4 pair order ours empty ratio product
	local pairs=()
	for pair in $(seq "$rounds"); do
		product=1
		for order in first last; do
			case $method in
			alone)
				if [ $order = first ]; then
					empty=$(ns_alone "$mode" empty)
					ours=$(ns_alone "$mode" "$program")
				else
					ours=$(ns_alone "$mode" "$program")
					empty=$(ns_alone "$mode" empty)
				fi
				order=empty-$order
				;;
			together)
				if [ "$program" = ours ]; then
					report=$(with_programs $ip_b --ours "$mode" "$if_b" --empty "$mode-$order" "$if_b" --stats)
				else
					report=$(with_programs $ip_b "--empty=$program" "$mode-last" "$if_b" \
						--empty "$mode-$order" "$if_b" --stats)
				fi
				ours=$(ns_per_run "$(prog_name "$mode" "$program")" <<<"$report")
				empty=$(ns_per_run "$(prog_name "$mode" empty)" <<<"$report")
				order=empty-$order
				;;
			apart)
				if [ $order = first ]; then
					report=$(with_programs $ip_b,$ip_d --ours "$mode" "$if_b" --empty "$(empty_alone "$mode")" "$if_d" --stats)
				else
					report=$(with_programs $ip_b,$ip_d --ours "$mode" "$if_d" --empty "$(empty_alone "$mode")" "$if_b" --stats)
				fi
				ours=$(ns_per_run "$(prog_name "$mode" ours)" <<<"$report")
				empty=$(ns_per_run "$(prog_name "$mode" empty)" <<<"$report")
				order=$([ $order = first ] && echo ours-on-b || echo ours-on-d)
				;;
			esac
			ratio=$(ratio_of "$ours" "$empty")
			product=$(awk -v p="$product" -v r="$ratio" 'BEGIN { print p * r }')
			printf '%-13s %-8s %-5s %-12s %9s %9s %7s\n' "$label" "$method" "$pair" "$order" "$ours" "$empty" "$ratio"
		done
		pairs+=("$(awk -v p="$product" 'BEGIN { printf "%.3f", sqrt(p) }')")
		printf '%-13s %-8s %-5s %-12s %9s %9s %7s %7s\n' "$label" "$method" "$pair" "" "" "" "" "${pairs[-1]}"
	done
	summary+=("$label $method $(printf '%s\n' "${pairs[@]}" | median)")
}

for mode in $modes; do
	case $mode in tcx | tc | xdp) ;; *) echo "bpf-cost.sh: unknown mode $mode" >&2; exit 2 ;; esac
	for method in $methods; do
		case $method in alone | together | apart) ;; *) echo "bpf-cost.sh: unknown method $method" >&2; exit 2 ;; esac
		[ "$mode" != xdp ] || [ "$method" != together ] || method=apart
		measure "$mode" "$method" ours "netmon-$mode"
	done
done
if [ "$calibrate" -ne 0 ]; then
	# The budget's reference points, by the first method, on tcx.
	calibration_method=${methods%% *}
	[ "$calibration_method" != apart ] || calibration_method=together
	measure tcx "$calibration_method" array_lookup array-lookup
	measure tcx "$calibration_method" hash_lookup hash-lookup
	measure tcx "$calibration_method" array_count array-count
fi
echo

if [ "$throughput" -ne 0 ]; then
	echo "## datapath throughput (pps; rx+tx hooks in use on both ends)"
	echo "# none: nothing attached; empty: empty tcx programs on the same hooks"
	echo "# (what any tcx program costs); netmon: auto mode, as the agent attaches"
	printf '%-6s %10s %10s %10s %13s %14s\n' round none empty netmon netmon/none netmon/empty
	bare_all=() empty_all=() ours_all=()
	for round in $(seq "$rounds"); do
		bare=$(flood_pps $ip_b)
		helper_a_args="--empty tcx-egress $if_a"
		empty=$(with_programs $ip_b --empty tcx-first "$if_b" | sed -n 's/^pps=//p')
		helper_a_args="--ours auto $if_a"
		ours=$(with_programs $ip_b --ours auto "$if_b" | sed -n 's/^pps=//p')
		helper_a_args=
		bare_all+=("$bare") empty_all+=("$empty") ours_all+=("$ours")
		printf '%-6s %10s %10s %10s %13s %14s\n' "$round" "$bare" "$empty" "$ours" \
			"$(ratio_of "$ours" "$bare")" "$(ratio_of "$ours" "$empty")"
	done
	bare_median=$(printf '%s\n' "${bare_all[@]}" | median)
	empty_median=$(printf '%s\n' "${empty_all[@]}" | median)
	ours_median=$(printf '%s\n' "${ours_all[@]}" | median)
	echo

	echo "## counter read cost (per-CPU array, this machine's possible cpus)"
	"$map_read" 16 256 1024
	echo
fi

echo "## summary (medians)"
for line in "${summary[@]}"; do
	set -- $line
	case $1 in
	netmon-*) printf 'per-packet %-13s %-8s ours/empty = %sx   (bar <= 1.15x)\n' "$1" "$2" "$3" ;;
	array-count) printf 'calibration %-12s %-8s prog/empty = %sx   (the floor of any per-CPU array counter)\n' "$1" "$2" "$3" ;;
	*) printf 'calibration %-12s %-8s prog/empty = %sx   (budget reference: %s)\n' "$1" "$2" "$3" \
		"$([ "$1" = array-lookup ] && echo "~1.05x" || echo "~1.55x")" ;;
	esac
done
if [ "$throughput" -ne 0 ]; then
	printf 'throughput netmon/none  = %s   (%s vs %s pps; bar >= 0.97)\n' \
		"$(ratio_of "$ours_median" "$bare_median")" "$ours_median" "$bare_median"
	printf 'throughput netmon/empty = %s   (%s vs %s pps)\n' \
		"$(ratio_of "$ours_median" "$empty_median")" "$ours_median" "$empty_median"
fi
