#!/usr/bin/env bash
# Soak: a --pin agent killed with SIGKILL and restarted at random moments
# while 200 interfaces churn and some of them carry traffic. Afterwards:
#   - every surviving interface's totals equal the kernel's own counters
#     exactly (nothing lost while the agent was down, nothing counted twice);
#   - a long-lived agent's RSS and fd count stay flat through the churn;
#   - `--unpin` leaves nothing: no pins, no filters, no netmon program loaded.
#
#   netns A (agent; 20 stable veths sN, 90 churning pairs cNa/cNb)
#     sN 198.18.N.1/30 ──── veth ──── sNp 198.18.N.2/30   netns B (pings)
#
# IPv6 off and static neighbours: nothing but our pings moves the stable
# veths' counters, so the agent (which counts from its first attach) and the
# kernel (which counts from creation) must agree to the byte.
#
# usage: pin_soak_test.sh [PATH/TO/netmon-agent]    (root; exits 77 if not)
#   NETMON_SOAK_SECONDS (default 60), NETMON_SOAK_ATTACH (default auto)
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
agent=${1:-${NETMON_AGENT:-$here/../../build/agent/netmon-agent}}
soak_seconds=${NETMON_SOAK_SECONDS:-60}
attach=${NETMON_SOAK_ATTACH:-auto}
stable=20
with_traffic=10
churn_pairs=90

fail() { echo "FAIL: $*" >&2; exit 1; }
[ "$(id -u)" -eq 0 ] || { echo "SKIP: needs root (network namespaces, bpffs)"; exit 77; }
[ -x "$agent" ] || fail "no agent at '$agent' (pass its path as the first argument)"
for tool in ip ping jq bpftool tc; do
	command -v "$tool" >/dev/null || fail "$tool is not installed: run ci/deps"
done

ns_a=nmsoak$$a
ns_b=nmsoak$$b
pin_dir=/sys/fs/bpf/netmon-soak-$$
tmp=$(mktemp -d /tmp/netmon-soak.XXXXXX)
agent_pid=""
churn_pid=""
ping_pids=()
cleanup() {
	set +e
	for pid in $agent_pid $churn_pid "${ping_pids[@]}"; do kill -9 "$pid" 2>/dev/null; done
	for pid in $agent_pid $churn_pid "${ping_pids[@]}"; do wait "$pid" 2>/dev/null; done
	[ -e "$pin_dir" ] && nsenter --net="/run/netns/$ns_a" "$agent" --unpin --pin-path "$pin_dir" >/dev/null 2>&1
	ip netns del "$ns_a" 2>/dev/null
	ip netns del "$ns_b" 2>/dev/null
	rm -rf "$pin_dir" "$tmp"
}
trap cleanup EXIT

in_a() { ip netns exec "$ns_a" "$@"; }

ip netns add "$ns_a"
ip netns add "$ns_b"
for ns in "$ns_a" "$ns_b"; do
	ip netns exec "$ns" sysctl -qw net.ipv6.conf.default.disable_ipv6=1
	ip netns exec "$ns" sysctl -qw net.ipv6.conf.all.disable_ipv6=1
	ip -n "$ns" link set lo up
done
for ((i = 0; i < stable; i++)); do
	ip -n "$ns_a" link add "s$i" type veth peer name "s${i}p" netns "$ns_b"
	ip -n "$ns_a" addr add "198.18.$i.1/30" dev "s$i"
	ip -n "$ns_b" addr add "198.18.$i.2/30" dev "s${i}p"
	mac_a=$(ip -n "$ns_a" -j link show "s$i" | jq -r '.[0].address')
	mac_b=$(ip -n "$ns_b" -j link show "s${i}p" | jq -r '.[0].address')
	ip -n "$ns_a" neigh replace "198.18.$i.2" lladdr "$mac_b" dev "s$i" nud permanent
	ip -n "$ns_b" neigh replace "198.18.$i.1" lladdr "$mac_a" dev "s${i}p" nud permanent
	ip -n "$ns_a" link set "s$i" up
	ip -n "$ns_b" link set "s${i}p" up
done
for ((i = 0; i < churn_pairs; i++)); do
	ip -n "$ns_a" link add "c${i}a" type veth peer name "c${i}b"
done
echo "soak: $stable stable veths ($with_traffic with traffic) + $((2 * churn_pairs)) churning," \
	"attach $attach, ${soak_seconds}s, pins under $pin_dir"

# ---- `ip netns exec` hides the host's bpffs: --pin there is refused ----------
rc=0
in_a "$agent" --bpf all --pin --count 1 >"$tmp/netns-exec.out" 2>"$tmp/netns-exec.err" || rc=$?
if [ "$rc" -ne 1 ] || [ -s "$tmp/netns-exec.out" ] ||
	! tail -n 1 "$tmp/netns-exec.err" | grep -q 'error: no bpffs.*ip netns exec'; then
	fail "--pin under ip netns exec: exit $rc, stderr: $(cat "$tmp/netns-exec.err")"
fi
echo "soak: --pin under ip netns exec refused: $(tail -n 1 "$tmp/netns-exec.err")"

# ---- the agent: started, SIGKILLed, restarted ---------------------------------
incarnation=0
start_agent() {
	incarnation=$((incarnation + 1))
	# nsenter, not `ip netns exec`: that one remounts /sys in a private mount
	# namespace, hiding the host's bpffs, so the pins would die with the
	# process. And not through a function: backgrounded, it is a subshell,
	# and $! would be the subshell's pid, not the agent's.
	nsenter --net="/run/netns/$ns_a" "$agent" --bpf all --attach "$attach" --pin --pin-path "$pin_dir" --interval 200ms \
		>"$tmp/agent.$incarnation.out" 2>"$tmp/agent.$incarnation.err" &
	agent_pid=$!
	for _ in $(seq 300); do
		[ -s "$tmp/agent.$incarnation.out" ] && return 0
		kill -0 "$agent_pid" 2>/dev/null ||
			fail "agent $incarnation died at start: $(cat "$tmp/agent.$incarnation.err")"
		sleep 0.05
	done
	fail "agent $incarnation wrote no snapshot in 15 s: $(cat "$tmp/agent.$incarnation.err")"
}
fd_count() { find "/proc/$agent_pid/fd" -mindepth 1 -maxdepth 1 | wc -l; }
rss_kib() { awk '/^VmRSS:/ {print $2}' "/proc/$agent_pid/status"; }

start_agent

# Churn: a random pair deleted and re-created, over and over, the whole run.
(
	trap 'exit 0' TERM
	while :; do
		i=$((RANDOM % churn_pairs))
		ip -n "$ns_a" link del "c${i}a" 2>/dev/null || true
		ip -n "$ns_a" link add "c${i}a" type veth peer name "c${i}b" 2>/dev/null || true
		ip -n "$ns_a" link set "c${i}a" up 2>/dev/null || true
		sleep 0.0$((RANDOM % 5 + 1))
	done
) &
churn_pid=$!

# Traffic from B to the first stable veths for the whole soak.
pings_each=$((soak_seconds * 50))
for ((i = 0; i < with_traffic; i++)); do
	ip netns exec "$ns_b" ping -q -c "$pings_each" -i 0.02 -s $((56 + i * 100)) "198.18.$i.1" \
		>"$tmp/ping.$i" 2>&1 &
	ping_pids+=($!)
done

deadline=$((SECONDS + soak_seconds))
kills=0
while [ $SECONDS -lt $deadline ]; do
	sleep "$((RANDOM % 4 + 1)).$((RANDOM % 10))"
	kill -9 "$agent_pid"
	wait "$agent_pid" 2>/dev/null || true
	kills=$((kills + 1))
	sleep "0.$((RANDOM % 9 + 1))"  # the kernel goes on counting meanwhile
	start_agent
done
for pid in "${ping_pids[@]}"; do wait "$pid" || true; done
ping_pids=()
echo "soak: $kills SIGKILLs, $incarnation agents; traffic over"

# ---- a long-lived agent through churn: RSS and fds flat -----------------------
sleep 2
fds_first=$(fd_count)
rss_first=$(rss_kib)
fds_max=$fds_first
rss_max=$rss_first
for _ in $(seq 10); do
	sleep 1
	fds=$(fd_count)
	rss=$(rss_kib)
	[ "$fds" -gt "$fds_max" ] && fds_max=$fds
	[ "$rss" -gt "$rss_max" ] && rss_max=$rss
done
kill "$churn_pid"
wait "$churn_pid" 2>/dev/null || true
churn_pid=""
echo "soak: last agent over 10 s of churn: fds $fds_first..$fds_max, RSS $rss_first..$rss_max KiB"
# Attachments come and go with the churning veths; a leak grows without bound.
[ $((fds_max - fds_first)) -le 8 ] || fail "fd count grew from $fds_first to $fds_max"
[ $((rss_max - rss_first)) -le 2048 ] || fail "RSS grew from $rss_first to $rss_max KiB"

# ---- exact totals ------------------------------------------------------------
# A snapshot written after the last reply was counted: wait for two more.
out="$tmp/agent.$incarnation.out"
seen=$(wc -l <"$out")
for _ in $(seq 100); do
	[ "$(wc -l <"$out")" -ge $((seen + 2)) ] && break
	sleep 0.1
done
last=$(tail -n 1 "$out")
for ((i = 0; i < stable; i++)); do
	for c in rx_bytes rx_packets tx_bytes tx_packets; do
		kernel=$(in_a cat "/sys/class/net/s$i/statistics/$c")
		ours=$(jq -r --arg n "s$i" --arg c "$c" '.interfaces[$n][$c] // "absent"' <<<"$last")
		[ "$ours" = "$kernel" ] || fail "s$i $c: agent $ours, kernel $kernel (after $kills SIGKILLs;" \
			"snapshot seq $(jq .seq <<<"$last") has $(jq '.interfaces | length' <<<"$last") interfaces;" \
			"agent stderr: $(tail -n 3 "$tmp/agent.$incarnation.err"))"
	done
done
total_rx=$(jq '[.interfaces | to_entries[] | select(.key | test("^s[0-9]+$")) | .value.rx_packets]
	| add' <<<"$last")
[ "$total_rx" -ge $((with_traffic * pings_each * 9 / 10)) ] ||
	fail "only $total_rx packets counted on the stable veths: the pings did not run"
echo "soak: all $stable stable veths exact against the kernel ($total_rx rx packets in all)"

# ---- --unpin: nothing left -----------------------------------------------------
prog_ids=$(bpftool prog show -j | jq -r '.[] | select(.name | startswith("netmon_")) | .id' | sort)
kill -9 "$agent_pid"
wait "$agent_pid" 2>/dev/null || true
agent_pid=""
nsenter --net="/run/netns/$ns_a" "$agent" --unpin --pin-path "$pin_dir" 2>"$tmp/unpin.err" ||
	fail "--unpin failed: $(cat "$tmp/unpin.err")"
[ ! -e "$pin_dir" ] || fail "--unpin left $pin_dir: $(ls -R "$pin_dir")"
for dev in $(in_a ls /sys/class/net); do
	for dir in ingress egress; do
		filters=$(tc -n "$ns_a" filter show dev "$dev" "$dir" 2>/dev/null)
		[ -z "$filters" ] || fail "--unpin left a $dir filter on $dev: $filters"
	done
done
for _ in $(seq 40); do
	alive=$(bpftool prog show -j | jq -r '.[] | .id' | sort | comm -12 - <(echo "$prog_ids"))
	[ -z "$alive" ] && break
	sleep 0.05
done
[ -z "$alive" ] || fail "--unpin left netmon programs loaded: ids $alive"
nsenter --net="/run/netns/$ns_a" "$agent" --unpin --pin-path "$pin_dir" 2>"$tmp/unpin2.err" ||
	fail "--unpin with nothing pinned failed: $(cat "$tmp/unpin2.err")"
echo "soak: --unpin left no pins, no filters, no programs; a second --unpin exits 0"
