# shellcheck shell=bash
# Sourced by the host side of the VM tests (kmod-test.sh, agent-test.sh).
# Expects $test_name, $series and $repo to be set.
# shellcheck disable=SC2154

# A prerequisite is missing: skip (77), except in CI, where it fails.
missing() {
	if [ "${CI:-}" = true ]; then
		echo "$test_name $series: $* (CI=true, so this fails)" >&2
		exit 1
	fi
	echo "$test_name $series: skipped: $*"
	exit 77
}

# Checks the tools every VM test needs plus "$@", then sets $release (the
# kernel of $series) and $kdir (its headers).
require_vm_prereqs() {
	local tool
	for tool in qemu-system-x86_64 cpio make gcc ip insmod rmmod "$@"; do
		command -v "$tool" >/dev/null || missing "$tool not found (run ci/deps)"
	done
	[ -x /bin/busybox ] || missing "/bin/busybox not found (run ci/deps)"
	release=$("$repo/ci/vm-kernels" release amd64 "$series" 2>/dev/null) || true
	[ -n "$release" ] || missing "ci/vm-kernels resolves no kernel for series '$series'"
	kdir=/usr/src/linux-headers-$release
	[ -f "$kdir/Makefile" ] || missing "no headers in $kdir (run ci/vm-kernels install-headers)"
}
