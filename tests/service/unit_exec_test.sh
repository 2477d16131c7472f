#!/usr/bin/env bash
# The shipped systemd unit, as far as it can be tested where systemd is not
# PID 1 (issue 13, section 3):
#  1. `systemd-analyze verify` on it (ExecStart pointed at the built agent):
#     any message fails;
#  2. its ExecStartPre=+ (the bpffs directory for --pin), run as root with
#     STATE_DIRECTORY owned by a stand-in for the dynamic user, in a private
#     mount namespace over a fresh bpffs: /sys/fs/bpf/netmon must end up
#     that user's, mode 0700, and /sys/fs/bpf traversable;
#  3. its exact ExecStart line as that non-root user with the unit's
#     capability set (AmbientCapabilities, CapabilityBoundingSet,
#     NoNewPrivileges, UMask, all parsed from the unit) through setpriv, in
#     a network namespace of its own: it must start, serve /metrics with the
#     bpf source's counters, hold only CAP_BPF and CAP_NET_ADMIN once
#     running, and exit 0 on SIGTERM.
# Substituted, because nothing else can stand in for systemd's part: the
# agent's path (the build's), the ledger's directory (the StateDirectory
# systemd would create). Everything else runs as written, --pin included.
#
# usage: unit_exec_test.sh PATH/TO/netmon-agent   (root; exit 77 otherwise)
set -euo pipefail

agent=$(realpath "$1")
src=$(cd "$(dirname "$0")/../.." && pwd)
unit=$src/config/netmon-agent.service
[ "$(id -u)" -eq 0 ] || { echo "skip: needs root" >&2; exit 77; }

# Once more in a private mount namespace: the bpffs mounted below, and
# anything pinned in it, go away with it.
if [ -z "${NETMON_UNIT_TEST_INNER:-}" ]; then
	exec env NETMON_UNIT_TEST_INNER=1 unshare --mount --propagation private "$0" "$@"
fi

tmp=$(mktemp -d /tmp/netmon-unit-test.XXXXXX)
# The service user reaches its state directory inside.
chmod 0755 "$tmp"
ns=netmon-unit-$$
agent_pid=
cleanup() {
	[ -z "$agent_pid" ] || kill -KILL "$agent_pid" 2>/dev/null || true
	ip netns del "$ns" 2>/dev/null || true
	rm -rf "$tmp"
}
trap cleanup EXIT
fail() { echo "unit_exec_test: FAIL: $*" >&2; exit 1; }

# The unit's value of KEY (the last one wins, as in systemd).
key() { sed -n "s/^$1=//p" "$unit" | tail -n1; }
# A command line as systemd passes it on: $$ is $, %% is %.
unescape() { sed 's/\$\$/$/g; s/%%/%/g'; }

# ---- 1. systemd-analyze verify ----------------------------------------------------
mkdir -p "$tmp/unit"
sed "s|^ExecStart=/usr/bin/netmon-agent |ExecStart=$agent |" "$unit" >"$tmp/unit/netmon-agent.service"
(cd "$tmp/unit" && systemd-analyze verify --man=no ./netmon-agent.service) >"$tmp/verify" 2>&1 ||
	fail "systemd-analyze verify: $(cat "$tmp/verify")"
[ ! -s "$tmp/verify" ] || fail "systemd-analyze verify: $(cat "$tmp/verify")"
grep -qx 'Restart=on-failure' "$unit" || fail "the unit does not restart on failure"
[ -n "$(key RestartSec)" ] || fail "no RestartSec="
echo "unit_exec_test: verify clean; Restart=on-failure, RestartSec=$(key RestartSec)," \
	"StartLimitBurst=$(key StartLimitBurst) in $(key StartLimitIntervalSec)"

# ---- 2. ExecStartPre=+ ---------------------------------------------------------------
service_uid=61234 # a dynamic user's range is 61184-65519
state=$tmp/state
mkdir -p "$state"
chown "$service_uid:$service_uid" "$state"
chmod 0700 "$state"
# A fresh, empty bpffs where systemd would have mounted the host's (0700).
mount -t bpf -o mode=0700 bpf /sys/fs/bpf
pre=$(key ExecStartPre)
case "$pre" in
'+'*) pre=${pre#+} ;;
*) fail "ExecStartPre= is not a '+' (root) command: $pre" ;;
esac
pre=$(unescape <<<"$pre")
# systemd splits it into words honouring quotes, as the shell does here.
eval "set -- $pre"
STATE_DIRECTORY=$state "$@" || fail "ExecStartPre failed: $pre"
[ "$(stat -c '%u:%g %a' /sys/fs/bpf/netmon)" = "$service_uid:$service_uid 700" ] ||
	fail "/sys/fs/bpf/netmon is $(stat -c '%u:%g %a' /sys/fs/bpf/netmon)"
[ $(($(stat -c '%#a' /sys/fs/bpf) & 1)) -eq 1 ] || fail "/sys/fs/bpf is not traversable"
echo "unit_exec_test: ExecStartPre made /sys/fs/bpf/netmon $(stat -c '%U %a' /sys/fs/bpf/netmon)"

# ---- 3. ExecStart under the unit's credentials ----------------------------------------
cmd=$(key ExecStart | unescape)
read -r -a argv <<<"$cmd"
[ "${argv[0]}" = /usr/bin/netmon-agent ] || fail "ExecStart runs ${argv[0]}"
argv[0]=$agent
words=()
for ((i = 0; i < ${#argv[@]}; i++)); do
	w=${argv[i]}
	if [ "$w" = --ledger ]; then
		words+=(--ledger "$state/$(basename "${argv[i + 1]}")")
		i=$((i + 1))
		continue
	fi
	words+=("$w")
done
listen=$(grep -o -- '--listen [^ ]*' <<<"$cmd" | cut -d' ' -f2)
[ -n "$listen" ] || fail "ExecStart has no --listen"

# systemd's capability names to setpriv's: CAP_NET_ADMIN -> +net_admin.
caps() { tr ' ' '\n' <<<"$1" | sed -n 's/^CAP_\(.*\)/+\L\1/p' | paste -sd,; }
ambient=$(caps "$(key AmbientCapabilities)")
bounding=$(caps "$(key CapabilityBoundingSet)")
[ "$(key NoNewPrivileges)" = yes ] || fail "NoNewPrivileges is not yes"
umask_value=$(key UMask)

ip netns add "$ns"
ip -n "$ns" link set lo up
ip -n "$ns" link add veth0 type veth peer name veth1
ip -n "$ns" link set veth0 up && ip -n "$ns" link set veth1 up
# nsenter, not `ip netns exec`: that remounts /sys, hiding the bpffs.
(
	umask "$umask_value"
	exec nsenter --net="/run/netns/$ns" setpriv --reuid="$service_uid" --regid="$service_uid" \
		--clear-groups --inh-caps="-all,$ambient" --ambient-caps="-all,$ambient" \
		--bounding-set="-all,$bounding" --no-new-privs "${words[@]}"
) 2>"$tmp/stderr" &
agent_pid=$!
echo "unit_exec_test: running as uid $service_uid with $ambient: ${words[*]}"

metrics=
for _ in $(seq 1 100); do
	if metrics=$(nsenter --net="/run/netns/$ns" curl -sf --max-time 2 "http://$listen/metrics"); then
		grep -q '^netmon_rx_bytes_total{.*interface="veth0"' <<<"$metrics" && break
	fi
	kill -0 "$agent_pid" 2>/dev/null || fail "the agent exited: $(cat "$tmp/stderr")"
	sleep 0.1
done
grep -q '^netmon_rx_bytes_total{.*interface="veth0"' <<<"$metrics" ||
	fail "no veth0 counters on /metrics: $metrics $(cat "$tmp/stderr")"
grep -q 'source="bpf"' <<<"$metrics" || fail "not the bpf source: $metrics"

status=$(cat "/proc/$agent_pid/status")
eff=$(sed -n 's/^CapEff:\t*//p' <<<"$status")
# CAP_BPF (39) and CAP_NET_ADMIN (12): CAP_PERFMON went once loaded.
[ "$eff" = 0000008000001000 ] || fail "CapEff $eff once running"
[ "$(sed -n 's/^NoNewPrivs:\t*//p' <<<"$status")" = 1 ] || fail "no_new_privs not set"
echo "unit_exec_test: /metrics served (bpf, veth0), CapEff $eff"

kill -TERM "$agent_pid"
code=0
wait "$agent_pid" || code=$?
agent_pid=
[ "$code" -eq 0 ] || fail "exit $code on SIGTERM: $(cat "$tmp/stderr")"
if grep -q 'error' "$tmp/stderr"; then fail "errors: $(cat "$tmp/stderr")"; fi
echo "unit_exec_test: OK"
