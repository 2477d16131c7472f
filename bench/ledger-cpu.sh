#!/usr/bin/env bash
# What --ledger costs in steady state (issue 14, Performance): two agents
# side by side in one run, `--netdev all --interval 1s` in a namespace of
# 1,000 interfaces (500 veth pairs, both ends inside, idle unless asked),
# one with `--ledger` on a fresh file and one without. Both run at once and
# are measured over the same windows, so the machine's other load falls on
# both. The ledger's first tick (reading each interface's day and month) is
# before the first window.
# Prints CPU ms per second of each per window, the median ratio, both
# agents' peak RSS and the ledger file's size.
# A benchmark: it never fails on a figure. Bar: ratio <= 1.10.
#
# usage: sudo bench/ledger-cpu.sh [BUILD_DIR]        (default: build)
# env:   NETMON_BENCH_PAIRS (default 500), NETMON_BENCH_SECONDS (default 60),
#        NETMON_BENCH_TRAFFIC=1 (one frame a second on every pair: every
#        interface but lo moves every tick, the ledger's busiest case),
#        NETMON_BENCH_WINDOWS (default 6: the seconds are split into windows),
#        NETMON_BENCH_SAVE_INTERVAL (--save-interval, default 5m),
#        NETMON_BENCH_AGENT (another netmon-agent binary to measure)
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=bench/lib.sh
. "$here/lib.sh"

build=${1:-build}
pairs=${NETMON_BENCH_PAIRS:-500}
seconds=${NETMON_BENCH_SECONDS:-60}
windows=${NETMON_BENCH_WINDOWS:-6}
save_interval=${NETMON_BENCH_SAVE_INTERVAL:-5m}
[ "$(id -u)" -eq 0 ] || bench_die "needs root (namespaces)"

agent=$(bench_agent "$build")

tag=$$
ns=nml$tag
work=$(mktemp -d "${TMPDIR:-/tmp}/netmon-ledger-cpu.$tag.XXXXXX")
bench_cleanup_add "rm -rf '$work'"
bench_netns_add "$ns"
bench_veth_pairs "$ns" "$pairs" "l$tag"
traffic=${NETMON_BENCH_TRAFFIC:-0}
if [ "$traffic" = 1 ]; then
	# One broadcast frame of a local experimental EtherType out of each
	# 'a' end: both ends of every pair count it, nothing answers it.
	nsenter --net="/run/netns/$ns" -- python3 - "l${tag}a" "$pairs" <<'PY' &
import socket, sys, time
prefix, count = sys.argv[1], int(sys.argv[2])
frame = b"\xff" * 6 + b"\x02\x00\x00\x00\x00\x01" + b"\x88\xb5" + bytes(46)
sockets = []
for i in range(count):
    s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW)
    s.bind((f"{prefix}{i}", 0))
    sockets.append(s)
while True:
    start = time.monotonic()
    for s in sockets:
        s.send(frame)
    time.sleep(max(0.0, 1.0 - (time.monotonic() - start)))
PY
	bench_kill_on_exit $! python3
fi
n_if=$(ip -n "$ns" -o link show | wc -l)
hz=$(getconf CLK_TCK)

# utime + stime of a live process, in clock ticks.
pid_ticks() { awk '{ print $14 + $15 }' /proc/"$1"/stat; }

start() {
	local name=$1
	shift
	nsenter --net="/run/netns/$ns" -- "$agent" --netdev all --interval 1s -s "$@" \
		>"$work/$name.out" 2>"$work/$name.err" &
	pids[$name]=$!
	bench_kill_on_exit "${pids[$name]}" netmon-agent
}

declare -A pids
# Half an interval apart: two agents ticking at the same moment on two
# CPUs contend for the caches and the kernel's link dump, which no single
# agent meets, and which of them comes off worse changes from run to run.
start plain
sleep 0.5
start ledger --ledger "$work/netmon.db" --save-interval "$save_interval"
for name in plain ledger; do
	bench_wait_line "$work/$name.out" 300 || { cat "$work/$name.err" >&2; bench_die "$name wrote no snapshot"; }
done
sleep 2.5 # past the first ticks: steady from here

what="idle veth pairs"
[ "$traffic" = 1 ] && what="veth pairs, each with a frame a second"
echo "# --ledger CPU: $n_if interfaces ($pairs $what + lo), --netdev all --interval 1s, ${seconds}s in $windows windows"
bench_caveat
# Two clocks: utime+stime (whole clock ticks, coarse over a short window)
# and the scheduler's run time of every thread (ns, schedstat). The two
# agents tick in step and share two CPUs and their caches, so a single
# window's ratio swings; the median over windows is the figure.
p0=$(pid_ticks "${pids[plain]}") l0=$(pid_ticks "${pids[ledger]}")
window=$((seconds / windows))
printf "%-8s %18s %18s %8s\n" window plain_ms_per_s ledger_ms_per_s ratio
ratios=()
for ((w = 1; w <= windows; w++)); do
	ps0=$(bench_pid_cpu_ns "${pids[plain]}") ls0=$(bench_pid_cpu_ns "${pids[ledger]}")
	sleep "$window"
	ps1=$(bench_pid_cpu_ns "${pids[plain]}") ls1=$(bench_pid_cpu_ns "${pids[ledger]}")
	ratio=$(awk -v p=$((ps1 - ps0)) -v l=$((ls1 - ls0)) 'BEGIN { printf "%.3f", (p > 0 ? l / p : 0) }')
	ratios+=("$ratio")
	awk -v w="$w" -v p=$((ps1 - ps0)) -v l=$((ls1 - ls0)) -v s="$window" -v r="$ratio" \
		'BEGIN { printf "%-8s %18.3f %18.3f %8s\n", w, p / 1e6 / s, l / 1e6 / s, r }'
done
p1=$(pid_ticks "${pids[plain]}") l1=$(pid_ticks "${pids[ledger]}")
hwm_plain=$(bench_pid_hwm_kib "${pids[plain]}") hwm_ledger=$(bench_pid_hwm_kib "${pids[ledger]}")
for name in plain ledger; do
	kill -TERM "${pids[$name]}"
	wait "${pids[$name]}" || true
done
median=$(printf "%s\n" "${ratios[@]}" | bench_median)
awk -v p=$((p1 - p0)) -v l=$((l1 - l0)) -v hz="$hz" -v s="$((window * windows))" -v m="$median" \
	-v load="$(bench_load)" 'BEGIN {
	printf "utime+stime ms/s: plain %.2f, --ledger %.2f", p * 1000 / hz / s, l * 1000 / hz / s
	if (p > 0) printf " (ratio %.3f)", l / p
	printf "\nratio (schedstat, median of windows) %s; bar <= 1.10; load %s\n", m, load
}'
awk -v p="$hwm_plain" -v l="$hwm_ledger" \
	'BEGIN { printf "peak RSS (VmHWM): plain %.2f MiB, --ledger %.2f MiB\n", p / 1024, l / 1024 }'
echo "ledger file: $(stat -c %s "$work/netmon.db") bytes; snapshot line: plain $(head -c 1000000 "$work/plain.out" | head -n1 | wc -c) bytes, ledger $(head -n1 "$work/ledger.out" | wc -c) bytes"
