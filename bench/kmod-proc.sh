#!/usr/bin/env bash
# Benchmark (issue 6, item 6): reading /proc/netmon against reading
# /proc/net/dev over the same 1,000 interfaces, in the same VM run, on
# Debian's kernels under qemu (tests/vm/run-vm.sh). Budget: <= 1.2x.
#
# usage: bench/kmod-proc.sh [SERIES...]     (default: 6.1 6.12)
#   BENCH_PAIRS=500 BENCH_READS=200 BENCH_ROUNDS=5 change the workload.
# Machine caveat: TCG emulation, 2 vCPUs on a shared 2-core host. The ratio
# is what carries over; absolute times do not.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/.." && pwd)
[ $# -gt 0 ] || set -- 6.1 6.12

work=$(mktemp -d "${TMPDIR:-/tmp}/kmod-bench.XXXXXX")
trap 'rm -rf "$work"' EXIT

# Alternates batches of reads of the two files and prints one line per
# round, then the totals. busybox time has 10 ms resolution: a batch is one
# cat of the file named BENCH_READS times, long enough for that.
cat >"$work/guest.sh" <<'EOF'
set -u
pairs=${BENCH_PAIRS:-500} reads=${BENCH_READS:-200} rounds=${BENCH_ROUNDS:-5}
i=0
while [ $i -lt "$pairs" ]; do
	echo "link add b$i type veth peer name c$i"
	i=$((i + 1))
done >/tmp/pairs.batch
ip -batch /tmp/pairs.batch || fail "adding $pairs veth pairs"
insmod /netmon-vm/modules/netmon_proc.ko || fail "insmod netmon_proc.ko"
n_netmon=$(($(wc -l </proc/netmon) - 2))
n_netdev=$(($(wc -l </proc/net/dev) - 2))
[ "$n_netmon" -eq "$n_netdev" ] || fail "/proc/netmon lists $n_netmon interfaces, /proc/net/dev $n_netdev"
echo "BENCH interfaces $n_netmon, $reads reads per batch, $rounds rounds"

batch() {
	args=""
	j=0
	while [ $j -lt "$reads" ]; do
		args="$args $1"
		j=$((j + 1))
	done
	time -o /tmp/time -f %e cat $args >/dev/null || fail "reading $1"
	cat /tmp/time
}
batch /proc/netmon >/dev/null
batch /proc/net/dev >/dev/null
r=0
while [ $r -lt "$rounds" ]; do
	a=$(batch /proc/netmon)
	b=$(batch /proc/net/dev)
	echo "BENCH round $r netmon ${a}s net/dev ${b}s"
	r=$((r + 1))
done
EOF

for series in "$@"; do
	release=$("$repo/ci/vm-kernels" release amd64 "$series")
	[ -n "$release" ] || { echo "kmod-proc: no kernel for series '$series'" >&2; exit 2; }
	build=$work/build-$release
	mkdir -p "$build/kmod" "$build/include"
	cp "$repo"/kmod/{netmon_proc.c,Kbuild,Makefile} "$build/kmod/"
	cp -r "$repo/include/netmon" "$build/include/"
	make -s -C "$build/kmod" KDIR="/usr/src/linux-headers-$release" >"$build/make.log" 2>&1 ||
		{ cat "$build/make.log"; exit 1; }

	"$repo/tests/vm/run-vm.sh" --kernel "$release" --script "$work/guest.sh" \
		--module "$build/kmod/netmon_proc.ko" --binary "$(command -v ip)" \
		--binary "$(command -v insmod)" --log "$work/$release.log" --timeout 400 \
		--env "BENCH_PAIRS=${BENCH_PAIRS:-500}" --env "BENCH_READS=${BENCH_READS:-200}" \
		--env "BENCH_ROUNDS=${BENCH_ROUNDS:-5}" >/dev/null

	grep -a '^BENCH' "$work/$release.log" | sed 's/^BENCH //'
	grep -a '^BENCH round' "$work/$release.log" | awk -v rel="$release" -v reads="${BENCH_READS:-200}" '
		{ a += $5; b += $7; n++; ratio[n] = ($7 > 0) ? $5 / $7 : 0 }
		END {
			# Median of the per-round ratios: a noisy round on a shared host moves it least.
			for (i = 1; i <= n; i++)
				for (j = i + 1; j <= n; j++)
					if (ratio[j] < ratio[i]) { t = ratio[i]; ratio[i] = ratio[j]; ratio[j] = t }
			med = (n % 2) ? ratio[(n + 1) / 2] : (ratio[n / 2] + ratio[n / 2 + 1]) / 2
			printf "%s: /proc/netmon %.2f ms/read, /proc/net/dev %.2f ms/read, ratio %.2fx (median of %d rounds; total %.2fx); budget <= 1.20x: %s\n",
				rel, a * 1000 / (n * reads), b * 1000 / (n * reads), med, n, a / b,
				(med <= 1.2) ? "met" : "MISSED"
		}'
done
