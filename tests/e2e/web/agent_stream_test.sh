#!/usr/bin/env bash
# The live page and the streams served by the real agent (issue 15):
#
#   netns A (agent, curl, node ws, chromium)   netns B
#     lo  127.0.0.1                              |
#     vA  198.18.0.1/30  ──── veth ────     vB  198.18.0.2/30
#     vnew (added, then deleted)  ── veth ── vnewp
#
# 1. `curl -N /events`, node `ws` and wscat on /ws receive exactly the lines
#    the agent's stdout carries, byte for byte, in order, while ping moves
#    vA's counters; the WebSocket ends with close 1001 when the agent stops.
# 2. Chromium loads / and shows the numbers of the NDJSON line of the same
#    seq; vnew shows up when created and goes when deleted (screenshots in
#    --out).
# 3. Origin and Host checks: another site's Origin gets 403 on /ws, a
#    rebinding Host gets 403 on /, HTTP/1.0 cannot upgrade; --allow-origin
#    lets an origin in (101, and CORS on /events).
# 4. With 300 interfaces at 100 ms, 64 streams (the cap) that never read:
#    the 65th gets 503, /metrics still answers within 1 s, the agent's RSS
#    stays within a bound and the dropped snapshots are counted; after the
#    stall deadline (30 s without progress) the agent closes every one of
#    them and netmon_stream_clients is back to 0.
#
# usage: agent_stream_test.sh AGENT [OUT_DIR]   (root; exits 77 if not, or
# without node_modules/chromium)
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
agent=${1:?usage: agent_stream_test.sh AGENT [OUT_DIR]}
out=${2:-$PWD/agent-stream-screenshots}
node_modules=${NETMON_NODE_MODULES:-$here/../node_modules}

fail() { echo "FAIL: $*" >&2; exit 1; }
skip() { echo "SKIP: $*"; exit 77; }
[ "$(id -u)" -eq 0 ] || skip "needs root (network namespaces)"
[ -x "$agent" ] || fail "no agent at '$agent'"
[ -d "$node_modules/ws" ] || skip "no node ws in '$node_modules': run ci/npm-deps"
for tool in node curl jq ip ping python3; do
	command -v "$tool" >/dev/null || fail "$tool is not installed: run ci/deps"
done
mkdir -p "$out"

ns_a=nmweb$$a
ns_b=nmweb$$b
tmp=$(mktemp -d /tmp/netmon-web.XXXXXX)
pids=()
# shellcheck disable=SC2317  # run by the EXIT trap
cleanup() {
	for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
	for pid in "${pids[@]}"; do wait "$pid" 2>/dev/null || true; done
	ip netns del "$ns_a" 2>/dev/null || true
	ip netns del "$ns_b" 2>/dev/null || true
	rm -rf "$tmp"
}
trap cleanup EXIT

# Not for background jobs: `in_a x &` forks a shell, whose pid is not x's.
in_a() { ip netns exec "$ns_a" "$@"; }
status_of() {  # curl arguments; prints the HTTP status
	in_a curl -sS --max-time 5 -o /dev/null -w '%{http_code}' "$@" 2>/dev/null || true
}
wait_for_snapshot() {  # $1: port
	for _ in $(seq 100); do
		[ "$(status_of "http://127.0.0.1:$1/snapshot")" = 200 ] && return 0
		sleep 0.1
	done
	fail "agent on port $1 never served /snapshot: $(cat "$tmp"/agent*.err)"
}
current_seq() { in_a curl -sS --max-time 5 "http://127.0.0.1:$1/snapshot" | jq .seq; }

ip netns add "$ns_a"
ip netns add "$ns_b"
for ns in "$ns_a" "$ns_b"; do
	ip netns exec "$ns" sysctl -qw net.ipv6.conf.default.disable_ipv6=1
	ip -n "$ns" link set lo up
done
ip -n "$ns_a" link add vA type veth peer name vB netns "$ns_b"
ip -n "$ns_a" addr add 198.18.0.1/30 dev vA
ip -n "$ns_b" addr add 198.18.0.2/30 dev vB
ip -n "$ns_a" link set vA up
ip -n "$ns_b" link set vB up

# ---- 1 and 2: streams and the page -----------------------------------------
port=9310
# With the ledger and a quota on vA: the page's usage and quota bar are
# compared with the NDJSON's "usage" too (page_probe.js).
ip netns exec "$ns_a" "$agent" --netdev --interval 250ms --listen "127.0.0.1:$port" vA 'vnew*' \
	--ledger "$tmp/netmon.db" --quota vA=1GiB/day \
	>"$tmp/stdout.ndjson" 2>"$tmp/agent.err" &
agent_pid=$!
pids+=("$agent_pid")
wait_for_snapshot "$port"

ip netns exec "$ns_a" curl -sS -N "http://127.0.0.1:$port/events" >"$tmp/events.txt" 2>"$tmp/curl.err" &
pids+=($!)
ip netns exec "$ns_a" env NODE_PATH="$node_modules" node "$here/ws_record.js" "ws://127.0.0.1:$port/ws" \
	>"$tmp/ws.txt" 2>"$tmp/ws.err" &
pids+=($!)
# wscat prints each message as one line when stdout is not a terminal. It
# reads stdin to send: a FIFO this script holds open keeps it quiet and
# running (no orphan writer) until the agent closes.
mkfifo "$tmp/wscat.in"
exec 7<>"$tmp/wscat.in"
ip netns exec "$ns_a" "$node_modules/.bin/wscat" -c "ws://127.0.0.1:$port/ws" <&7 \
	>"$tmp/wscat.txt" 2>"$tmp/wscat.err" &
pids+=($!)
in_a ping -q -c 20 -i 0.05 198.18.0.2 >/dev/null || fail "ping over the veth failed"

page_rc=0
if [ -d "$node_modules/puppeteer-core" ] && command -v chromium >/dev/null; then
	# Traffic while the page runs, so the screenshots show rates and charts.
	ip netns exec "$ns_a" ping -q -c 3000 -i 0.02 -s 1000 198.18.0.2 >/dev/null 2>&1 &
	ping_pid=$!
	pids+=("$ping_pid")
	probe() {  # $1: screenshot name; rest: page_probe arguments
		local shot=$1
		shift
		in_a env NODE_PATH="$node_modules" node "$here/page_probe.js" \
			--url "http://127.0.0.1:$port/" --seq "$(($(current_seq "$port") + 3))" \
			--expect "$tmp/stdout.ndjson" --screenshot "$out/$shot" "$@" >"$tmp/probe.out" 2>&1 ||
			{ cat "$tmp/probe.out" >&2; return 1; }
	}
	probe page-1.png --iface vA || fail "page at / does not show the NDJSON (1)"
	ip -n "$ns_a" link add vnew type veth peer name vnewp netns "$ns_b"
	ip -n "$ns_a" link set vnew up
	probe page-2.png --iface vA --iface vnew || fail "page does not show vnew appearing"
	ip -n "$ns_a" link del vnew
	probe page-3.png --iface vA --no-iface vnew || fail "page still shows vnew after deletion"
	echo "page: 3 probes matched the NDJSON; screenshots in $out"
	kill "$ping_pid"
else
	page_rc=77
	echo "page test skipped: no chromium or puppeteer-core"
fi

# ---- 3: Origin, Host, HTTP version -----------------------------------------
upgrade=(-H 'Connection: Upgrade' -H 'Upgrade: websocket' -H 'Sec-WebSocket-Version: 13'
	-H 'Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==')
[ "$(status_of "${upgrade[@]}" -H 'Origin: http://evil.example' "http://127.0.0.1:$port/ws")" = 403 ] ||
	fail "/ws with a foreign Origin was not refused with 403"
[ "$(status_of -H 'Host: evil.example:9310' "http://127.0.0.1:$port/")" = 403 ] ||
	fail "/ with a rebinding Host was not refused with 403"
[ "$(status_of -H 'Host: evil.example:9310' "http://127.0.0.1:$port/metrics")" = 200 ] ||
	fail "/metrics must not check Host (scrapes by name)"
[ "$(status_of --http1.0 "${upgrade[@]}" "http://127.0.0.1:$port/ws")" = 400 ] ||
	fail "an HTTP/1.0 upgrade was not refused"
in_a curl -sS --max-time 5 -D "$tmp/page.head" -o "$tmp/page.gz" "http://127.0.0.1:$port/"
grep -qi '^Content-Encoding: gzip' "$tmp/page.head" || fail "/ is not served gzipped"
gzip -dc "$tmp/page.gz" | grep -q '<html' || fail "/ is not the page"

# Enough lines for the comparison below, however long the page test took
# (or whether it ran): both clients see 10 snapshots before the agent stops.
deadline=$((SECONDS + 20))
until [ "$(grep -c '^data: ' "$tmp/events.txt")" -ge 10 ] && [ "$(wc -l <"$tmp/ws.txt")" -ge 10 ] &&
	[ "$(wc -l <"$tmp/wscat.txt")" -ge 10 ]; do
	[ "$SECONDS" -lt "$deadline" ] || fail "the stream clients did not get 10 snapshots in 20 s"
	sleep 0.1
done

kill -TERM "$agent_pid"
agent_rc=0
wait "$agent_pid" || agent_rc=$?
[ "$agent_rc" -eq 0 ] || fail "agent exited $agent_rc on SIGTERM: $(cat "$tmp/agent.err")"
for pid in "${pids[@]:1}"; do wait "$pid" 2>/dev/null || true; done
pids=()
grep -qx 'close 1001' "$tmp/ws.err" || fail "ws client did not get close 1001: $(cat "$tmp/ws.err")"

# Every client got a run of stdout's lines, byte for byte, in order: from
# the newest line when it connected to (at most one before) the last.
python3 - "$tmp/stdout.ndjson" "$tmp/events.txt" "$tmp/ws.txt" "$tmp/wscat.txt" <<'EOF'
import sys
stdout = open(sys.argv[1], 'rb').read().split(b'\n')[:-1]
events = [l[len(b'data: '):] for l in open(sys.argv[2], 'rb').read().split(b'\n')
          if l.startswith(b'data: ')]
ws = open(sys.argv[3], 'rb').read().split(b'\n')[:-1]
wscat = open(sys.argv[4], 'rb').read().split(b'\n')[:-1]
for name, got in (('/events', events), ('/ws', ws), ('/ws (wscat)', wscat)):
    if len(got) < 10:
        sys.exit(f'FAIL: {name} got only {len(got)} lines')
    try:
        start = stdout.index(got[0])
    except ValueError:
        sys.exit(f'FAIL: {name} first line is not one of stdout\'s')
    if stdout[start:start + len(got)] != got:
        i = next(i for i, line in enumerate(got) if stdout[start + i] != line)
        seqs = [l[:20] for l in (stdout[start + i], got[i])]
        sys.exit(f'FAIL: {name} line {i} differs from stdout line {start + i}: {seqs}; '
                 f'later in stdout: {got[i] in stdout}')
    if start + len(got) < len(stdout) - 1:
        sys.exit(f'FAIL: {name} ended {len(stdout) - start - len(got)} lines before stdout')
    print(f'{name}: {len(got)} lines equal stdout lines {start}..{start + len(got) - 1} '
          f'of {len(stdout)}')
EOF

# ---- 3b: --allow-origin -----------------------------------------------------
port=9311
ip netns exec "$ns_a" "$agent" --netdev --interval 250ms --listen "127.0.0.1:$port" -q \
	--allow-origin http://dash.example:8080 vA 2>"$tmp/agent2.err" &
agent_pid=$!
pids+=("$agent_pid")
wait_for_snapshot "$port"
in_a curl -sS --max-time 1 -D "$tmp/ws.head" -o /dev/null "${upgrade[@]}" \
	-H 'Origin: http://dash.example:8080' "http://127.0.0.1:$port/ws" 2>/dev/null || true
head -1 "$tmp/ws.head" | grep -q ' 101 ' || fail "--allow-origin'd Origin did not get 101"
in_a curl -sS --max-time 1 -D "$tmp/ev.head" -o /dev/null \
	-H 'Origin: http://dash.example:8080' "http://127.0.0.1:$port/events" 2>/dev/null || true
grep -qi '^Access-Control-Allow-Origin: http://dash.example:8080' "$tmp/ev.head" ||
	fail "/events sent no CORS header to an allowed origin"
[ "$(status_of "${upgrade[@]}" -H 'Origin: http://other.example' "http://127.0.0.1:$port/ws")" = 403 ] ||
	fail "an origin not listed was let in"
kill -TERM "$agent_pid"
wait "$agent_pid" || fail "agent with --allow-origin exited non-zero"
pids=()
echo "origin: foreign 403, listed 101 + CORS, rebinding Host 403, HTTP/1.0 upgrade 400"

# ---- 4: stalled readers -----------------------------------------------------
# veth pairs, not dummies: the host may lack the dummy module.
for i in $(seq 150); do echo "link add d$i type veth peer name e$i"; done | ip -n "$ns_a" -batch -
port=9312
ip netns exec "$ns_a" "$agent" --netdev --interval 100ms --listen "127.0.0.1:$port" -q all 2>"$tmp/agent3.err" &
agent_pid=$!
pids+=("$agent_pid")
wait_for_snapshot "$port"
line_bytes=$(in_a curl -sS "http://127.0.0.1:$port/snapshot" | wc -c)
rss_kib() { awk '/^VmRSS/ {print $2}' "/proc/$agent_pid/status"; }

# 64 streams (32 /events, 32 /ws: the cap) that send their request and never
# read, with a small receive buffer; the 65th must get 503. Then, past the
# stall deadline, every one of them must have been closed by the agent.
ip netns exec "$ns_a" python3 - "$port" >"$tmp/stall.out" 2>&1 <<'EOF' &
import socket, sys, time
port = int(sys.argv[1])
def open_stream(i):
    s = socket.socket()
    s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    s.connect(('127.0.0.1', port))
    if i % 2:
        s.sendall(b'GET /events HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n')
    else:
        s.sendall(b'GET /ws HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: Upgrade\r\n'
                  b'Upgrade: websocket\r\nSec-WebSocket-Version: 13\r\n'
                  b'Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n')
    return s
held = [open_stream(i) for i in range(64)]
time.sleep(0.5)
extra = open_stream(1)
extra.settimeout(3)
print(extra.recv(100).split(b'\r\n')[0].decode(), flush=True)
extra.close()
# The agent's stall deadline is 30 s without progress; the buffers fill
# within a second of connecting. Reading would be progress, so the socket's
# TCP state tells instead: no longer ESTABLISHED once the agent reset it
# (CLOSE) or ended it (CLOSE_WAIT).
def closed_by_agent(s):
    return s.getsockopt(socket.IPPROTO_TCP, socket.TCP_INFO, 1)[0] != 1
deadline = time.monotonic() + 40
while True:
    time.sleep(1)
    closed = sum(closed_by_agent(s) for s in held)
    if closed == len(held) or time.monotonic() > deadline:
        break
print(f'closed {closed}/64', flush=True)
EOF
stall_pid=$!
pids+=("$stall_pid")
sleep 2
rss_start=$(rss_kib)
worst_ms=0
for _ in $(seq 20); do
	ms=$(in_a curl -sS --max-time 5 -o /dev/null -w '%{time_total}' "http://127.0.0.1:$port/metrics" |
		awk '{printf "%d", $1 * 1000}')
	[ "$ms" -gt "$worst_ms" ] && worst_ms=$ms
	sleep 0.4
done
rss_end=$(rss_kib)
metrics=$(in_a curl -sS "http://127.0.0.1:$port/metrics")
clients=$(awk '/^netmon_stream_clients / {print $2}' <<<"$metrics")
dropped=$(awk '/^netmon_stream_dropped_snapshots_total / {print $2}' <<<"$metrics")
grep -q 'HTTP/1.1 503' "$tmp/stall.out" || fail "65th stream not refused with 503: $(cat "$tmp/stall.out")"
[ "$worst_ms" -lt 1000 ] || fail "/metrics took $worst_ms ms with 64 stalled streams"
[ "$clients" = 64 ] || fail "netmon_stream_clients is '$clients', expected 64"
[ "${dropped:-0}" -gt 0 ] || fail "no dropped snapshots counted for stalled readers"
growth=$((rss_end - rss_start))
# Unbounded queues would hold ~80 snapshots x $line_bytes x 64 clients here.
[ "$growth" -lt 4096 ] || fail "agent RSS grew by $growth KiB with 64 stalled streams"
echo "stall: 64 stalled streams, 65th 503, /metrics worst ${worst_ms} ms, RSS ${rss_start} -> ${rss_end} KiB" \
	"(lines of $line_bytes bytes), $dropped snapshots dropped"
wait "$stall_pid" || true
grep -qx 'closed 64/64' "$tmp/stall.out" ||
	fail "stalled streams not closed after the stall deadline: $(tail -1 "$tmp/stall.out")"
clients=$(in_a curl -sS "http://127.0.0.1:$port/metrics" | awk '/^netmon_stream_clients / {print $2}')
[ "$clients" = 0 ] || fail "netmon_stream_clients is '$clients' after the stall deadline, expected 0"
drops=$(grep -c 'dropping a stream client that read nothing' "$tmp/agent3.err" || true)
[ "$drops" = 64 ] || fail "agent logged $drops stall drops, expected 64"
echo "stall deadline: 64/64 stalled streams closed by the agent, netmon_stream_clients 0"
kill -TERM "$agent_pid"
wait "$agent_pid" || fail "agent exited non-zero after the stall test"
exit "$page_rc"
