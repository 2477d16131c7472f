#!/usr/bin/env bash
# usage: kmod-test.sh SERIES      (a series from ci/vm-kernels list: 6.1, 6.12)
# Builds netmon_proc.ko against that kernel's headers with W=1, where any
# warning fails the test, then boots the kernel and runs kmod-guest.sh.
# A missing prerequisite skips the test (exit 77), or fails it when CI=true.
set -euo pipefail

series=${1:?usage: kmod-test.sh SERIES}
here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/../.." && pwd)

test_name="kmod-test"
# shellcheck source=SCRIPTDIR/host-lib.sh
. "$here/host-lib.sh"

require_vm_prereqs

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
