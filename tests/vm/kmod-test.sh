#!/usr/bin/env bash
# usage: kmod-test.sh SERIES      (a series from ci/vm-kernels list: 6.1, 6.12)
# Builds netmon_proc.ko against that kernel's headers with W=1, where any
# warning fails the test, then boots the kernel and runs kmod-guest.sh.
# A missing prerequisite skips the test (exit 77), or fails it when CI=true.
set -euo pipefail

series=${1:?usage: kmod-test.sh SERIES}
here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/../.." && pwd)

missing() {
	if [ "${CI:-}" = true ]; then
		echo "kmod-test $series: $* (CI=true, so this fails)" >&2
		exit 1
	fi
	echo "kmod-test $series: skipped: $*"
	exit 77
}

for tool in qemu-system-x86_64 cpio make gcc ip insmod rmmod; do
	command -v "$tool" >/dev/null || missing "$tool not found (run ci/deps)"
done
[ -x /bin/busybox ] || missing "/bin/busybox not found (run ci/deps)"
release=$("$repo/ci/vm-kernels" list 2>/dev/null | awk -v s="$series" '$1 == s { print $2 }') || true
[ -n "$release" ] || missing "ci/vm-kernels resolves no kernel for series '$series'"
kdir=/usr/src/linux-headers-$release
[ -f "$kdir/Makefile" ] || missing "no headers in $kdir (run ci/vm-kernels install-headers)"

build=$(mktemp -d "${TMPDIR:-/tmp}/kmod-build.XXXXXX")
trap 'rm -rf "$build"' EXIT
if ! "$here/kmod-build.sh" "$kdir" "$build"; then
	echo "kmod-test $series: netmon_proc.ko does not build cleanly against $kdir" >&2
	exit 1
fi

rc=0
"$here/run-vm.sh" --kernel "$release" --script "$here/kmod-guest.sh" \
	--module "$build/kmod/netmon_proc.ko" --binary "$(command -v ip)" \
	--binary "$(command -v insmod)" --binary "$(command -v rmmod)" \
	--timeout "${NETMON_VM_TIMEOUT:-150}" || rc=$?
[ "$rc" -ne 2 ] || missing "run-vm.sh could not prepare the VM"
exit "$rc"
