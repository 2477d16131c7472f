# shellcheck shell=bash
# Helpers shared by the bench/*.sh scripts (sourced, not run). Benchmarks,
# not tests: nothing here fails on a figure, only on a broken setup.
#
#   . "$(dirname "$0")/lib.sh"
#
# Everything a script creates must carry its pid in its name and be removed
# by its EXIT trap: bench_cleanup_add registers the removal as it creates.

# Commands run by the EXIT/INT/TERM trap, last registered first.
bench_cleanups=()
bench_cleanup_add() { bench_cleanups=("$*" "${bench_cleanups[@]}"); }
bench_cleanup() {
	local cmd
	for cmd in "${bench_cleanups[@]}"; do eval "$cmd" >/dev/null 2>&1 || true; done
	bench_cleanups=()
}
trap bench_cleanup EXIT
trap 'exit 130' INT TERM

bench_die() { echo "$(basename "$0"): $*" >&2; exit 1; }

# The agent to measure: NETMON_BENCH_AGENT, else the build's (brought up to
# date first). Prints its absolute path.
bench_agent() {
	local agent
	if [ -n "${NETMON_BENCH_AGENT:-}" ]; then
		agent=$(realpath "$NETMON_BENCH_AGENT")
	else
		cmake --build "$1" --target netmon-agent -j2 >/dev/null
		agent=$(cd "$1" && pwd)/agent/netmon-agent
	fi
	[ -x "$agent" ] || bench_die "no agent at $agent"
	echo "$agent"
}

# One-minute load average: printed beside every figure, because the figures
# move with whatever else the machine is doing.
bench_load() { cut -d' ' -f1 /proc/loadavg; }

# The caveat line every benchmark prints first.
bench_caveat() {
	echo "# machine: $(nproc) cpus, $(uname -r), load $(cut -d' ' -f1-3 /proc/loadavg);" \
		"absolute figures depend on the machine and what else runs on it:" \
		"only ratios measured side by side in one run mean anything"
}

# Median of the numbers on stdin, one a line.
bench_median() {
	sort -g | awk '{ v[NR] = $1 } END { if (NR == 0) exit 1
		print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'
}

# a / b with three decimals ("-" when b is 0 or either is missing).
bench_ratio() {
	awk -v a="${1:-}" -v b="${2:-}" 'BEGIN {
		if (a == "" || b == "" || b + 0 == 0) print "-"; else printf "%.3f\n", a / b }'
}

# "met" or "MISSED": bench_verdict VALUE OP LIMIT, OP one of <= >=.
bench_verdict() {
	awk -v v="$1" -v op="$2" -v l="$3" 'BEGIN {
		if (v == "-" || v == "") { print "n/a"; exit }
		ok = (op == "<=") ? (v + 0 <= l + 0) : (v + 0 >= l + 0)
		print ok ? "met" : "MISSED" }'
}

# A network namespace for a benchmark: loopback up, IPv6 off (no DAD, MLD or
# router solicitations on hundreds of links), deleted on exit.
bench_netns_add() {
	local ns=$1
	ip netns add "$ns"
	bench_cleanup_add "ip netns del '$ns'"
	ip -n "$ns" link set lo up
	ip netns exec "$ns" sysctl -qw net.ipv6.conf.all.disable_ipv6=1 \
		net.ipv6.conf.default.disable_ipv6=1
}

# bench_veth_pairs NS COUNT PREFIX: COUNT veth pairs PREFIXa<i>/PREFIXb<i>,
# both ends in NS and up, with two `ip -batch` calls (a thousand `ip`
# processes take ~100x longer). PREFIX + 'a' + index must fit IFNAMSIZ (15).
bench_veth_pairs() {
	local ns=$1 count=$2 prefix=$3 i batch
	[ $((${#prefix} + 1 + ${#count})) -le 15 ] || bench_die "interface prefix '$prefix' too long"
	batch=$(mktemp)
	for ((i = 0; i < count; i++)); do
		echo "link add ${prefix}a$i type veth peer name ${prefix}b$i"
	done >"$batch"
	ip -n "$ns" -batch "$batch"
	for ((i = 0; i < count; i++)); do
		echo "link set ${prefix}a$i up"
		echo "link set ${prefix}b$i up"
	done >"$batch"
	ip -n "$ns" -batch "$batch"
	rm -f "$batch"
}

# bench_in_ns NS CMD...: runs CMD in NS by setns + exec (nsenter), so no
# `ip netns exec` start-up (mount namespace, sysfs remount) is in what gets
# timed. To get CMD's pid from `&`, call nsenter itself, not this function
# (a function in the background is a subshell).
bench_in_ns() {
	local ns=$1
	shift
	nsenter --net="/run/netns/$ns" -- "$@"
}

# CPU time (user + sys, ns) a process has used so far: the sum over its
# threads' /proc/<pid>/task/*/schedstat (scheduler run time, ns precision,
# unlike the 10 ms ticks of /proc/<pid>/stat). Threads that already exited
# are not counted.
bench_pid_cpu_ns() {
	cat /proc/"$1"/task/*/schedstat 2>/dev/null | awk '{ s += $1 } END { printf "%d\n", s }'
}

# Number of threads of a live process.
bench_pid_threads() { awk '$1 == "Threads:" { print $2 }' /proc/"$1"/status; }

# Peak resident set (VmHWM) of a live process, KiB.
bench_pid_hwm_kib() { awk '$1 == "VmHWM:" { print $2 }' /proc/"$1"/status; }

# Stops a process (SIGSTOP) and waits until it is stopped, so counters read
# next belong to a still process; bench_pid_cont resumes it.
bench_pid_stop() {
	kill -STOP "$1"
	local _
	for _ in $(seq 200); do
		[ "$(awk '{ print $3 }' /proc/"$1"/stat 2>/dev/null)" != T ] || return 0
		sleep 0.005
	done
	bench_die "pid $1 did not stop"
}
bench_pid_cont() { kill -CONT "$1"; }

# bench_kill_on_exit PID PROGRAM: kills PID on exit if it is still PROGRAM
# then (its comm, which may read "nsenter" until nsenter has exec'd), so a
# process that ended and whose pid was recycled is left alone.
bench_kill_on_exit() {
	bench_cleanup_add "[ \"\$(cat /proc/$1/comm 2>/dev/null)\" = '${2:0:15}' ] && kill -KILL $1"
}

# bench_cpu_ns [-n NS] CMD...: CPU time (user + sys, ns) of running CMD to
# completion (in NS), stdout to /dev/null: perf's task-clock (ns) where perf
# works, else the shell's children times (1 ms).
bench_cpu_ns() {
	local in_ns=()
	if [ "$1" = -n ]; then in_ns=(nsenter --net="/run/netns/$2" --); shift 2; fi
	if [ -z "${bench_have_perf:-}" ]; then
		bench_have_perf=0
		perf stat -x, -e task-clock -o /dev/null true >/dev/null 2>&1 && bench_have_perf=1
	fi
	if [ "$bench_have_perf" = 1 ]; then
		local out
		out=$(mktemp)
		"${in_ns[@]}" perf stat -x, -e task-clock -o "$out" -- "$@" >/dev/null
		awk -F, '$3 ~ /^task-clock/ { printf "%d\n", $1 * 1e6 }' "$out"
		rm -f "$out"
	else
		(
			"${in_ns[@]}" "$@" >/dev/null
			times | awk 'NR == 2 {
				split($1, u, /[ms]/); split($2, s, /[ms]/)
				printf "%d\n", ((u[1] + s[1]) * 60 + u[2] + s[2]) * 1e9 }'
		)
	fi
}

# Waits up to $2 seconds (default 120) for file $1 to hold a complete line.
bench_wait_line() {
	local file=$1 limit=${2:-120} start
	start=$(date +%s)
	until [ "$(head -c 1048576 "$file" | wc -l)" -gt 0 ]; do
		[ $(($(date +%s) - start)) -lt "$limit" ] || return 1
		sleep 0.01
	done
}

# Installs Debian packages a benchmark needs (and the build does not), if
# missing. Services they ship are not left running (policy-rc.d blocks them
# in containers; under systemd they are stopped and disabled).
bench_apt_install() {
	local missing=() pkg
	for pkg in "$@"; do dpkg -s "$pkg" >/dev/null 2>&1 || missing+=("$pkg"); done
	[ ${#missing[@]} -gt 0 ] || return 0
	echo "# installing ${missing[*]}" >&2
	DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
		"${missing[@]}" >/dev/null || return 1
	if [ -d /run/systemd/system ]; then
		for pkg in "${missing[@]}"; do
			systemctl disable --now "$pkg" >/dev/null 2>&1 || true
		done
	fi
}

# bench_broadcast_frames NS PREFIX COUNT: from now until exit, one broadcast
# frame a second out of each of PREFIX0..PREFIX<COUNT-1> in NS (a local
# experimental EtherType: both ends of a veth pair count it, nothing answers
# it), so every interface moves every tick.
bench_broadcast_frames() {
	nsenter --net="/run/netns/$1" -- python3 - "$2" "$3" <<'PY' &
import socket, sys, time
prefix, count = sys.argv[1], int(sys.argv[2])
frame = b"\xff" * 6 + b"\x02\x00\x00\x00\x00\x01" + b"\x88\xb5" + bytes(46)
sockets = []
for i in range(count):
    s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW)
    s.bind((f"{prefix}{i}", 0))
    sockets.append(s)
while True:
    start = time.monotonic()
    for s in sockets:
        s.send(frame)
    time.sleep(max(0.0, 1.0 - (time.monotonic() - start)))
PY
	bench_kill_on_exit $! python3
}
