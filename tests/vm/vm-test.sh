#!/usr/bin/env bash
# usage: vm-test.sh ARCH SERIES [--agent PATH] [--results DIR] [--timeout S]
# One VM per architecture x kernel (run-vm.sh): the same guest scripts on
# every one, in one boot (a second boot would only repeat the kernel's
# start-up, 3-30 s under TCG):
#   agent-guest.sh  netmon-agent's --proc all, --compare exact at rest,
#                   --bpf exact for known traffic, the attach mode this
#                   kernel must get (legacy tc before 6.6, tcx after),
#                   nothing left attached, a clean kernel log;
#   kmod-guest.sh   netmon_proc.ko's contract.
# ARCH SERIES is a line of `ci/vm-kernels list` (amd64 6.1, arm64 6.12, ...).
#
# The agent: --agent PATH (the host build) on amd64, else ci/cross-build's
# static build-cross/ARCH/agent/netmon-agent. The module: built here against
# the host's headers with W=1 (any warning fails) when they are installed
# (amd64 6.1 and 6.12, ci/vm-kernels install-headers), else ci/cross-build's
# build-cross/ARCH/kmod/RELEASE/netmon_proc.ko. NETMON_CROSS_DIR overrides
# build-cross/.
#
# With --results DIR, writes DIR/ARCH-SERIES.row (tab-separated: arch,
# kernel release, attach mode, module contract, compare exact, bpf exact,
# "agent bytes[/stripped bytes] linkage", boot+test seconds, JIT or
# interpreter), even for a
# failure, and keeps
# the console log beside it; results-table.sh renders the rows.
# A missing prerequisite skips the test (exit 77), or fails it when CI=true.
set -euo pipefail

arch=${1:?usage: vm-test.sh ARCH SERIES [--agent PATH] [--results DIR] [--timeout S]}
series=${2:?usage: vm-test.sh ARCH SERIES [--agent PATH] [--results DIR] [--timeout S]}
shift 2
here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/../.." && pwd)
cross=${NETMON_CROSS_DIR:-$repo/build-cross}

agent="" results="" timeout=${NETMON_VM_TIMEOUT:-300}
while [ $# -gt 0 ]; do
	case "$1" in
	--agent) agent=${2:?}; shift ;;
	--results) results=${2:?}; shift ;;
	--timeout) timeout=${2:?}; shift ;;
	*) echo "vm-test: unknown option '$1'" >&2; exit 2 ;;
	esac
	shift
done

case "$arch" in
amd64 | arm64 | s390x | mipsel) ;;
*) echo "vm-test: unknown architecture '$arch' (amd64, arm64, s390x, mipsel)" >&2; exit 2 ;;
esac
test_name="vm-test $arch"
# shellcheck source=SCRIPTDIR/host-lib.sh
. "$here/host-lib.sh"
require_vm_prereqs "$arch"

case "$series" in
5.* | 6.[0-5]) attach=tc ;; # tcx arrived in 6.6
*) attach=tcx ;;
esac

work=$(mktemp -d "${TMPDIR:-/tmp}/vm-test.XXXXXX")
trap 'rm -rf "$work"' EXIT

if [ "$arch" != amd64 ]; then
	agent=$cross/$arch/agent/netmon-agent
	[ -f "$agent" ] || missing "no $agent (run ci/cross-build $arch)"
fi
if [ -z "$agent" ] || [ ! -x "$agent" ]; then missing "netmon-agent '$agent' not built"; fi

# The "upgraded" object of the --pin step, in the agent's byte order: the
# variant its own build made beside it (ci/cross-build builds it too).
variant=$(dirname "$(dirname "$agent")")/bpf/netmon_variant.bpf.o
[ -f "$variant" ] || missing "no $variant (build target netmon_variant_skel_gen)"

kdir=/usr/src/linux-headers-$release
if [ "$arch" = amd64 ] && [ -f "$kdir/Makefile" ]; then
	if ! "$here/kmod-build.sh" "$kdir" "$work"; then
		echo "$test_name $series: netmon_proc.ko does not build cleanly (W=1) against $kdir" >&2
		exit 1
	fi
	ko=$work/kmod/netmon_proc.ko
else
	ko=$cross/$arch/kmod/$release/netmon_proc.ko
	[ -f "$ko" ] || missing "no $ko (run ci/cross-build $arch)"
fi

# The size a router would ship: ci/cross-build's stripped copy, when it is
# of the same build; the binary that ran is the unstripped one.
size=$(stat -c %s "$agent")
stripped=$(dirname "$(dirname "$agent")")/netmon-agent.stripped
if [ "$arch" != amd64 ] && [ -f "$stripped" ] && [ ! "$agent" -nt "$stripped" ]; then
	size="$size/$(stat -c %s "$stripped")"
fi
if readelf -l "$agent" 2>/dev/null | grep -q 'program interpreter'; then
	linkage=dynamic
else
	linkage=static
fi

log=$work/console.log
[ -z "$results" ] || { mkdir -p "$results"; log=$results/$arch-$series.log; }
rc=0
"$here/run-vm.sh" --arch "$arch" --kernel "$release" \
	--script "$here/agent-guest.sh" --script "$here/kmod-guest.sh" \
	--module "$ko" --binary "$agent" --file "$variant:/netmon-vm/netmon_variant.bpf.o" \
	--tool ip --tool tc --tool insmod --tool rmmod --tool bpftool --tool jq \
	--kmod sch_ingress --kmod cls_bpf --env NETMON_EXPECT_ATTACH="$attach" \
	--timeout "$timeout" --log "$log" --stats "$work/stats" || rc=$?
[ "$rc" -ne 2 ] || missing "run-vm.sh could not prepare the VM"

# The row: what each guest script proved, from its own lines in the log.
step_of() {
	if grep -aq "^NETMON-VM: STEP $1 PASS" "$log"; then echo pass; else echo FAIL; fi
}
result_of() {
	local v
	v=$(sed -n "s/^NETMON-RESULT: $1 //p" "$log" | tail -n1)
	echo "${v:-FAIL}"
}
secs=$(sed -n 's/^secs=//p' "$work/stats" 2>/dev/null)
if [ -n "$results" ]; then
	printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$arch" "$release" "$(result_of attach)" \
		"$(step_of kmod-guest)" "$(result_of compare_exact)" "$(result_of bpf_exact)" \
		"$size $linkage" "${secs:-?}" "$(result_of bpf_exec)" >"$results/$arch-$series.row"
fi
exit "$rc"
