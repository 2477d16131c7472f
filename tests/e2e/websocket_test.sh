#!/usr/bin/env bash
# The README's headline flow with a real WebSocket client:
#   netmon-agent --netdev all --interval 250ms | wscat -c ws://127.0.0.1:PORT
# (websocat is not in Debian; wscat also sends every stdin line as one
# message). A node `ws` server records what arrives and hangs up after
# COUNT messages. Checks: every message is exactly one complete snapshot,
# seq is consecutive, messages arrive about one interval apart (no stdout
# buffering), and once the client is gone the agent exits 0.
#
# usage: websocket_test.sh [PATH/TO/netmon-agent]
# Needs node and tests/e2e/node_modules (ci/npm-deps), or NETMON_NODE_MODULES.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
agent=${1:-${NETMON_AGENT:-$here/../../build/agent/netmon-agent}}
node_modules=${NETMON_NODE_MODULES:-$here/node_modules}
interval_ms=250
count=16

fail() { echo "FAIL: $*" >&2; exit 1; }
[ -x "$agent" ] || fail "no agent at '$agent' (pass its path as the first argument)"
command -v node >/dev/null || fail "node is not installed: run ci/npm-deps"
command -v jq >/dev/null || fail "jq is not installed: run ci/deps"
if [ ! -x "$node_modules/.bin/wscat" ] || [ ! -d "$node_modules/ws" ]; then
	fail "ws/wscat are not installed in '$node_modules': run ci/npm-deps"
fi

tmp=$(mktemp -d /tmp/netmon-ws.XXXXXX)
server_pid=""
pipeline_pid=""
cleanup() {
	[ -z "$pipeline_pid" ] || kill "$pipeline_pid" 2>/dev/null || true
	[ -z "$server_pid" ] || kill "$server_pid" 2>/dev/null || true
	wait 2>/dev/null || true
	rm -rf "$tmp"
}
trap cleanup EXIT

# The server picks a free port and says which.
NODE_PATH=$node_modules node "$here/ws_server.js" --out "$tmp/messages" --count "$count" \
	--timeout-ms 30000 >"$tmp/server.out" 2>"$tmp/server.err" &
server_pid=$!
for _ in $(seq 100); do
	grep -q '^port ' "$tmp/server.out" 2>/dev/null && break
	kill -0 "$server_pid" 2>/dev/null || fail "ws server died: $(cat "$tmp/server.err")"
	sleep 0.05
done
port=$(sed -n 's/^port //p' "$tmp/server.out")
[ -n "$port" ] || fail "ws server did not start"

start_ns=$(date +%s%N)
(
	set +e
	"$agent" --netdev all --interval "${interval_ms}ms" 2>"$tmp/agent.err" |
		"$node_modules/.bin/wscat" -c "ws://127.0.0.1:$port" >"$tmp/wscat.out" 2>&1
	echo "${PIPESTATUS[0]} ${PIPESTATUS[1]}" >"$tmp/status"
) &
pipeline_pid=$!

# Bounded: COUNT x interval plus node start-up, with a generous margin.
for _ in $(seq 300); do
	[ -s "$tmp/status" ] && break
	sleep 0.05
done
[ -s "$tmp/status" ] || fail "agent | wscat still running 15 s after start; agent log: $(cat "$tmp/agent.err")"
end_ns=$(date +%s%N)
read -r agent_rc wscat_rc <"$tmp/status"
wait "$server_pid" || fail "ws server failed: $(cat "$tmp/server.err")"
server_pid=""

received=$(wc -l <"$tmp/messages")
[ "$received" -eq "$count" ] || fail "server got $received messages, wanted $count"

# Every message: one JSON object with the whole contract, no newline inside.
jq -e -s '
	all(.[]; (.binary == false) and (.data | test("\n") | not) and
		(.data | fromjson |
			(type == "object") and
			(keys_unsorted == ["source","seq","ts_ms","interval_ms","interfaces"]) and
			(.source == "netdev") and
			(.interfaces | type == "object" and length > 0) and
			(.interfaces | to_entries | all(.value | keys_unsorted ==
				["ifindex","rx_bytes","rx_packets","tx_bytes","tx_packets",
				 "rx_bps","tx_bps","rx_pps","tx_pps"]))))
' "$tmp/messages" >/dev/null || fail "a message is not exactly one complete snapshot: $(head -c 600 "$tmp/messages")"

# seq consecutive from the first message received (wscat drops the lines
# the agent wrote before the connection opened).
jq -e -s '[.[].data | fromjson | .seq] as $s |
	all(range(1; $s | length); $s[.] == $s[. - 1] + 1)' "$tmp/messages" >/dev/null ||
	fail "seq not consecutive: $(jq -s -c '[.[].data | fromjson | .seq]' "$tmp/messages")"

# Arrival spacing: one interval apart, not in bursts. Each gap within
# [0.4, 1.6] x interval, the median within 20 %.
gaps=$(jq -s -c '[range(1; length) as $i | (.[$i].t_ms - .[$i - 1].t_ms) | . * 10 | round / 10]' \
	"$tmp/messages")
jq -e --argjson iv "$interval_ms" '
	(sort | .[length / 2 | floor]) as $median |
	all(.[]; . >= 0.4 * $iv and . <= 1.6 * $iv) and
	($median >= 0.8 * $iv and $median <= 1.2 * $iv)' <<<"$gaps" >/dev/null ||
	fail "messages not one interval (${interval_ms} ms) apart: gaps $gaps ms"

# The client went away (the server hung up, wscat exited): the agent must
# notice on its next write or sooner and exit 0.
[ "$agent_rc" -eq 0 ] || fail "agent exited $agent_rc after the client went away: $(cat "$tmp/agent.err")"
grep -qi 'error' "$tmp/agent.err" && fail "agent logged an error: $(cat "$tmp/agent.err")"

first_seq=$(jq -s '.[0].data | fromjson | .seq' "$tmp/messages")
echo "PASS: $count messages, seq $first_seq.., gaps (ms) $gaps," \
	"wscat rc $wscat_rc, agent rc 0, pipeline $(((end_ns - start_ns) / 1000000)) ms"
