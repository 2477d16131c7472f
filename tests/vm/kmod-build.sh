#!/usr/bin/env bash
# usage: kmod-build.sh KDIR OUTDIR
# Builds netmon_proc.ko against the kernel headers in KDIR with W=1, in a
# copy of the sources under OUTDIR (Kbuild writes next to the sources), for
# the VM tests (kmod-test.sh, agent-test.sh). Leaves OUTDIR/kmod/netmon_proc.ko
# and OUTDIR/make.log. Exits 1 if the build fails (the log is printed) and 3
# if it succeeds with compiler warnings (they are printed).
set -euo pipefail

kdir=${1:?usage: kmod-build.sh KDIR OUTDIR}
out=${2:?usage: kmod-build.sh KDIR OUTDIR}
repo=$(cd "$(dirname "$0")/../.." && pwd)

mkdir -p "$out/kmod" "$out/include"
cp "$repo"/kmod/{netmon_proc.c,Kbuild,Makefile} "$out/kmod/"
cp -r "$repo/include/netmon" "$out/include/"
if ! make -C "$out/kmod" KDIR="$kdir" W=1 >"$out/make.log" 2>&1; then
	cat "$out/make.log" >&2
	echo "kmod-build: build against $kdir failed" >&2
	exit 1
fi
if grep -i 'warning' "$out/make.log" >&2; then
	echo "kmod-build: the W=1 build against $kdir warns" >&2
	exit 3
fi
