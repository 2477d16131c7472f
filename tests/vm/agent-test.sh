#!/usr/bin/env bash
# usage: agent-test.sh SERIES AGENT     (SERIES from ci/vm-kernels list: 6.1, 6.12)
# Runs the host-built netmon-agent AGENT inside a VM booted on that Debian
# kernel (run-vm.sh) with netmon_proc.ko built for it, and checks --compare,
# --proc and --bpf there (agent-guest.sh): the same BPF object on 6.1
# (clsact + tc filter) and 6.12 (tcx).
# NETMON_VM_LOG=FILE keeps the console log.
# A missing prerequisite skips the test (exit 77), or fails it when CI=true.
set -euo pipefail

series=${1:?usage: agent-test.sh SERIES AGENT}
agent=${2:?usage: agent-test.sh SERIES AGENT}
here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/../.." && pwd)

test_name="agent-test"
# shellcheck source=SCRIPTDIR/host-lib.sh
. "$here/host-lib.sh"

case "$series" in
6.1) attach=tc ;;   # no tcx before 6.6
*) attach=tcx ;;
esac

[ -x "$agent" ] || missing "netmon-agent '$agent' not built"
require_vm_prereqs tc bpftool jq

build=$(mktemp -d "${TMPDIR:-/tmp}/agent-vm.XXXXXX")
trap 'rm -rf "$build"' EXIT
# Warnings are kmod-test.sh's concern (exit 3): here the module only has to load.
krc=0
"$here/kmod-build.sh" "$kdir" "$build" >/dev/null || krc=$?
if [ "$krc" -ne 0 ] && [ "$krc" -ne 3 ]; then
	echo "agent-test $series: netmon_proc.ko does not build against $kdir" >&2
	exit 1
fi

# The guest has no modprobe for the kernel to load tc's modules on demand:
# clsact (sch_ingress) and cls_bpf are loaded up front, on 6.12 too, so that
# "no clsact while tcx runs" means the agent chose not to create one.
# NETMON_VM_LOG=FILE keeps the console log, for a look at a passing run.
log_opt=()
[ -z "${NETMON_VM_LOG:-}" ] || log_opt=(--log "$NETMON_VM_LOG")
rc=0
"$here/run-vm.sh" "${log_opt[@]}" --kernel "$release" --script "$here/agent-guest.sh" \
	--module "$build/kmod/netmon_proc.ko" --binary "$agent" \
	--binary "$(command -v ip)" --binary "$(command -v tc)" \
	--binary "$(command -v insmod)" --binary "$(command -v rmmod)" \
	--binary "$(command -v bpftool)" --binary "$(command -v jq)" \
	--kmod sch_ingress --kmod cls_bpf --env NETMON_EXPECT_ATTACH="$attach" \
	--timeout "${NETMON_VM_TIMEOUT:-150}" || rc=$?
[ "$rc" -ne 2 ] || missing "run-vm.sh could not prepare the VM"
exit "$rc"
