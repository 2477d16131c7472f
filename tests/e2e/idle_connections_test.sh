#!/usr/bin/env bash
# /metrics stays reachable while idle and slow clients hold connections
# (issue 13, defect 2.2: about 180 idle connections once made every scrape
# time out). In a network namespace of its own, the agent with --listen and:
#
# 1. 1,000 idle connections and 50 slowloris ones (a byte every 2 s, a head
#    that never ends), each reopened at once when the agent closes it: five
#    scrapes of /metrics, each must be answered completely within 1 s
#    (curl --max-time 1); the agent's fd count stays at most its connection
#    cap plus a few, and its peak RSS grows by less than 16 MiB.
# 2. 400 idle connections, held the same way, while a real Prometheus scrapes
#    once a second with a 1 s timeout (Prometheus' default is 10 s): every
#    scrape over 8 s succeeds.
#
# usage: idle_connections_test.sh AGENT     (root; exits 77 if not)
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
agent=${1:?usage: idle_connections_test.sh AGENT}

fail() { echo "FAIL: $*" >&2; exit 1; }
[ "$(id -u)" -eq 0 ] || { echo "SKIP: needs root (network namespaces)"; exit 77; }
[ -x "$agent" ] || fail "no agent at '$agent'"
for tool in curl python3 ip prometheus jq; do
	command -v "$tool" >/dev/null || fail "$tool is not installed: run ci/deps"
done

ns=nmidle$$
tmp=$(mktemp -d /tmp/netmon-idle.XXXXXX)
pids=()
# shellcheck disable=SC2317  # run by the EXIT trap
cleanup() {
	for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
	for pid in "${pids[@]}"; do wait "$pid" 2>/dev/null || true; done
	ip netns del "$ns" 2>/dev/null || true
	rm -rf "$tmp"
}
trap cleanup EXIT

ip netns add "$ns"
ip -n "$ns" link set lo up
port=9310
url=http://127.0.0.1:$port

ip netns exec "$ns" "$agent" --netdev all --interval 250ms --listen "127.0.0.1:$port" --quiet \
	2>"$tmp/agent.err" &
agent_pid=$!
pids+=("$agent_pid")
for _ in $(seq 100); do
	ip netns exec "$ns" curl -sf -o /dev/null "$url/snapshot" 2>/dev/null && break
	kill -0 "$agent_pid" 2>/dev/null || fail "agent died: $(cat "$tmp/agent.err")"
	sleep 0.1
done
hwm_kib() { awk '/^VmHWM:/ {print $2}' "/proc/$agent_pid/status"; }
fds() { find "/proc/$agent_pid/fd" -mindepth 1 | wc -l; }
hwm_before=$(hwm_kib)
fds_before=$(fds)

hold() {  # idle slow: starts the holder, waits until all are connected
	ip netns exec "$ns" python3 "$here/hold_connections.py" 127.0.0.1 "$port" \
		--idle "$1" --slow "$2" --drip-seconds 2 >"$tmp/hold.out" 2>"$tmp/hold.err" &
	holder_pid=$!
	pids+=("$holder_pid")
	for _ in $(seq 300); do
		grep -q '^ready' "$tmp/hold.out" && return 0
		kill -0 "$holder_pid" 2>/dev/null || fail "holder died: $(cat "$tmp/hold.err")"
		sleep 0.1
	done
	fail "holder did not connect $1 + $2 connections in 30 s"
}

# ---- 1: 1,000 idle + 50 slowloris, five scrapes -----------------------------
hold 1000 50
sleep 1
worst_ms=0
max_fds=0
for i in 1 2 3 4 5; do
	out=$(ip netns exec "$ns" curl -sS --max-time 1 -o "$tmp/metrics" -w '%{http_code} %{time_total}' \
		"$url/metrics" 2>&1) || fail "scrape $i not answered within 1 s: $out ($(tail -1 "$tmp/hold.out"))"
	[ "${out%% *}" = 200 ] || fail "scrape $i: status ${out%% *}"
	grep -q '^netmon_up 1' "$tmp/metrics" || fail "scrape $i: no netmon_up in the body"
	ms=$(awk '{printf "%d", $2 * 1000}' <<<"$out")
	[ "$ms" -le "$worst_ms" ] || worst_ms=$ms
	n=$(fds)
	[ "$n" -le "$max_fds" ] || max_fds=$n
	sleep 0.5
done
held=$(tail -1 "$tmp/hold.out")
hwm_after=$(hwm_kib)
kill "$holder_pid"
wait "$holder_pid" 2>/dev/null || true
[ "$max_fds" -le $((fds_before + 4096 + 16)) ] || fail "agent held $max_fds fds (cap 4096)"
[ "$max_fds" -ge $((fds_before + 500)) ] || fail "agent held only $max_fds fds: were the idle ones accepted?"
growth=$((hwm_after - hwm_before))
[ "$growth" -lt 16384 ] || fail "agent peak RSS grew by $growth KiB"
echo "idle: 1000 idle + 50 slowloris ($held): 5/5 scrapes, worst ${worst_ms} ms;" \
	"agent fds ${fds_before} -> max ${max_fds}, VmHWM ${hwm_before} -> ${hwm_after} KiB"

# ---- 2: Prometheus under 400 idle connections -------------------------------
hold 400 0
cat >"$tmp/prometheus.yml" <<EOF
global:
  scrape_interval: 1s
  scrape_timeout: 1s
scrape_configs:
  - job_name: netmon
    static_configs:
      - targets: ['127.0.0.1:$port']
EOF
ip netns exec "$ns" prometheus --config.file="$tmp/prometheus.yml" --storage.tsdb.path="$tmp/tsdb" \
	--web.listen-address=127.0.0.1:9090 --log.level=warn >"$tmp/prom.log" 2>&1 &
prom_pid=$!
pids+=("$prom_pid")
query() {
	ip netns exec "$ns" curl -sf --max-time 5 --data-urlencode "query=$1" \
		http://127.0.0.1:9090/api/v1/query | jq -r '.data.result[0].value[1] // empty'
}
for _ in $(seq 150); do
	[ "$(query 'up{job="netmon"}' 2>/dev/null)" = 1 ] && break
	kill -0 "$prom_pid" 2>/dev/null || fail "prometheus died: $(tail -5 "$tmp/prom.log")"
	sleep 0.1
done
sleep 9
scrapes=$(query 'count_over_time(up{job="netmon"}[8s])')
up_min=$(query 'min_over_time(up{job="netmon"}[8s])')
slowest=$(query 'max_over_time(scrape_duration_seconds{job="netmon"}[8s])')
held=$(tail -1 "$tmp/hold.out")
[ "${scrapes:-0}" -ge 6 ] || fail "prometheus scraped ${scrapes:-0} times in 8 s"
[ "$up_min" = 1 ] || fail "a scrape failed under 400 idle connections (min up $up_min, $held)"
slowest_ms=$(awk -v s="$slowest" 'BEGIN {printf "%.1f", s * 1000}')
echo "prometheus: 400 idle ($held): $scrapes/$scrapes scrapes up, slowest ${slowest_ms} ms"
kill -TERM "$agent_pid"
wait "$agent_pid" || fail "agent exited non-zero"
pids=("${pids[@]:1}")
echo PASS
