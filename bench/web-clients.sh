#!/usr/bin/env bash
# The live page and streams at scale (issue 15, "Performance"): two agents
# side by side in one namespace holding 1,000 interfaces (500 veth pairs,
# both ends inside), both `--netdev all --interval 1s --listen`, NDJSON to
# /dev/null; one has no clients, the other 10 headless Chromium pages on /
# (one browser, a context per page: each page opens its own stream) and 10
# stream clients (5 `curl -N /events`, 5 node `ws` on /ws). Over the same
# window of NETMON_BENCH_SECONDS, after every client got its first snapshot:
#
#   CPU: utime + stime from /proc/PID/stat of each agent; the ratio
#        with/without (bar: <= 2).
#   RSS: peak (VmHWM) of each; the difference over the 20 clients is the
#        cost per client.
#
# A benchmark, not a test: it prints figures and never fails on them.
#
# usage: sudo bench/web-clients.sh [BUILD_DIR]      (default: build)
# env:   NETMON_BENCH_PAIRS (veth pairs, default 500), NETMON_BENCH_SECONDS
#        (default 60), NETMON_BENCH_BROWSERS (pages, default 10),
#        NETMON_BENCH_SSE / NETMON_BENCH_WS (default 5 each),
#        NETMON_BENCH_AGENT (another netmon-agent binary),
#        NETMON_NODE_MODULES (default tests/e2e/node_modules, from ci/npm-deps)
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=bench/lib.sh
. "$here/lib.sh"

build=${1:-build}
pairs=${NETMON_BENCH_PAIRS:-500}
seconds=${NETMON_BENCH_SECONDS:-60}
browsers=${NETMON_BENCH_BROWSERS:-10}
n_sse=${NETMON_BENCH_SSE:-5}
n_ws=${NETMON_BENCH_WS:-5}
# --netdev only: two --bpf agents cannot both own one interface's hook (the
# second counts nothing), and side by side is what makes the ratio mean
# something on a shared machine.
source_flag=--netdev
node_modules=${NETMON_NODE_MODULES:-$here/../tests/e2e/node_modules}
[ "$(id -u)" -eq 0 ] || bench_die "needs root (namespaces)"
for tool in node curl chromium jq; do
	command -v "$tool" >/dev/null || bench_die "$tool is not installed (ci/deps, ci/npm-deps)"
done
for module in puppeteer-core ws; do
	[ -d "$node_modules/$module" ] || bench_die "no $module in $node_modules: run ci/npm-deps"
done

agent=$(bench_agent "$build")

tag=$$
ns=nmw$tag
work=$(mktemp -d "${TMPDIR:-/tmp}/netmon-web-bench.$tag.XXXXXX")
bench_cleanup_add "rm -rf '$work'"
bench_netns_add "$ns"
bench_veth_pairs "$ns" "$pairs" "w$tag"
n_if=$(ip -n "$ns" -o link show | wc -l)

bench_caveat
echo "# $n_if interfaces, $source_flag all --interval 1s, ${seconds} s window," \
	"$browsers chromium pages + $n_sse SSE + $n_ws ws clients on one agent, none on the other"

# start_agent PORT: sets agent_pid (not a $(...) subshell: the clean-up it
# registers must reach this shell's EXIT trap).
start_agent() {
	nsenter --net="/run/netns/$ns" -- "$agent" "$source_flag" all --interval 1s \
		--listen "127.0.0.1:$1" >/dev/null 2>"$work/agent-$1.err" &
	agent_pid=$!
	bench_kill_on_exit "$agent_pid" netmon-agent
}
get() { bench_in_ns "$ns" curl -sf --max-time 5 "$@"; }
wait_ready() {  # PORT PID
	local _
	for _ in $(seq 600); do
		get -o /dev/null "http://127.0.0.1:$1/snapshot" 2>/dev/null && return 0
		kill -0 "$2" 2>/dev/null || bench_die "agent on $1 died: $(cat "$work/agent-$1.err")"
		sleep 0.1
	done
	bench_die "agent on $1 served no snapshot in 60 s"
}
# CPU ticks (utime + stime) from /proc/PID/stat; comm may hold spaces, so
# the fields are counted after its closing parenthesis.
cpu_ticks() { sed 's/.*) //' "/proc/$1/stat" | awk '{ print $12 + $13 }'; }
hwm_kib() { bench_pid_hwm_kib "$1"; }
rss_kib() { awk '$1 == "VmRSS:" { print $2 }' "/proc/$1/status"; }
stream_clients() {
	get "http://127.0.0.1:$1/metrics" | awk '$1 == "netmon_stream_clients" { print $2 }'
}

quiet_port=9320
busy_port=9321
start_agent "$quiet_port"
quiet_pid=$agent_pid
start_agent "$busy_port"
busy_pid=$agent_pid
wait_ready "$quiet_port" "$quiet_pid"
wait_ready "$busy_port" "$busy_pid"
line_bytes=$(get "http://127.0.0.1:$busy_port/snapshot" | wc -c)
for port in "$quiet_port" "$busy_port"; do
	seen=$(get "http://127.0.0.1:$port/snapshot" | jq '.interfaces | length')
	[ "$seen" -eq "$n_if" ] || bench_die "agent on $port sees $seen of $n_if interfaces"
done
hwm_quiet_start=$(hwm_kib "$quiet_pid")
hwm_busy_start=$(hwm_kib "$busy_pid")

# The clients, all on the busy agent.
url=http://127.0.0.1:$busy_port
for ((i = 0; i < n_sse; i++)); do
	nsenter --net="/run/netns/$ns" -- curl -sN "$url/events" >/dev/null 2>&1 &
	bench_kill_on_exit $! curl
done
for ((i = 0; i < n_ws; i++)); do
	nsenter --net="/run/netns/$ns" -- env NODE_PATH="$node_modules" \
		node "$here/../tests/e2e/web/ws_record.js" "ws://127.0.0.1:$busy_port/ws" >/dev/null 2>&1 &
	bench_kill_on_exit $! node
done
if [ "$browsers" -gt 0 ]; then
	nsenter --net="/run/netns/$ns" -- env NODE_PATH="$node_modules" \
		node "$here/web_pages.js" "$url/" "$browsers" >"$work/pages.out" 2>"$work/pages.err" &
	pages_pid=$!
	# SIGTERM: the script closes its browser (and chromium's processes) itself.
	bench_cleanup_add "kill -TERM $pages_pid; for _ in \$(seq 100); do kill -0 $pages_pid || break; sleep 0.1; done"
	for _ in $(seq 1200); do
		grep -q '^ready' "$work/pages.out" && break
		kill -0 "$pages_pid" 2>/dev/null || bench_die "chromium pages failed: $(cat "$work/pages.err")"
		sleep 0.1
	done
	grep -q '^ready' "$work/pages.out" || bench_die "chromium pages not ready in 120 s"
fi
want=$((browsers + n_sse + n_ws))
for _ in $(seq 300); do
	[ "$(stream_clients "$busy_port")" = "$want" ] && break
	sleep 0.1
done
clients=$(stream_clients "$busy_port")
[ "$clients" = "$want" ] || echo "# warning: $clients stream clients, expected $want"
sleep 3 # the pages' first render and chart set-up are not the steady state

q0=$(cpu_ticks "$quiet_pid")
b0=$(cpu_ticks "$busy_pid")
qns0=$(bench_pid_cpu_ns "$quiet_pid")
bns0=$(bench_pid_cpu_ns "$busy_pid")
load0=$(bench_load)
sleep "$seconds"
q1=$(cpu_ticks "$quiet_pid")
b1=$(cpu_ticks "$busy_pid")
qns1=$(bench_pid_cpu_ns "$quiet_pid")
bns1=$(bench_pid_cpu_ns "$busy_pid")
clients_end=$(stream_clients "$busy_port")
dropped=$(get "$url/metrics" | awk '$1 == "netmon_stream_dropped_snapshots_total" { print $2 }')
hwm_quiet=$(hwm_kib "$quiet_pid")
hwm_busy=$(hwm_kib "$busy_pid")
rss_quiet=$(rss_kib "$quiet_pid")
rss_busy=$(rss_kib "$busy_pid")
hz=$(getconf CLK_TCK)

cpu_q=$(awk -v t=$((q1 - q0)) -v hz="$hz" -v s="$seconds" 'BEGIN { printf "%.2f", 100 * t / hz / s }')
cpu_b=$(awk -v t=$((b1 - b0)) -v hz="$hz" -v s="$seconds" 'BEGIN { printf "%.2f", 100 * t / hz / s }')
ratio=$(bench_ratio $((b1 - b0)) $((q1 - q0)))
ratio_ns=$(bench_ratio $((bns1 - bns0)) $((qns1 - qns0)))
ms_q=$(((qns1 - qns0) / 1000000))
ms_b=$(((bns1 - bns0) / 1000000))
per_client=$(awk -v a="$hwm_busy" -v b="$hwm_quiet" -v n="$want" 'BEGIN { printf "%.0f", (a - b) / n }')
echo "# snapshot line $line_bytes bytes; stream clients $clients at start, $clients_end at end;" \
	"$dropped snapshots dropped for slow clients; load $load0 -> $(bench_load)"
echo "# VmHWM before clients: quiet $hwm_quiet_start KiB, busy $hwm_busy_start KiB"
echo
echo "## summary"
echo "cpu without clients: ${cpu_q}% of a core ($((q1 - q0)) ticks in ${seconds} s)"
echo "cpu with $want clients: ${cpu_b}% of a core ($((b1 - b0)) ticks); ratio $ratio (bar <= 2: $(bench_verdict "$ratio" '<=' 2))"
echo "cpu by schedstat (ns, the threads' run time): $ms_q ms without, $ms_b ms with; ratio $ratio_ns"
echo "rss peak (VmHWM) without: $hwm_quiet KiB, with: $hwm_busy KiB (VmRSS $rss_quiet / $rss_busy KiB)"
echo "rss per client: $per_client KiB ((with - without) / $want)"
