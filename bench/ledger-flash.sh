#!/usr/bin/env bash
# What --ledger writes to storage (issue 14, item 3): the agent books 10
# interfaces that all carry traffic (10 veth pairs, pings on each), saving
# every second for N saves, so N saves stand for N save intervals of any
# length (each save writes the changed rows of all 10 interfaces, WAL frames
# plus the checkpoints SQLite runs every ~1,000 WAL pages). Reads the agent's
# /proc/PID/io (write_bytes: what reached the block layer; wchar: what went to
# write(2)) and the file and WAL sizes, and extrapolates to one day at the
# default 5-minute interval (288 saves) and the procd script's 15 minutes
# (96). The database must be on a real file system (not tmpfs): $TMPDIR.
# A benchmark: it never fails on a figure.
#
# usage: sudo bench/ledger-flash.sh [BUILD_DIR]        (default: build)
# env:   NETMON_BENCH_SAVES (default 120), NETMON_BENCH_AGENT
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=bench/lib.sh
. "$here/lib.sh"

build=${1:-build}
saves=${NETMON_BENCH_SAVES:-120}
[ "$(id -u)" -eq 0 ] || bench_die "needs root (namespaces)"
agent=$(bench_agent "$build")

tag=$$
ns=nmf$tag peer=nmg$tag
work=$(mktemp -d "${TMPDIR:-/var/tmp}/netmon-ledger-flash.$tag.XXXXXX")
bench_cleanup_add "rm -rf '$work'"
[ "$(stat -f -c %T "$work")" != tmpfs ] || bench_die "$work is on tmpfs: set TMPDIR to a disk"
bench_netns_add "$ns"
bench_netns_add "$peer"
for i in $(seq 0 9); do
	ip -n "$ns" link add "f${tag}a$i" type veth peer name "f${tag}b$i" netns "$peer"
	ip -n "$ns" addr add "10.77.$i.1/24" dev "f${tag}a$i"
	ip -n "$peer" addr add "10.77.$i.2/24" dev "f${tag}b$i"
	ip -n "$ns" link set "f${tag}a$i" up
	ip -n "$peer" link set "f${tag}b$i" up
done

nsenter --net="/run/netns/$ns" -- "$agent" --netdev "f${tag}a*" --interval 1s -s -q \
	--listen 127.0.0.1:0 --ledger "$work/netmon.db" --save-interval 1s 2>"$work/err" &
pid=$!
bench_kill_on_exit "$pid" netmon-agent
for i in $(seq 0 9); do
	nsenter --net="/run/netns/$ns" -- ping -q -i 0.2 -s 200 "10.77.$i.2" >/dev/null 2>&1 &
	bench_kill_on_exit $! ping
done
sleep 3 # the file created, the first saves done
io() { awk -v k="$2:" '$1 == k { print $2 }' /proc/"$1"/io; }
w0=$(io "$pid" write_bytes) c0=$(io "$pid" wchar)
sleep "$saves"
w1=$(io "$pid" write_bytes) c1=$(io "$pid" wchar)
kill -TERM "$pid"
wait "$pid" || true
db=$(stat -c %s "$work/netmon.db")
wal=$(stat -c %s "$work/netmon.db-wal" 2>/dev/null || echo 0)
echo "# --ledger writes: 10 interfaces with traffic, $saves saves (--save-interval 1s)"
bench_caveat
awk -v w=$((w1 - w0)) -v c=$((c1 - c0)) -v n="$saves" -v db="$db" -v wal="$wal" 'BEGIN {
	printf "per save: write_bytes %.0f, wchar %.0f\n", w / n, c / n
	printf "per day at 5m (288 saves): write_bytes %.2f MiB, wchar %.2f MiB\n", w / n * 288 / 1048576, c / n * 288 / 1048576
	printf "per day at 15m (96 saves): write_bytes %.2f MiB, wchar %.2f MiB\n", w / n * 96 / 1048576, c / n * 96 / 1048576
	printf "file after the run: %d bytes, WAL %d bytes\n", db, wal
}'
