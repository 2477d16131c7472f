#!/usr/bin/env bash
# What --ledger costs in steady state (issue 14, Performance): two agents
# side by side in one run, `--netdev all --interval 1s` in a namespace of
# 1,000 idle interfaces (500 veth pairs, both ends inside), one with
# `--ledger` on a fresh file and one without. Both start together and are
# measured over the same window, so the machine's other load falls on both.
# CPU is utime+stime from /proc/PID/stat (clock ticks); the ledger's first
# tick (reading each interface's day and month) is before the window.
# Prints CPU ms per second of each, the ratio and the ledger's save count.
# A benchmark: it never fails on a figure. Bar: ratio <= 1.10.
#
# usage: sudo bench/ledger-cpu.sh [BUILD_DIR]        (default: build)
# env:   NETMON_BENCH_PAIRS (default 500), NETMON_BENCH_SECONDS (default 60),
#        NETMON_BENCH_SAVE_INTERVAL (--save-interval, default 5m),
#        NETMON_BENCH_AGENT (another netmon-agent binary to measure)
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=bench/lib.sh
. "$here/lib.sh"

build=${1:-build}
pairs=${NETMON_BENCH_PAIRS:-500}
seconds=${NETMON_BENCH_SECONDS:-60}
save_interval=${NETMON_BENCH_SAVE_INTERVAL:-5m}
[ "$(id -u)" -eq 0 ] || bench_die "needs root (namespaces)"

agent=$(bench_agent "$build")

tag=$$
ns=nml$tag
work=$(mktemp -d "${TMPDIR:-/tmp}/netmon-ledger-cpu.$tag.XXXXXX")
bench_cleanup_add "rm -rf '$work'"
bench_netns_add "$ns"
bench_veth_pairs "$ns" "$pairs" "l$tag"
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
start plain
start ledger --ledger "$work/netmon.db" --save-interval "$save_interval"
for name in plain ledger; do
	bench_wait_line "$work/$name.out" 300 || { cat "$work/$name.err" >&2; bench_die "$name wrote no snapshot"; }
done
sleep 2.5 # past the first ticks: steady from here

echo "# --ledger CPU: $n_if interfaces ($pairs idle veth pairs + lo), --netdev all --interval 1s, ${seconds}s"
bench_caveat
p0=$(pid_ticks "${pids[plain]}") l0=$(pid_ticks "${pids[ledger]}")
ps0=$(bench_pid_cpu_ns "${pids[plain]}") ls0=$(bench_pid_cpu_ns "${pids[ledger]}")
sleep "$seconds"
p1=$(pid_ticks "${pids[plain]}") l1=$(pid_ticks "${pids[ledger]}")
ps1=$(bench_pid_cpu_ns "${pids[plain]}") ls1=$(bench_pid_cpu_ns "${pids[ledger]}")
for name in plain ledger; do
	kill -TERM "${pids[$name]}"
	wait "${pids[$name]}" || true
done
# Two clocks: utime+stime (whole clock ticks, coarse over a short window)
# and the scheduler's run time of every thread (ns, schedstat).
awk -v p=$((p1 - p0)) -v l=$((l1 - l0)) -v ps=$((ps1 - ps0)) -v ls=$((ls1 - ls0)) \
	-v hz="$hz" -v s="$seconds" -v load="$(bench_load)" 'BEGIN {
	printf "%-10s %22s %22s\n", "agent", "utime+stime_ms_per_s", "schedstat_ms_per_s"
	printf "%-10s %22.2f %22.3f\n", "plain", p * 1000 / hz / s, ps / 1e6 / s
	printf "%-10s %22.2f %22.3f\n", "--ledger", l * 1000 / hz / s, ls / 1e6 / s
	if (p > 0 && ps > 0)
		printf "ratio %.3f (utime+stime), %.3f (schedstat); bar <= 1.10; load %s\n", l / p, ls / ps, load
}'
echo "ledger file: $(stat -c %s "$work/netmon.db") bytes; snapshot line: plain $(head -c 1000000 "$work/plain.out" | head -n1 | wc -c) bytes, ledger $(head -n1 "$work/ledger.out" | wc -c) bytes"
