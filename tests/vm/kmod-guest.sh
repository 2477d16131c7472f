# shellcheck shell=sh
# Checks netmon_proc.ko inside a test VM; kmod-test.sh boots it with
# run-vm.sh, which has loaded guest-lib.sh (fail, step, klog_*) and put
# iproute2's ip and kmod's insmod/rmmod before busybox's. busybox insmod
# would not do: it retries a failed load, so the module's init runs twice.
set -u
KO=/netmon-vm/modules/netmon_proc.ko
HEADER="# iface ifindex rx_bytes rx_packets tx_bytes tx_packets rx_errors tx_errors rx_dropped tx_dropped"

# IPv6 autoconfiguration sends packets on its own timers, which would
# change counters between reading /proc/netmon and /proc/net/dev.
echo 1 >/proc/sys/net/ipv6/conf/all/disable_ipv6
echo 1 >/proc/sys/net/ipv6/conf/default/disable_ipv6

load() {
	insmod "$KO" "$@" || fail "insmod netmon_proc.ko $*"
}

unload() {
	rmmod netmon_proc || fail "rmmod netmon_proc"
	[ ! -e /proc/netmon ] || fail "/proc/netmon still there after rmmod"
}

# The interface names /proc/netmon lists, sorted, on one line.
netmon_names() {
	tail -n +3 /proc/netmon | awk '{ print $1 }' | sort | tr '\n' ' '
}

expect_names() {
	got=$(netmon_names)
	[ "$got" = "$*" ] || fail "/proc/netmon lists '$got', want '$*'"
}

# "name counters..." in /proc/netmon's column order, from both files, for
# the interfaces /proc/netmon lists. /proc/net/dev: rx bytes packets errs
# drop fifo frame compressed multicast, tx bytes packets errs drop ...
netmon_counters() {
	tail -n +3 /proc/netmon | awk '{ print $1, $3, $4, $5, $6, $7, $8, $9, $10 }' | sort
}
netdev_counters() {
	tail -n +3 /proc/net/dev | sed 's/:/ /' |
		awk '{ print $1, $2, $3, $10, $11, $4, $12, $5, $13 }' | sort
}

# Every row of /proc/netmon equals /proc/net/dev; in "all" mode the two
# list the same interfaces. Counters can move between the two reads (a
# late packet), so a mismatch is retried before it counts.
compare_with_netdev() {
	mode=$1
	for _ in 1 2 3; do
		netmon_counters >/tmp/netmon.rows
		netdev_counters >/tmp/netdev.all
		if [ "$mode" = all ]; then
			cp /tmp/netdev.all /tmp/netdev.rows
		else
			awk 'NR == FNR { want[$1] = 1; next } $1 in want' \
				/tmp/netmon.rows /tmp/netdev.all >/tmp/netdev.rows
		fi
		if [ -s /tmp/netmon.rows ] && cmp -s /tmp/netmon.rows /tmp/netdev.rows; then
			return 0
		fi
		sleep 1
	done
	diff /tmp/netdev.rows /tmp/netmon.rows
	fail "/proc/netmon differs from /proc/net/dev (diff above: - net/dev, + netmon)"
}

check_format() {
	[ "$(stat -c %a /proc/netmon)" = 444 ] || fail "/proc/netmon mode $(stat -c %a /proc/netmon), want 444"
	[ "$(sed -n 1p /proc/netmon)" = "# netmon 1" ] || fail "first line '$(sed -n 1p /proc/netmon)'"
	[ "$(sed -n 2p /proc/netmon)" = "$HEADER" ] || fail "second line '$(sed -n 2p /proc/netmon)'"
	bad=$(tail -n +3 /proc/netmon | awk 'NF != 10 { print; exit }')
	[ -z "$bad" ] || fail "row with $(echo "$bad" | wc -w) fields: '$bad'"
	tail -n +3 /proc/netmon | while read -r name ifindex rest; do
		[ "$(cat "/sys/class/net/$name/ifindex")" = "$ifindex" ] || exit 1
	done || fail "an ifindex in /proc/netmon differs from /sys/class/net"
}

# A refused load: -EINVAL, exactly one line from the module naming the
# cause, and no /proc/netmon left behind.
expect_refused() {
	want=$1
	shift
	klog_take >/dev/null
	if insmod "$KO" "$@" 2>/tmp/insmod.err; then
		rmmod netmon_proc
		fail "insmod netmon_proc.ko $* was accepted"
	fi
	# kmod's insmod words EINVAL, and only EINVAL, as "Invalid parameters".
	grep -q "Invalid parameters" /tmp/insmod.err ||
		fail "insmod netmon_proc.ko $*: '$(cat /tmp/insmod.err)', want EINVAL"
	klog_take | grep 'netmon_proc' >/tmp/insmod.klog
	[ "$(wc -l </tmp/insmod.klog)" -eq 1 ] && grep -qF -- "$want" /tmp/insmod.klog ||
		fail "insmod netmon_proc.ko $*: kernel said '$(cat /tmp/insmod.klog)', want one line with '$want'"
	[ ! -e /proc/netmon ] || fail "/proc/netmon exists after a refused load"
}

# Adds veth pairs $1..$2 as ${3}N / ${4}N in one ip invocation.
add_pairs() {
	i=$1
	while [ "$i" -le "$2" ]; do
		echo "link add $3$i type veth peer name $4$i"
		i=$((i + 1))
	done >/tmp/pairs.batch
	ip -batch /tmp/pairs.batch || fail "ip -batch: adding veth pairs $3$1..$3$2"
}

step "veth pair into a namespace, real traffic"
ip netns add peer || fail "ip netns add"
# A new namespace starts with IPv6's defaults, not init_net's: vb would
# send router solicitations (4, 8, 16 s... after it comes up) into va.
ip netns exec peer sysctl -qw net.ipv6.conf.all.disable_ipv6=1 \
	net.ipv6.conf.default.disable_ipv6=1 || fail "disabling IPv6 in the namespace"
ip link add va type veth peer name vb || fail "ip link add veth"
ip link set vb netns peer
ip addr add 10.99.0.1/24 dev va
ip link set va up
ip -n peer addr add 10.99.0.2/24 dev vb
ip -n peer link set vb up
ping -q -c 5 -i 0.2 -W 3 10.99.0.2 >/dev/null || fail "ping over the veth pair"
ip netns exec peer ping -q -c 3 -i 0.2 -s 1000 -W 3 10.99.0.1 >/dev/null ||
	fail "ping from the namespace"
ping -q -c 2 -i 0.2 127.0.0.1 >/dev/null || fail "ping over lo"

step "all interfaces: rows equal /proc/net/dev"
load
check_format
expect_names "lo va "
compare_with_netdev all
rx=$(awk '$1 == "va" { print $4 }' /proc/netmon)
tx=$(awk '$1 == "va" { print $6 }' /proc/netmon)
[ "$rx" -ge 8 ] && [ "$tx" -ge 8 ] || fail "va counted $rx rx / $tx tx packets, want >= 8 each"

step "a second load is refused"
if insmod "$KO" 2>/dev/null; then fail "a second insmod succeeded"; fi
check_format
unload

step "iface= selects; a late interface appears, follows renames and deletion"
load iface=va,wwan0
[ "$(cat /sys/module/netmon_proc/parameters/iface)" = "va,wwan0" ] ||
	fail "parameters/iface reads '$(cat /sys/module/netmon_proc/parameters/iface)'"
expect_names "va "
ip link add wwan0 type veth peer name wwan0p
expect_names "va wwan0 "
compare_with_netdev selected
ip link set wwan0 name wwan9
expect_names "va "
ip link set wwan9 name wwan0
expect_names "va wwan0 "
ip link del wwan0
expect_names "va "
unload
# vb is in another namespace: a name matches only in init_net.
load iface=lo,vb
expect_names "lo "
compare_with_netdev selected
unload
load iface=abcdefghijklmno
expect_names ""
check_format
unload

step "bad iface= values are refused with EINVAL and one message"
expect_refused "longer than 15 characters" iface=abcdefghijklmnop
expect_refused "longer than 15 characters" iface=va,wwan0123456789abcdef
expect_refused "contains '/'" iface=a/b
expect_refused "contains ':'" iface=va:0
expect_refused "contains '%'" iface=wwan%d
expect_refused "contains whitespace" 'iface="va lo"'
expect_refused "not a valid interface name" iface=.
expect_refused "not a valid interface name" iface=..
expect_refused "empty name" iface=
expect_refused "empty name" iface
expect_refused "empty name" iface=va,,lo
expect_refused "empty name" iface=va,
expect_refused "given twice" iface=va,lo,va
expect_refused "more than 16 interfaces" iface=a0,a1,a2,a3,a4,a5,a6,a7,a8,a9,b0,b1,b2,b3,b4,b5,b6
expect_refused "iface= is longer than 256 characters" \
	"iface=$(printf 'abcdefghijklmn,%.0s' $(seq 20))x"

step "600 interfaces are all listed"
add_pairs 0 299 s t
load
n=$(tail -n +3 /proc/netmon | wc -l)
[ "$n" -ge 602 ] || fail "/proc/netmon lists $n interfaces, want >= 602"
compare_with_netdev all
# Small reads make seq_file resume mid-row and mid-page. The small read
# counts only when whole reads before and after it agree (a late packet on
# va or lo moved nothing in between); otherwise it is tried again.
small_read_agrees() {
	cat /proc/netmon >/tmp/netmon.before
	dd if=/proc/netmon of=/tmp/netmon.dd bs=13 2>/dev/null
	cat /proc/netmon >/tmp/netmon.after
	cmp -s /tmp/netmon.before /tmp/netmon.after || return 2
	cmp -s /tmp/netmon.before /tmp/netmon.dd
}
for attempt in 1 2 3 4; do
	small_read_agrees && break
	status=$?
	[ "$status" -eq 2 ] && [ "$attempt" -lt 4 ] && continue
	if [ "$status" -eq 2 ]; then
		diff /tmp/netmon.before /tmp/netmon.after
		fail "/proc/netmon kept changing while read 13 bytes at a time (diff above)"
	fi
	diff /tmp/netmon.before /tmp/netmon.dd
	fail "reading /proc/netmon 13 bytes at a time gives other rows (diff above: - whole reads, + small reads)"
done

step "rmmod with /proc/netmon held open"
exec 3</proc/netmon
unload
if cat <&3 >/dev/null 2>&1; then fail "reading /proc/netmon after rmmod succeeded"; fi
exec 3<&-

step "load / read / churn / unload while two readers never pause"
(while :; do cat /proc/netmon >/dev/null 2>&1; done) &
reader1=$!
(while :; do dd if=/proc/netmon of=/dev/null bs=100 2>/dev/null; done) &
reader2=$!
round=0
while [ $round -lt 6 ]; do
	case $((round % 3)) in
	0) load ;;
	1) load iface=va,c0,cx,lo ;;
	2) load iface=c1 ;;
	esac
	cat /proc/netmon >/dev/null || fail "reading /proc/netmon in round $round"
	add_pairs 0 9 c d
	ip link set c0 name cx
	ip link set c1 netns peer
	cat /proc/netmon >/dev/null || fail "reading /proc/netmon in round $round"
	i=0
	while [ $i -le 9 ]; do
		echo "link del d$i"
		i=$((i + 1))
	done >/tmp/del.batch
	ip -batch /tmp/del.batch || fail "deleting veth pairs in round $round"
	unload
	round=$((round + 1))
done
kill "$reader1" "$reader2"
wait 2>/dev/null
[ ! -e /proc/netmon ] || fail "/proc/netmon left behind"
klog_check_clean
step "done"
