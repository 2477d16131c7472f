#!/usr/bin/env bash
# The agent at scale (issue 6, items 3-5), measured side by side in one run
# in a namespace of its own holding 1,000 interfaces (500 veth pairs, both
# ends inside). A benchmark, not a test: it prints figures and ratios and
# never fails on them.
#
#  3. Snapshot cost: CPU time (user+sys) of one `--bpf all` snapshot (map
#     read + JSON), and of one `--netdev all` snapshot, against one
#     `ip -s -j link show` over the same interfaces. The agent runs with a
#     short interval; its CPU time over a window of K snapshots (SIGSTOPped
#     around the window, so start-up, attach and detach are outside it) is
#     divided by K. `ip` is timed both as one whole process and per dump
#     (an `ip -batch` of K dumps minus a batch of 1, over K-1), while the
#     agent is stopped. Medians over the rounds. Bar: <= 0.5x.
#  4. Steady state: `--bpf all --interval 1s` for NETMON_BENCH_STEADY_SECONDS:
#     average % of one core (after the first snapshot) and peak RSS (VmHWM),
#     against prometheus-node-exporter with only its netdev collector, curl
#     scraping it once a second over the same window, at the same time (its
#     Debian package is installed if missing). Bars: <= 0.5%, <= 8 MiB.
#  5. Start-up: exec -> first snapshot line with `--bpf all` (bar <= 1 s),
#     beside `--bpf all --attach tc` and `--netdev all`; and, with the agent
#     running at --interval 1s, creation of a veth pair -> both ends in a
#     snapshot, at random phases of the interval (bar <= 1 interval). The
#     time SIGTERM -> exit (detaching everything) is shown too.
#
# usage: sudo bench/scale.sh [BUILD_DIR]          (default: build)
# env:   NETMON_BENCH_PAIRS (veth pairs, default 500), NETMON_BENCH_STEADY_SECONDS
#        (default 60), NETMON_BENCH_SNAPSHOTS (K per round, default 50),
#        NETMON_BENCH_ROUNDS (default 3), NETMON_BENCH_HOTPLUG (trials, default 5),
#        NETMON_BENCH_NODE_EXPORTER (0 skips the comparison), NETMON_BENCH_AGENT
#        (another netmon-agent binary to measure, e.g. a candidate fix's build),
#        NETMON_BENCH_BUSY=1 (start-up again with every CPU busy at nice 19: tcx
#        attach waits for RCU grace periods, which a busy CPU makes slow;
#        off by default, as it burns the idle CPU of a shared machine)
#
# Figures depend on the machine (CPU, other load: the load average is printed
# beside each); only ratios taken in the same run mean anything.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=bench/lib.sh
. "$here/lib.sh"

build=${1:-build}
pairs=${NETMON_BENCH_PAIRS:-500}
steady_seconds=${NETMON_BENCH_STEADY_SECONDS:-60}
k=${NETMON_BENCH_SNAPSHOTS:-50}
rounds=${NETMON_BENCH_ROUNDS:-3}
hotplug_trials=${NETMON_BENCH_HOTPLUG:-5}
with_node_exporter=${NETMON_BENCH_NODE_EXPORTER:-1}
busy=${NETMON_BENCH_BUSY:-0}
cost_interval_ms=20
[ "$(id -u)" -eq 0 ] || bench_die "needs root (namespaces, BPF)"
[ "$k" -ge 2 ] || k=2

agent=$(bench_agent "$build")
if [ "$with_node_exporter" -ne 0 ] && ! command -v prometheus-node-exporter >/dev/null; then
	bench_apt_install prometheus-node-exporter ||
		{ echo "# prometheus-node-exporter unavailable: comparison skipped" >&2; with_node_exporter=0; }
fi

tag=$$
ns=nms$tag
work=$(mktemp -d "${TMPDIR:-/tmp}/netmon-scale.$tag.XXXXXX")
bench_cleanup_add "rm -rf '$work'"
bench_netns_add "$ns"
bench_veth_pairs "$ns" "$pairs" "v$tag"
n_if=$(ip -n "$ns" -o link show | wc -l)

ns_now() { date +%s%N; }
ms_since() { echo $((($(ns_now) - $1) / 1000000)); }

# start_agent NAME ARGS...: the agent in the namespace, stdout appended to
# $work/NAME.out (O_APPEND: the file can be emptied under it), stderr to
# NAME.err; sets agent_pid and startup_ms (exec -> first complete line).
start_agent() {
	local name=$1 t0
	shift
	: >"$work/$name.out"
	t0=$(ns_now)
	nsenter --net="/run/netns/$ns" -- "$agent" "$@" >>"$work/$name.out" 2>"$work/$name.err" &
	agent_pid=$!
	bench_kill_on_exit "$agent_pid" netmon-agent
	if ! bench_wait_line "$work/$name.out" 300; then
		cat "$work/$name.err" >&2
		bench_die "agent ($*) wrote no snapshot"
	fi
	startup_ms=$(ms_since "$t0")
}

# stop_agent: SIGTERM, wait; sets stop_ms (SIGTERM -> exit, i.e. detach).
stop_agent() {
	local t0
	t0=$(ns_now)
	kill -TERM "$agent_pid"
	wait "$agent_pid" || true
	stop_ms=$(ms_since "$t0")
}

lines_of() { wc -l <"$1"; }
fmt_ms() { awk -v ns="$1" 'BEGIN { printf "%.3f", ns / 1e6 }'; }

echo "# netmon agent at scale: $n_if interfaces ($pairs veth pairs + lo) in one namespace"
bench_caveat
echo

# ---- 3. snapshot cost --------------------------------------------------------
ip_one=$work/ip-1.batch ip_k=$work/ip-k.batch
echo "link show" >"$ip_one"
for ((i = 0; i < k; i++)); do echo "link show"; done >"$ip_k"

# Per round: one window of the agent (ns per snapshot), then `ip` alone.
# Prints "agent_ns ip_process_ns ip_dump_ns load" per round.
cost_rounds() {
	local out=$1 r c0 c1 n ip1 ipk window
	window=$(awk -v k="$k" -v i="$cost_interval_ms" 'BEGIN { print k * i / 1000 }')
	bench_pid_stop "$agent_pid"
	for ((r = 1; r <= rounds; r++)); do
		: >"$out"
		c0=$(bench_pid_cpu_ns "$agent_pid")
		bench_pid_cont "$agent_pid"
		sleep "$window"
		bench_pid_stop "$agent_pid"
		c1=$(bench_pid_cpu_ns "$agent_pid")
		n=$(lines_of "$out")
		[ "$n" -gt 0 ] || bench_die "no snapshot in a ${window}s window"
		ip1=$(bench_cpu_ns -n "$ns" ip -s -j -batch "$ip_one")
		ipk=$(bench_cpu_ns -n "$ns" ip -s -j -batch "$ip_k")
		echo "$(((c1 - c0) / n)) $ip1 $(((ipk - ip1) / (k - 1))) $(bench_load) $n"
	done
	bench_pid_cont "$agent_pid"
}

echo "## 3. snapshot cost (CPU ms, user+sys; agent at --interval ${cost_interval_ms}ms, $k-snapshot windows)"
printf '%-7s %-5s %10s %10s %10s %9s %9s %6s\n' source round agent_ms ip_proc_ms ip_dump_ms \
	vs_proc vs_dump load
declare -A cost_agent cost_ip_proc cost_ip_dump cost_vs_proc cost_vs_dump cost_load startup_of stop_of
for source in bpf netdev; do
	start_agent "cost-$source" "--$source" all --interval "${cost_interval_ms}ms" -s
	startup_of[cost-$source]=$startup_ms
	# A few snapshots first: caches and allocations settle.
	sleep 0.5
	a_all=() p_all=() d_all=() l_all=() vp_all=() vd_all=()
	r=0
	while read -r a p d l n; do
		r=$((r + 1))
		a_all+=("$a") p_all+=("$p") d_all+=("$d") l_all+=("$l")
		vp_all+=("$(bench_ratio "$a" "$p")") vd_all+=("$(bench_ratio "$a" "$d")")
		printf '%-7s %-5s %10s %10s %10s %9s %9s %6s\n' "$source" "$r" "$(fmt_ms "$a")" \
			"$(fmt_ms "$p")" "$(fmt_ms "$d")" "$(bench_ratio "$a" "$p")" \
			"$(bench_ratio "$a" "$d")" "$l"
	done < <(cost_rounds "$work/cost-$source.out")
	cost_agent[$source]=$(printf '%s\n' "${a_all[@]}" | bench_median)
	cost_ip_proc[$source]=$(printf '%s\n' "${p_all[@]}" | bench_median)
	cost_ip_dump[$source]=$(printf '%s\n' "${d_all[@]}" | bench_median)
	cost_load[$source]=$(printf '%s\n' "${l_all[@]}" | bench_median)
	# Ratios per round (agent and ip minutes apart at most), then the median.
	cost_vs_proc[$source]=$(printf '%s\n' "${vp_all[@]}" | bench_median)
	cost_vs_dump[$source]=$(printf '%s\n' "${vd_all[@]}" | bench_median)
	stop_agent
	stop_of[cost-$source]=$stop_ms
	rm -f "$work/cost-$source.out"
done
echo

# ---- 4. steady state, and 5. start-up + hotplug -------------------------------
ne_pid=
if [ "$with_node_exporter" -ne 0 ]; then
	port=$((20000 + tag % 20000))
	nsenter --net="/run/netns/$ns" -- prometheus-node-exporter --collector.disable-defaults \
		--collector.netdev --web.listen-address="127.0.0.1:$port" >"$work/ne.log" 2>&1 &
	ne_pid=$!
	bench_kill_on_exit "$ne_pid" prometheus-node-exporter
	for _ in $(seq 100); do
		bench_in_ns "$ns" curl -sf -o /dev/null "http://127.0.0.1:$port/metrics" && break
		sleep 0.1
	done
	ne_devices=$(bench_in_ns "$ns" curl -sf "http://127.0.0.1:$port/metrics" |
		grep -c '^node_network_receive_bytes_total{' || true)
	[ "$ne_devices" -gt 0 ] || { cat "$work/ne.log" >&2; bench_die "node exporter serves no netdev metrics"; }
fi

start_agent steady --bpf all --interval 1s -s
startup_of[steady]=$startup_ms
steady_out=$work/steady.out
sleep 1.5 # past the first interval: steady from here

echo "## 4. steady state over ${steady_seconds}s (agent --bpf all --interval 1s; node exporter netdev only, scraped every 1s)"
t0=$(ns_now)
n0=$(lines_of "$steady_out")
a0=$(bench_pid_cpu_ns "$agent_pid")
[ -z "$ne_pid" ] || e0=$(bench_pid_cpu_ns "$ne_pid")
scrapes=0
for ((s = 0; s < steady_seconds; s++)); do
	if [ -n "$ne_pid" ]; then
		bench_in_ns "$ns" curl -sf -o /dev/null "http://127.0.0.1:$port/metrics" && scrapes=$((scrapes + 1))
	fi
	# Sleep to the next whole second of the window.
	left=$(((t0 + (s + 1) * 1000000000 - $(ns_now)) / 1000000))
	[ "$left" -le 0 ] || sleep "$(awk -v ms="$left" 'BEGIN { print ms / 1000 }')"
done
elapsed_ns=$(($(ns_now) - t0))
a1=$(bench_pid_cpu_ns "$agent_pid")
snapshots=$(($(lines_of "$steady_out") - n0))
steady_load=$(bench_load)
agent_pct=$(awk -v c=$((a1 - a0)) -v t="$elapsed_ns" 'BEGIN { printf "%.3f", 100 * c / t }')
agent_hwm=$(bench_pid_hwm_kib "$agent_pid")
agent_threads=$(bench_pid_threads "$agent_pid")
printf '%-22s %9s %9s %10s %9s %6s\n' process cpu_%core hwm_MiB snapshots threads load
printf '%-22s %9s %9s %10s %9s %6s\n' netmon-agent "$agent_pct" \
	"$(awk -v k="$agent_hwm" 'BEGIN { printf "%.2f", k / 1024 }')" "$snapshots" "$agent_threads" "$steady_load"
ne_pct=- ne_hwm=
if [ -n "$ne_pid" ]; then
	e1=$(bench_pid_cpu_ns "$ne_pid")
	ne_pct=$(awk -v c=$((e1 - e0)) -v t="$elapsed_ns" 'BEGIN { printf "%.3f", 100 * c / t }')
	ne_hwm=$(bench_pid_hwm_kib "$ne_pid")
	printf '%-22s %9s %9s %10s %9s %6s\n' node-exporter "$ne_pct" \
		"$(awk -v k="$ne_hwm" 'BEGIN { printf "%.2f", k / 1024 }')" "$scrapes" \
		"$(bench_pid_threads "$ne_pid")" "$steady_load"
	echo "# node exporter: $ne_devices devices per scrape; curl's own CPU is not counted"
	kill -TERM "$ne_pid"
	wait "$ne_pid" || true
fi
echo

echo "## 5. hotplug: veth pair created -> both ends in a snapshot (agent --bpf all --interval 1s)"
echo "# in_snapshot: \`ip link add\` returned (both ends exist, their RTM_NEWLINK queued to the"
echo "# agent) -> ts_ms (counters read) of the first snapshot holding both; missed: snapshots"
echo "# read after that without them; on_stdout: -> that line seen here"
printf '%-6s %15s %7s %13s %6s\n' trial in_snapshot_ms missed on_stdout_ms load
hot_all=() seen_all=()
for ((t = 1; t <= hotplug_trials; t++)); do
	sleep "0.$((RANDOM % 1000))" # a random phase of the interval
	name=h${tag}x$t
	offset=$(stat -c %s "$steady_out")
	ip -n "$ns" link add "${name}a" type veth peer name "${name}b"
	t0=$(ns_now)
	found=
	until [ -n "$found" ]; do
		[ "$(ms_since "$t0")" -lt 30000 ] || bench_die "'${name}a' never appeared"
		sleep 0.01
		# "ts_ms missed" of the first line written since that names both
		# ends (|| true: awk's early exit may SIGPIPE tail under pipefail).
		found=$(tail -c +$((offset + 1)) "$steady_out" | awk -v a="\"${name}a\"" \
			-v b="\"${name}b\"" -v t0=$((t0 / 1000000)) '
			match($0, /"ts_ms":[0-9]+/) {
				ts = substr($0, RSTART + 8, RLENGTH - 8) + 0
				if (index($0, a) && index($0, b)) { printf "%.0f %d\n", ts, missed; exit }
				if (ts >= t0) missed++
			}') || true
	done
	seen_all+=("$(ms_since "$t0")")
	read -r ts missed <<<"$found"
	hot_all+=("$((ts > t0 / 1000000 ? ts - t0 / 1000000 : 0))")
	printf '%-6s %15s %7s %13s %6s\n' "$t" "${hot_all[-1]}" "$missed" "${seen_all[-1]}" "$(bench_load)"
done
hot_max=$(printf '%s\n' "${hot_all[@]}" | sort -g | tail -1)
hot_median=$(printf '%s\n' "${hot_all[@]}" | bench_median)
seen_max=$(printf '%s\n' "${seen_all[@]}" | sort -g | tail -1)
hot_load=$(bench_load)
stop_agent
stop_of[steady]=$stop_ms
echo

echo "## 5. start-up: exec -> first snapshot line; SIGTERM -> exit (all detached)"
startup_row() { printf '%-44s %11s %9s %13s %6s\n' "$@"; }
per_hook() { awk -v ms="$1" -v n="$n_if" 'BEGIN { printf "%.2f", ms / (2 * n) }'; }
start_agent startup-tc --bpf all --attach tc -s
startup_of[startup-tc]=$startup_ms load_of_tc=$(bench_load)
stop_agent
stop_of[startup-tc]=$stop_ms
if [ "$busy" -ne 0 ]; then
	# Every CPU busy at nice 19 (it yields to any real work): a CPU that
	# never idles passes an RCU quiescent state only at its next tick, so
	# each synchronize_rcu() in an attach waits for ticks instead of
	# finishing at once. A router forwarding traffic looks like this.
	busy_pids=()
	for ((c = 0; c < $(nproc); c++)); do
		nice -n 19 bash -c 'while :; do :; done' &
		busy_pids+=($!)
		bench_kill_on_exit $! bash
	done
	for mode in auto tcx tc; do
		start_agent "busy-$mode" --bpf all --attach "$mode" -s
		startup_of[busy-$mode]=$startup_ms
		stop_agent
		stop_of[busy-$mode]=$stop_ms
	done
	kill "${busy_pids[@]}"
	wait "${busy_pids[@]}" 2>/dev/null || true
fi
startup_row run startup_ms stop_ms ms/hook_attach load
startup_row "--bpf all --interval ${cost_interval_ms}ms (auto)" "${startup_of[cost-bpf]}" \
	"${stop_of[cost-bpf]}" "$(per_hook "${startup_of[cost-bpf]}")" "${cost_load[bpf]}"
startup_row "--bpf all --interval 1s (auto)" "${startup_of[steady]}" "${stop_of[steady]}" \
	"$(per_hook "${startup_of[steady]}")" "$steady_load"
startup_row "--bpf all --attach tc" "${startup_of[startup-tc]}" "${stop_of[startup-tc]}" \
	"$(per_hook "${startup_of[startup-tc]}")" "$load_of_tc"
startup_row "--netdev all --interval ${cost_interval_ms}ms" "${startup_of[cost-netdev]}" \
	"${stop_of[cost-netdev]}" - "${cost_load[netdev]}"
if [ "$busy" -ne 0 ]; then
	for mode in auto tcx tc; do
		startup_row "--bpf all --attach $mode, CPUs busy (nice 19)" "${startup_of[busy-$mode]}" \
			"${stop_of[busy-$mode]}" "$(per_hook "${startup_of[busy-$mode]}")" "$(bench_load)"
	done
fi
echo

# ---- summary ----------------------------------------------------------------
row() { printf '%-44s %12s %12s %9s %-7s %5s\n' "$@"; }
echo "## summary ($n_if interfaces; medians)"
row figure value budget ratio verdict load
for source in bpf netdev; do
	a=${cost_agent[$source]} p=${cost_ip_proc[$source]} d=${cost_ip_dump[$source]}
	r=${cost_vs_dump[$source]}
	row "3. --$source snapshot / ip dump (cpu ms)" "$(fmt_ms "$a")/$(fmt_ms "$d")" "<= 0.5x" \
		"$r" "$(bench_verdict "$r" '<=' 0.5)" "${cost_load[$source]}"
	r=${cost_vs_proc[$source]}
	row "3. --$source snapshot / ip process (cpu ms)" "$(fmt_ms "$a")/$(fmt_ms "$p")" "<= 0.5x" \
		"$r" "$(bench_verdict "$r" '<=' 0.5)" "${cost_load[$source]}"
done
row "4. steady cpu, % of one core (vs node-exp)" "$agent_pct" "<= 0.5%" \
	"$(bench_ratio "$agent_pct" "$ne_pct")" "$(bench_verdict "$agent_pct" '<=' 0.5)" "$steady_load"
agent_mib=$(awk -v k="$agent_hwm" 'BEGIN { printf "%.2f", k / 1024 }')
row "4. steady peak RSS MiB (vs node-exp)" "$agent_mib" "<= 8 MiB" \
	"$(bench_ratio "$agent_hwm" "$ne_hwm")" "$(bench_verdict "$agent_mib" '<=' 8)" "$steady_load"
startup_s=$(awk -v ms="${startup_of[steady]}" 'BEGIN { printf "%.3f", ms / 1000 }')
row "5. start-up --bpf all, s" "$startup_s" "<= 1 s" "-" \
	"$(bench_verdict "$startup_s" '<=' 1)" "$steady_load"
if [ "$busy" -ne 0 ]; then
	busy_s=$(awk -v ms="${startup_of[busy-auto]}" 'BEGIN { printf "%.3f", ms / 1000 }')
	row "5. start-up --bpf all, CPUs busy, s" "$busy_s" "<= 1 s" "-" \
		"$(bench_verdict "$busy_s" '<=' 1)" "$(bench_load)"
fi
hot_s=$(awk -v ms="$hot_max" 'BEGIN { printf "%.3f", ms / 1000 }')
row "5. hotplug -> snapshot, worst of $hotplug_trials, s" "$hot_s" "<= 1 s" "-" \
	"$(bench_verdict "$hot_s" '<=' 1)" "$hot_load"
echo "# ratio of 4.: agent / node exporter (node exporter: ${ne_pct}% of a core," \
	"$(awk -v k="${ne_hwm:-0}" 'BEGIN { printf "%.2f", k / 1024 }') MiB peak RSS)"
echo "# hotplug: median ${hot_median} ms to a snapshot, worst ${seen_max} ms to stdout;" \
	"start-up with --attach tc: ${startup_of[startup-tc]} ms"
[ "$busy" -eq 0 ] || echo "# start-up with CPUs busy: --attach tcx ${startup_of[busy-tcx]} ms," \
	"tc ${startup_of[busy-tc]} ms"
