#!/usr/bin/env bash
# The Prometheus endpoint against a real Prometheus server (Debian's
# `prometheus` package). Everything runs inside a network namespace of its
# own, so the agent, Prometheus and their loopback ports touch nothing on the
# host, and the only other interface there is a veth whose traffic we make:
#
#   netns A (agent, prometheus, curl)       netns B
#     lo  127.0.0.1                           |
#     vA  198.18.0.1/30  ──── veth ────  vB  198.18.0.2/30
#
# IPv6 off on the veth and static neighbour entries, so nothing but our ping
# moves its counters. After the traffic stops, Prometheus's query API must
# return exactly the agent's own /snapshot for that moment (and the kernel's
# counters, and the ping's packet count). Also: promtool check metrics,
# 404/405, port in use and bad address as one-line errors, clean SIGTERM.
#
# usage: prometheus_test.sh [PATH/TO/netmon-agent]     (root; exits 77 if not)
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
agent=${1:-${NETMON_AGENT:-$here/../../build/agent/netmon-agent}}
source_flag=${NETMON_PROM_SOURCE:---netdev}
pings=20
payload=56  # ping's default: 14 (Ethernet) + 20 (IPv4) + 8 (ICMP) + 56 = 98-byte frames
frame=$((14 + 20 + 8 + payload))

fail() { echo "FAIL: $*" >&2; exit 1; }
[ "$(id -u)" -eq 0 ] || { echo "SKIP: needs root (network namespaces)"; exit 77; }
[ -x "$agent" ] || fail "no agent at '$agent' (pass its path as the first argument)"
for tool in prometheus promtool curl jq ip ping; do
	command -v "$tool" >/dev/null || fail "$tool is not installed: run ci/deps"
done

ns_a=nmprom$$a
ns_b=nmprom$$b
tmp=$(mktemp -d /tmp/netmon-prom.XXXXXX)
agent_pid=""
prom_pid=""
cleanup() {
	for pid in $agent_pid $prom_pid; do kill "$pid" 2>/dev/null || true; done
	for pid in $agent_pid $prom_pid; do wait "$pid" 2>/dev/null || true; done
	ip netns del "$ns_a" 2>/dev/null || true
	ip netns del "$ns_b" 2>/dev/null || true
	rm -rf "$tmp"
}
trap cleanup EXIT

in_a() { ip netns exec "$ns_a" "$@"; }
in_b() { ip netns exec "$ns_b" "$@"; }
get() { in_a curl -sS --max-time 5 "$@"; }

# ---- the namespaces and the quiet veth -------------------------------------
ip netns add "$ns_a"
ip netns add "$ns_b"
for ns in "$ns_a" "$ns_b"; do
	# Before the veth exists, so it never sends a router solicitation or MLD.
	ip netns exec "$ns" sysctl -qw net.ipv6.conf.default.disable_ipv6=1
	ip -n "$ns" link set lo up
done
ip -n "$ns_a" link add vA type veth peer name vB netns "$ns_b"
ip -n "$ns_a" addr add 198.18.0.1/30 dev vA
ip -n "$ns_b" addr add 198.18.0.2/30 dev vB
mac_a=$(ip -n "$ns_a" -j link show vA | jq -r '.[0].address')
mac_b=$(ip -n "$ns_b" -j link show vB | jq -r '.[0].address')
ip -n "$ns_a" neigh replace 198.18.0.2 lladdr "$mac_b" dev vA nud permanent
ip -n "$ns_b" neigh replace 198.18.0.1 lladdr "$mac_a" dev vB nud permanent
ip -n "$ns_a" link set vA up
ip -n "$ns_b" link set vB up

# Ports on A's own loopback: nothing else listens there.
agent_port=9310
prom_port=9090

# ---- errors before any output: bad address, port in use --------------------
one_line_error() {  # $1: what; rest: agent arguments
	local what=$1
	shift
	local rc=0
	in_a timeout 10 "$agent" --netdev all --count 1 "$@" >"$tmp/err.out" 2>"$tmp/err.err" || rc=$?
	[ "$rc" -ne 0 ] || fail "$what: agent exited 0"
	[ ! -s "$tmp/err.out" ] || fail "$what: agent wrote to stdout: $(head -c 300 "$tmp/err.out")"
	[ "$(wc -l <"$tmp/err.err")" -eq 1 ] || fail "$what: stderr is not one line: $(cat "$tmp/err.err")"
	echo "  $what: exit $rc, '$(cat "$tmp/err.err")'"
}
echo "errors:"
one_line_error "bad address" --listen 300.1.1.1:9310
one_line_error "bad port" --listen 127.0.0.1:http
one_line_error "unassigned address" --listen 192.0.2.1:9310

# ---- the agent ---------------------------------------------------------------
ip netns exec "$ns_a" "$agent" "$source_flag" all --interval 250ms --listen "127.0.0.1:$agent_port" --quiet \
	2>"$tmp/agent.err" &
agent_pid=$!
for _ in $(seq 100); do
	get -fo /dev/null "http://127.0.0.1:$agent_port/snapshot" 2>/dev/null && break
	kill -0 "$agent_pid" 2>/dev/null || fail "agent died: $(cat "$tmp/agent.err")"
	sleep 0.05
done
get -fo /dev/null "http://127.0.0.1:$agent_port/snapshot" || fail "agent does not serve /snapshot"

one_line_error "port in use" --listen ":$agent_port"

# IPv6 loopback works too (lo keeps ::1: only the veth had IPv6 disabled).
in_a timeout 10 "$agent" --netdev all --count 3 --interval 100ms --listen "[::1]:$((agent_port + 1))" \
	>/dev/null 2>"$tmp/v6.err" || fail "--listen [::1]:PORT failed: $(cat "$tmp/v6.err")"
grep -q "http://\[::1\]:$((agent_port + 1))/metrics" "$tmp/v6.err" ||
	fail "--listen [::1]:PORT did not say where it serves: $(cat "$tmp/v6.err")"

# ---- the HTTP surface ---------------------------------------------------------
code() { get -o /dev/null -w '%{http_code}' "$@"; }
[ "$(code "http://127.0.0.1:$agent_port/other")" = 404 ] || fail "GET /other is not 404"
[ "$(code "http://127.0.0.1:$agent_port/")" = 200 ] || fail "GET / (the live page) is not 200"
[ "$(code "http://127.0.0.1:$agent_port/metricsx")" = 404 ] || fail "GET /metricsx is not 404"
[ "$(code "http://127.0.0.1:$agent_port/metrics/")" = 404 ] || fail "GET /metrics/ is not 404"
[ "$(code -X POST "http://127.0.0.1:$agent_port/metrics")" = 405 ] || fail "POST /metrics is not 405"
[ "$(code -X DELETE "http://127.0.0.1:$agent_port/snapshot")" = 405 ] || fail "DELETE /snapshot is not 405"
get -D "$tmp/headers" -o "$tmp/metrics" "http://127.0.0.1:$agent_port/metrics"
grep -qi '^content-type: text/plain; version=0.0.4' "$tmp/headers" || fail "wrong Content-Type: $(cat "$tmp/headers")"
promtool check metrics <"$tmp/metrics" >"$tmp/promtool.out" 2>&1 ||
	fail "promtool check metrics: $(cat "$tmp/promtool.out")"
echo "http: 404/405 right, promtool check metrics passes"

# ---- Prometheus ---------------------------------------------------------------
cat >"$tmp/prometheus.yml" <<EOF
global:
  scrape_interval: 1s
  scrape_timeout: 1s
  evaluation_interval: 1s
scrape_configs:
  - job_name: netmon
    static_configs:
      - targets: ['127.0.0.1:$agent_port']
EOF
ip netns exec "$ns_a" prometheus --config.file="$tmp/prometheus.yml" --storage.tsdb.path="$tmp/tsdb" \
	--web.listen-address="127.0.0.1:$prom_port" --log.level=warn >"$tmp/prom.log" 2>&1 &
prom_pid=$!

query() {  # PromQL -> the API's JSON result array
	get -f --data-urlencode "query=$1" "http://127.0.0.1:$prom_port/api/v1/query" | jq -c '.data.result'
}
# Ready and has scraped the agent successfully at least once.
for _ in $(seq 200); do
	[ "$(query 'up{job="netmon"}' 2>/dev/null | jq -r '.[0].value[1] // empty' 2>/dev/null)" = 1 ] && break
	kill -0 "$prom_pid" 2>/dev/null || fail "prometheus died: $(tail -5 "$tmp/prom.log")"
	sleep 0.1
done
[ "$(query 'up{job="netmon"}' | jq -r '.[0].value[1]')" = 1 ] || fail "prometheus cannot scrape the agent"

# ---- traffic, then quiet -----------------------------------------------------
snapshot() { get -f "http://127.0.0.1:$agent_port/snapshot"; }
counter() { jq -r --arg c "$1" '.interfaces.vA[$c]' <<<"$2"; }
grown() { echo $(($(counter "$1" "$after") - $(counter "$1" "$before"))); }
before=$(snapshot)
in_a ping -q -c "$pings" -i 0.02 -W 1 -s "$payload" 198.18.0.2 >"$tmp/ping.out" ||
	fail "ping failed: $(cat "$tmp/ping.out")"
# Until a snapshot holds every reply (or 5 s pass): the counts are then
# compared exactly below.
for _ in $(seq 100); do
	after=$(snapshot)
	[ "$(grown rx_packets)" -ge "$pings" ] && [ "$(grown tx_packets)" -ge "$pings" ] && break
	sleep 0.05
done
seq_after=$(jq '.seq' <<<"$after")
for c in rx_packets tx_packets; do
	delta=$(($(counter "$c" "$after") - $(counter "$c" "$before")))
	[ "$delta" -eq "$pings" ] || fail "vA $c grew by $delta, sent $pings pings"
done
for c in rx_bytes tx_bytes; do
	delta=$(($(counter "$c" "$after") - $(counter "$c" "$before")))
	[ "$delta" -eq $((pings * frame)) ] || fail "vA $c grew by $delta, expected $((pings * frame))"
done
for c in rx_bytes rx_packets tx_bytes tx_packets; do
	kernel=$(in_a cat "/sys/class/net/vA/statistics/$c")
	[ "$kernel" -eq "$(counter "$c" "$after")" ] || fail "vA $c: agent $(counter "$c" "$after"), kernel $kernel"
done

# Wait until Prometheus holds a scrape taken after that snapshot, then its
# counters must be exactly the snapshot's (vA is quiet, so they hold still).
for _ in $(seq 50); do
	scraped=$(query 'netmon_snapshots_total{job="netmon"}' | jq -r '.[0].value[1] // 0')
	[ "$scraped" -gt "$seq_after" ] && break
	sleep 0.1
done
[ "$scraped" -gt "$seq_after" ] || fail "prometheus has no scrape after snapshot $seq_after"
source_name=$(jq -r '.source' <<<"$after")
for c in rx_bytes rx_packets tx_bytes tx_packets; do
	result=$(query "netmon_${c}_total{interface=\"vA\",source=\"$source_name\"}")
	[ "$(jq length <<<"$result")" -eq 1 ] || fail "prometheus has no single series for $c: $result"
	value=$(jq -r '.[0].value[1]' <<<"$result")
	[ "$value" = "$(counter "$c" "$after")" ] ||
		fail "prometheus says $c=$value, agent snapshot $seq_after says $(counter "$c" "$after")"
done
[ "$(query 'netmon_build_info' | jq -r '.[0].metric.version')" != null ] || fail "no netmon_build_info"
echo "prometheus: vA counters equal /snapshot seq $seq_after:" \
	"$(jq -c '.interfaces.vA | {rx_bytes,rx_packets,tx_bytes,tx_packets}' <<<"$after")"
scrape_ms=$(query 'max_over_time(scrape_duration_seconds{job="netmon"}[1m])' |
	jq -r '.[0].value[1] | tonumber * 1000 | . * 100 | round / 100')
curl_ms=$(get -o /dev/null -w '%{time_total}' "http://127.0.0.1:$agent_port/metrics" |
	awk '{printf "%.2f", $1 * 1000}')
echo "scrape latency: prometheus scrape_duration max ${scrape_ms} ms, curl /metrics ${curl_ms} ms"

# ---- clean shutdown with Prometheus's keep-alive connection open --------------
t0=$(date +%s%N)
kill -TERM "$agent_pid"
rc=0
wait "$agent_pid" || rc=$?
agent_pid=""
stop_ms=$((($(date +%s%N) - t0) / 1000000))
[ "$rc" -eq 0 ] || fail "agent exited $rc on SIGTERM: $(cat "$tmp/agent.err")"
[ "$stop_ms" -lt 2000 ] || fail "agent took $stop_ms ms to stop"
echo "PASS: agent stopped in $stop_ms ms after SIGTERM"
