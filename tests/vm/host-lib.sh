# shellcheck shell=bash
# Sourced by the host side of the VM tests (vm-test.sh).
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

# Checks the tools a VM test of architecture $1 needs, then sets $release
# (the kernel of $1 $series).
require_vm_prereqs() {
	local tool qemu
	case "$1" in
	amd64) qemu="qemu-system-x86_64" ;;
	arm64) qemu="qemu-system-aarch64" ;;
	*) qemu="qemu-system-$1" ;;
	esac
	for tool in "$qemu" cpio readelf make gcc; do
		command -v "$tool" >/dev/null || missing "$tool not found (run ci/deps)"
	done
	if [ "$1" = amd64 ]; then
		for tool in ip tc insmod rmmod bpftool jq; do
			command -v "$tool" >/dev/null || missing "$tool not found (run ci/deps)"
		done
		[ -x /bin/busybox ] || missing "/bin/busybox not found (run ci/deps)"
	fi
	release=$("$repo/ci/vm-kernels" release "$1" "$series" 2>/dev/null) || true
	[ -n "$release" ] || missing "ci/vm-kernels resolves no $1 kernel for series '$series'"
}
