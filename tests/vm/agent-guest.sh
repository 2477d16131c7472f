# shellcheck shell=sh
# Runs the host-built netmon-agent inside a test VM; agent-test.sh boots it
# with run-vm.sh, which has loaded guest-lib.sh (fail, step, klog_*) and put
# netmon-agent, iproute2's ip/tc, kmod's insmod/rmmod, bpftool and jq first
# on PATH. NETMON_EXPECT_ATTACH is what --attach auto must choose on this
# kernel: "tc" (clsact + tc filter, before 6.6) or "tcx".
#
# The traffic is exact: IPv6 is off and the neighbours are static, so the
# veth carries nothing but the pings, and BPF must count exactly them.
set -u
: "${NETMON_EXPECT_ATTACH:?agent-test.sh sets NETMON_EXPECT_ATTACH}"
KO=/netmon-vm/modules/netmon_proc.ko
INTERVAL=250ms
OUT=/tmp/agent

# Pings: from the host side to the namespace, and back, with sizes that make
# each direction's byte count distinct. A frame is the ICMP payload plus
# 8 (ICMP) + 20 (IPv4) + 14 (Ethernet) bytes, FCS not included.
OUT_COUNT=5 OUT_SIZE=100
IN_COUNT=3 IN_SIZE=1000
PACKETS=$((OUT_COUNT + IN_COUNT))
BYTES=$((OUT_COUNT * (OUT_SIZE + 42) + IN_COUNT * (IN_SIZE + 42)))

mkdir -p "$OUT"

# Starts netmon-agent in the background: $1 names the run (its stdout and
# stderr go to $OUT/$1.out and .err), the rest are its arguments. Sets
# AGENT_PID and waits for the first snapshot (the baseline: all attached).
agent_start() {
	run=$1
	shift
	netmon-agent "$@" >"$OUT/$run.out" 2>"$OUT/$run.err" &
	AGENT_PID=$!
	i=0
	until [ -s "$OUT/$run.out" ]; do
		kill -0 "$AGENT_PID" 2>/dev/null || {
			cat "$OUT/$run.err" >&2
			fail "netmon-agent $* exited before its first snapshot"
		}
		[ $i -lt 300 ] || fail "netmon-agent $*: no snapshot after 30 s"
		i=$((i + 1))
		sleep 0.1
	done
}

# SIGTERM, then the exit status must be 0 and the summary must be there.
agent_stop() {
	run=$1
	kill -TERM "$AGENT_PID" || fail "netmon-agent ($run) is gone before SIGTERM"
	wait "$AGENT_PID"
	rc=$?
	echo "netmon-agent ($run) stderr:"
	sed 's/^/  | /' "$OUT/$run.err"
	[ "$rc" -eq 0 ] || fail "netmon-agent ($run) exited with $rc after SIGTERM"
}

# Every line of $1 is JSON and the jq filter $2 holds for each of them.
expect_lines() {
	jq -e . "$1" >/dev/null 2>&1 || {
		cat "$1"
		fail "$1 has a line that is not JSON"
	}
	jq -e "$2" "$1" >/tmp/jq.out 2>&1 && ! grep -qvx true /tmp/jq.out || {
		cat "$1"
		fail "$1: a line fails '$2'"
	}
}

# Nothing of netmon stays attached or loaded: no tc filter on either hook
# of va, no clsact qdisc, no netmon_* program left in the kernel (this also
# covers tcx links, which die with their program).
# No tc filter on either hook of va and no clsact qdisc; $1 says when.
expect_no_tc_state() {
	for hook in ingress egress; do
		[ -z "$(tc filter show dev va $hook)" ] ||
			fail "$1: tc filter on va $hook: $(tc filter show dev va $hook)"
	done
	! tc qdisc show dev va | grep -q clsact ||
		fail "$1: clsact qdisc on va: $(tc qdisc show dev va)"
}

expect_nothing_attached() {
	expect_no_tc_state "after $1"
	bpftool prog show >/tmp/progs || fail "bpftool prog show"
	! grep -q 'name netmon_' /tmp/progs || {
		cat /tmp/progs
		fail "after $1: a netmon_* program is still loaded"
	}
}

# Asserts the attach mode while the agent run $1 is attached to va.
expect_attach_mode() {
	grep -q "bpf: $NETMON_EXPECT_ATTACH mode" "$OUT/$1.err" || {
		cat "$OUT/$1.err"
		fail "netmon-agent ($1) did not say 'bpf: $NETMON_EXPECT_ATTACH mode' with -v"
	}
	bpftool prog show >/tmp/progs
	grep -q 'name netmon_ingress' /tmp/progs && grep -q 'name netmon_egress' /tmp/progs ||
		fail "($1) netmon_ingress/netmon_egress not loaded while attached"
	if [ "$NETMON_EXPECT_ATTACH" = tc ]; then
		for hook in ingress egress; do
			tc filter show dev va $hook | grep -q "netmon_$hook" || {
				tc filter show dev va $hook
				fail "($1) no netmon_$hook tc filter on va $hook"
			}
		done
	else
		expect_no_tc_state "($1) tcx mode"
	fi
}

step "quiet network: IPv6 off, veth va <-> vb (namespace peer), static neighbours"
sysctl -qw net.ipv6.conf.all.disable_ipv6=1 net.ipv6.conf.default.disable_ipv6=1 ||
	fail "disabling IPv6"
ip netns add peer || fail "ip netns add"
# A new namespace starts with IPv6's defaults, not init_net's.
ip netns exec peer sysctl -qw net.ipv6.conf.all.disable_ipv6=1 \
	net.ipv6.conf.default.disable_ipv6=1 || fail "disabling IPv6 in the namespace"
ip link add va type veth peer name vb || fail "ip link add veth"
ip link set vb netns peer || fail "moving vb into the namespace"
ip addr add 10.99.0.1/24 dev va
ip -n peer addr add 10.99.0.2/24 dev vb
ip neigh add 10.99.0.2 lladdr "$(ip netns exec peer cat /sys/class/net/vb/address)" \
	dev va nud permanent || fail "static neighbour on va"
ip -n peer neigh add 10.99.0.1 lladdr "$(cat /sys/class/net/va/address)" \
	dev vb nud permanent || fail "static neighbour on vb"
ip link set va up
ip -n peer link set vb up
insmod "$KO" || fail "insmod netmon_proc.ko"
[ -r /proc/netmon ] || fail "no /proc/netmon after insmod"

step "--proc all --count 2 reads the module"
netmon-agent --proc all --count 2 --interval "$INTERVAL" >"$OUT/proc.out" 2>"$OUT/proc.err" ||
	{ cat "$OUT/proc.err"; fail "netmon-agent --proc all --count 2 exited with $?"; }
[ "$(wc -l <"$OUT/proc.out")" -eq 2 ] || { cat "$OUT/proc.out"; fail "--proc --count 2 wrote $(wc -l <"$OUT/proc.out") lines"; }
expect_lines "$OUT/proc.out" '.source == "proc" and (.interfaces | has("lo") and has("va"))
	and .interfaces.va.ifindex == '"$(cat /sys/class/net/va/ifindex)"

step "--compare va: attach mode, then real traffic both ways"
agent_start compare -v --compare va --interval "$INTERVAL"
expect_attach_mode compare
# JIT-compiled or run by the interpreter (s390x: Debian builds no JIT).
if grep -A 3 'name netmon_ingress' /tmp/progs | grep -q 'not jited'; then
	result bpf_exec interpreter
else
	grep -A 3 'name netmon_ingress' /tmp/progs | grep -q 'jited [0-9]' ||
		fail "bpftool prog show says neither 'jited' nor 'not jited' for netmon_ingress"
	result bpf_exec JIT
fi
ping -q -c "$OUT_COUNT" -s "$OUT_SIZE" -i 0.2 -W 3 10.99.0.2 >/dev/null ||
	fail "ping va -> vb"
ip netns exec peer ping -q -c "$IN_COUNT" -s "$IN_SIZE" -i 0.2 -W 3 10.99.0.1 >/dev/null ||
	fail "ping vb -> va"
# Quiet from here: the last snapshots must settle on exact agreement.
sleep 1.5
agent_stop compare
last=$(tail -n 1 "$OUT/compare.out")
echo "last --compare snapshot: $last"
expect_lines "$OUT/compare.out" '.source == "compare" and (.interfaces | has("va"))'
echo "$last" | jq -e --argjson p "$PACKETS" --argjson b "$BYTES" '.interfaces.va
	| .match == true and ([.delta[]] | length == 4 and all(. == 0)) and (has("skew") | not)
	and .bpf == {rx_bytes: $b, rx_packets: $p, tx_bytes: $b, tx_packets: $p}
	and .proc == .bpf' >/dev/null ||
	fail "final --compare snapshot of va: want match, zero deltas, bpf = proc = $PACKETS packets / $BYTES bytes each way"
grep -q "compare summary: 'va'" "$OUT/compare.err" || fail "no compare summary for va on stderr"
expect_nothing_attached "--compare va"
result attach "$NETMON_EXPECT_ATTACH"
result compare_exact "$PACKETS/$BYTES"

step "--bpf va: exact totals for known traffic"
agent_start bpf -v --bpf va --interval "$INTERVAL"
expect_attach_mode bpf
ping -q -c "$OUT_COUNT" -s "$OUT_SIZE" -i 0.2 -W 3 10.99.0.2 >/dev/null ||
	fail "ping va -> vb"
ip netns exec peer ping -q -c "$IN_COUNT" -s "$IN_SIZE" -i 0.2 -W 3 10.99.0.1 >/dev/null ||
	fail "ping vb -> va"
sleep 1.5
agent_stop bpf
expect_lines "$OUT/bpf.out" '.source == "bpf" and (.interfaces.va | has("rx_bytes") and has("tx_packets"))'
[ "$(wc -l <"$OUT/bpf.out")" -ge 3 ] || { cat "$OUT/bpf.out"; fail "--bpf wrote $(wc -l <"$OUT/bpf.out") lines, want >= 3"; }
# Totals since attach: 0 in the baseline, exactly the pings at the end.
head -n 1 "$OUT/bpf.out" | jq -e '.seq == 0 and (.interfaces.va
	| .rx_bytes == 0 and .rx_packets == 0 and .tx_bytes == 0 and .tx_packets == 0)' >/dev/null ||
	fail "--bpf baseline of va is not all zero: $(head -n 1 "$OUT/bpf.out")"
last=$(tail -n 1 "$OUT/bpf.out")
echo "last --bpf snapshot: $last"
echo "$last" | jq -e --argjson p "$PACKETS" --argjson b "$BYTES" '.interfaces.va
	| .rx_bytes == $b and .rx_packets == $p and .tx_bytes == $b and .tx_packets == $p' >/dev/null ||
	fail "final --bpf snapshot of va: want $PACKETS packets / $BYTES bytes each way"
expect_nothing_attached "--bpf va"
result bpf_exact "$PACKETS/$BYTES"

step "--compare all: lo and va agree"
agent_start compare-all --compare all --interval "$INTERVAL"
ping -q -c 3 -i 0.2 -s 200 -W 3 127.0.0.1 >/dev/null || fail "ping over lo"
ping -q -c 2 -i 0.2 -s 56 10.99.0.2 >/dev/null || fail "ping va -> vb"
sleep 1.5
agent_stop compare-all
last=$(tail -n 1 "$OUT/compare-all.out")
echo "last --compare all snapshot: $last"
expect_lines "$OUT/compare-all.out" '.source == "compare"'
# lo carries both the requests and the replies: 6 packets each way; its
# /proc/net/dev bytes lack the Ethernet header BPF sees (loopback_l2_header).
for want in "lo 6 $((6 * 242))" "va 2 $((2 * 98))"; do
	# shellcheck disable=SC2086 # three words
	set -- $want
	echo "$last" | jq -e --arg d "$1" --argjson p "$2" --argjson b "$3" '.interfaces[$d]
		| .match == true and ([.delta[]] | length == 4 and all(. == 0))
		and .bpf == {rx_bytes: $b, rx_packets: $p, tx_bytes: $b, tx_packets: $p}' >/dev/null ||
		fail "final --compare all snapshot: want $1 to match, zero deltas, bpf $2 packets / $3 bytes each way"
done
expect_nothing_attached "--compare all"

step "--bpf --pin va: SIGKILL, traffic while no agent runs, restart: exact totals"
# The default pin directory, /sys/fs/bpf/netmon (guest-init.sh mounted bpffs).
agent_start pin -v --bpf --pin va --interval "$INTERVAL"
ping -q -c "$OUT_COUNT" -s "$OUT_SIZE" -i 0.2 -W 3 10.99.0.2 >/dev/null ||
	fail "ping va -> vb"
kill -KILL "$AGENT_PID"
wait "$AGENT_PID" 2>/dev/null
ip netns exec peer ping -q -c "$IN_COUNT" -s "$IN_SIZE" -i 0.2 -W 3 10.99.0.1 >/dev/null ||
	fail "ping vb -> va while no agent runs"
agent_start pin-restarted -v --bpf --pin va --interval "$INTERVAL"
sleep 0.6
agent_stop pin-restarted
grep -q "adopted the pinned counters of 'va'" "$OUT/pin-restarted.err" ||
	fail "the restarted --pin agent did not adopt va's pinned counters"
last=$(tail -n 1 "$OUT/pin-restarted.out")
echo "last snapshot after the restart: $last"
echo "$last" | jq -e --argjson p "$PACKETS" --argjson b "$BYTES" '.interfaces.va
	| .rx_bytes == $b and .rx_packets == $p and .tx_bytes == $b and .tx_packets == $p' >/dev/null ||
	fail "after kill -9 and restart: want $PACKETS packets / $BYTES bytes each way on va"
[ -e /sys/fs/bpf/netmon/counters ] || fail "a --pin agent's stop removed its pinned set"

step "--bpf --pin va: upgrade to another object, SIGKILL, back again: exact totals"
# The variant is built from the same source with -DNETMON_TEST_VARIANT: other
# instructions, the same maps. Each start adopts the set and swaps the
# programs in place (tc filter replace on 6.1, bpf_link_update on tcx).
export NETMON_TEST_BPF_OBJECT=/netmon-vm/netmon_variant.bpf.o
agent_start pin-upgraded -v --bpf --pin va --interval "$INTERVAL"
unset NETMON_TEST_BPF_OBJECT
grep -q "upgrading the pinned set" "$OUT/pin-upgraded.err" ||
	fail "the variant agent did not upgrade the pinned set: $(cat "$OUT/pin-upgraded.err")"
ping -q -c "$OUT_COUNT" -s "$OUT_SIZE" -i 0.2 -W 3 10.99.0.2 >/dev/null ||
	fail "ping va -> vb under the upgraded programs"
kill -KILL "$AGENT_PID"
wait "$AGENT_PID" 2>/dev/null
ip netns exec peer ping -q -c "$IN_COUNT" -s "$IN_SIZE" -i 0.2 -W 3 10.99.0.1 >/dev/null ||
	fail "ping vb -> va while no agent runs"
agent_start pin-back -v --bpf --pin va --interval "$INTERVAL"
sleep 0.6
agent_stop pin-back
grep -q "upgrading the pinned set" "$OUT/pin-back.err" ||
	fail "the agent did not swap the variant's programs back"
last=$(tail -n 1 "$OUT/pin-back.out")
echo "last snapshot after upgrade, SIGKILL and back: $last"
echo "$last" | jq -e --argjson p $((2 * PACKETS)) --argjson b $((2 * BYTES)) '.interfaces.va
	| .rx_bytes == $b and .rx_packets == $p and .tx_bytes == $b and .tx_packets == $p' >/dev/null ||
	fail "after the upgrade and back: want $((2 * PACKETS)) packets / $((2 * BYTES)) bytes each way on va"
netmon-agent --unpin 2>"$OUT/unpin.err" || { cat "$OUT/unpin.err"; fail "netmon-agent --unpin exited with $?"; }
[ ! -e /sys/fs/bpf/netmon ] || fail "--unpin left /sys/fs/bpf/netmon"
expect_nothing_attached "--unpin"
result pin_restart_exact "$PACKETS/$BYTES"

step "unload, kernel log"
rmmod netmon_proc || fail "rmmod netmon_proc"
klog_check_clean
step "done"
