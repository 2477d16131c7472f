#!/usr/bin/env bash
# Peak RSS (VmHWM) of the agent with and without --ledger at 1,000
# interfaces (issue 14, Performance: "its RSS stays within the budget"),
# at its busiest: every veth pair carries a frame a second, the ledger saves
# every 5 s so saves fall inside the window (the default 5 minutes would
# leave them out), and with --listen /metrics is scraped every second, as
# Prometheus would. One agent at a time, so `--bpf all` can be measured.
# Prints VmHWM per mode and what the largest mappings hold at the end.
# A benchmark: it never fails on a figure. Budget: 8 MiB.
#
# usage: sudo bench/ledger-rss.sh [BUILD_DIR]        (default: build)
# env:   NETMON_BENCH_PAIRS (default 500), NETMON_BENCH_SECONDS (per mode,
#        default 20), NETMON_BENCH_SOURCE (bpf, default, or netdev),
#        NETMON_BENCH_AGENT (another netmon-agent binary to measure)
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=bench/lib.sh
. "$here/lib.sh"

build=${1:-build}
pairs=${NETMON_BENCH_PAIRS:-500}
seconds=${NETMON_BENCH_SECONDS:-20}
source=${NETMON_BENCH_SOURCE:-bpf}
case $source in
bpf | netdev) ;;
*) bench_die "NETMON_BENCH_SOURCE is bpf or netdev, not '$source'" ;;
esac
[ "$(id -u)" -eq 0 ] || bench_die "needs root (namespaces, BPF)"

agent=$(bench_agent "$build")
tag=$$
ns=nmr$tag
work=$(mktemp -d "${TMPDIR:-/tmp}/netmon-ledger-rss.$tag.XXXXXX")
bench_cleanup_add "rm -rf '$work'"
bench_netns_add "$ns"
bench_veth_pairs "$ns" "$pairs" "r$tag"
bench_broadcast_frames "$ns" "r${tag}a" "$pairs"
n_if=$(ip -n "$ns" -o link show | wc -l)
port=19320

# measure NAME ARGS...: one agent for $seconds; prints VmHWM and the split.
measure() {
	local name=$1 pid listen=0 i split
	shift
	case " $* " in *" --listen "*) listen=1 ;; esac
	rm -f "$work"/netmon.db*
	nsenter --net="/run/netns/$ns" -- "$agent" --"$source" all --interval 1s "$@" \
		>/dev/null 2>"$work/$name.err" &
	pid=$!
	bench_kill_on_exit "$pid" netmon-agent
	for ((i = 0; i < seconds; i++)); do
		sleep 1
		if [ "$listen" = 1 ]; then
			nsenter --net="/run/netns/$ns" -- curl -sf -o /dev/null "http://127.0.0.1:$port/metrics" || true
		fi
	done
	kill -0 "$pid" 2>/dev/null || { cat "$work/$name.err" >&2; bench_die "$name: the agent exited"; }
	split=$(awk '/^[0-9a-f]+-[0-9a-f]+ / { n = split($0, f, " "); m = (n >= 6) ? f[6] : "[anon]"; sub(".*/", "", m) }
		$1 == "Rss:" { kib[m] += $2 }
		END { for (m in kib) if (kib[m] >= 100) printf "%s %d\n", m, kib[m] }' /proc/"$pid"/smaps |
		sort -k2,2nr | awk '{ printf "%s%s %.2f", (NR > 1 ? ", " : ""), $1, $2 / 1024 }')
	printf "%-28s %9s   %s\n" "$name" "$(awk -v k="$(bench_pid_hwm_kib "$pid")" 'BEGIN { printf "%.2f", k / 1024 }')" "$split"
	kill -TERM "$pid"
	wait "$pid" || true
}

echo "# --ledger peak RSS: $n_if interfaces ($pairs veth pairs, each with a frame a second + lo), --$source all --interval 1s, ${seconds}s a mode; --save-interval 5s; --listen scraped every second"
bench_caveat
echo "# mode                     VmHWM_MiB  resident MiB by mapping (>= 100 KiB) at the end"
ledger=(--ledger "$work/netmon.db" --save-interval 5s)
listen=(--listen "127.0.0.1:$port" --quiet)
measure "plain" -s
measure "ledger" -s "${ledger[@]}"
measure "plain --listen" "${listen[@]}"
measure "ledger --listen" "${ledger[@]}" "${listen[@]}"
echo "budget: 8 MiB (8192 KiB) peak RSS at 1,000 interfaces; load $(bench_load)"
