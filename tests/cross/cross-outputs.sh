#!/usr/bin/env bash
# What ci/cross-build ARCH left in build-cross/ARCH, checked on this host:
#  - the agent is a static executable for ARCH (ELF class, byte order and
#    machine), and the BPF object embedded in it is in ARCH's byte order
#    (a bpfel object in an s390x agent is what this whole exercise prevents);
#  - under qemu-user it runs: --version (which hashes the embedded object),
#    --help, and --netdev as far as qemu's netlink translation allows;
#  - every module is for ARCH and the kernel release its directory names
#    (vermagic), one per release `ci/vm-kernels list ARCH` prints.
# Skips (exit 77) when ci/cross-build ARCH has not been run.
#
# usage: cross-outputs.sh SOURCE_DIR ARCH VERSION
set -euo pipefail
src=$1 arch=$2 version=$3
out=${NETMON_CROSS_DIR:-$src/build-cross}/$arch
fail() { echo "cross-outputs($arch): FAIL: $*" >&2; exit 1; }
note() { echo "cross-outputs($arch): $*"; }

case "$arch" in
arm64) class=2 data=1 machine=AArch64 qemu=aarch64 ;;
s390x) class=2 data=2 machine='IBM S/390' qemu=s390x ;;
mipsel) class=1 data=1 machine=MIPS qemu=mipsel ;;
amd64) class=2 data=1 machine='Advanced Micro Devices X86-64' qemu= ;;
*) fail "unknown architecture $arch" ;;
esac
byte() { od -An -tu1 -j"$2" -N1 "$1" | tr -d ' '; }
elf_machine() { readelf -h "$1" | sed -n 's/^ *Machine: *//p'; }

bin=$out/agent/netmon-agent
checked=0
if [ "$arch" != amd64 ]; then
	[ -x "$bin" ] || { echo "cross-outputs($arch): SKIP: no $bin (run ci/cross-build $arch)"; exit 77; }
	[ "$(byte "$bin" 4)" = "$class" ] || fail "$bin: EI_CLASS $(byte "$bin" 4), want $class"
	[ "$(byte "$bin" 5)" = "$data" ] || fail "$bin: EI_DATA $(byte "$bin" 5), want $data"
	[[ "$(elf_machine "$bin")" == "$machine"* ]] || fail "$bin: machine $(elf_machine "$bin"), want $machine"
	readelf -l "$bin" | grep -q 'INTERP' && fail "$bin has a program interpreter: not static"
	readelf -d "$bin" 2>/dev/null | grep -q NEEDED && fail "$bin needs shared libraries"

	# Embedded ELF objects for EM_BPF (247): their EI_DATA must be ARCH's.
	bpf_objects=0
	while IFS=: read -r offset _; do
		[ "$offset" -gt 0 ] || continue
		d=$(byte "$bin" $((offset + 5)))
		if [ "$d" = 1 ]; then m=$(( $(byte "$bin" $((offset + 18))) + 256 * $(byte "$bin" $((offset + 19))) ))
		else m=$(( 256 * $(byte "$bin" $((offset + 18))) + $(byte "$bin" $((offset + 19))) )); fi
		[ "$m" = 247 ] || continue
		bpf_objects=$((bpf_objects + 1))
		[ "$d" = "$data" ] || fail "$bin embeds a BPF object at $offset with EI_DATA $d, want $data"
	done < <(LC_ALL=C grep -obUaP '\x7fELF' "$bin")
	[ "$bpf_objects" -ge 1 ] || fail "$bin embeds no BPF object"
	note "$bin: static, $(stat -c %s "$bin") bytes, $bpf_objects embedded BPF object(s) with EI_DATA $data"

	emu=$(command -v "qemu-$qemu-static" || command -v "qemu-$qemu" || true)
	[ -n "$emu" ] || fail "no qemu-$qemu (run ci/cross-deps $arch)"
	v=$("$emu" "$bin" --version 2>&1) || fail "--version under $emu: $v"
	grep -qF "$version" <<<"$v" || fail "--version says '$v', want $version"
	h=$("$emu" "$bin" --help 2>&1) || fail "--help under $emu: $h"
	grep -qF -- '--bpf' <<<"$h" || fail "--help does not mention --bpf"
	# qemu-user translates only some netlink messages: RTM_GETSTATS comes back
	# EOPNOTSUPP, so a snapshot is expected to fail here, with the agent's
	# one-line error and exit 1 (not a crash); the VM tests take real ones.
	rc=0
	snap=$("$emu" "$bin" --netdev --count 1 lo 2>"$out/qemu-netdev.err") || rc=$?
	if [ "$rc" -eq 0 ]; then
		grep -q '"lo"' <<<"$snap" || fail "--netdev snapshot under $emu has no lo: $snap"
		note "under $(basename "$emu"): --version, --help and a --netdev snapshot of lo"
	else
		[ "$rc" -eq 1 ] || fail "--netdev under $emu: exit $rc: $(cat "$out/qemu-netdev.err")"
		grep -qx 'netmon-agent: error: rtnetlink request failed: Operation not supported' \
			"$out/qemu-netdev.err" || fail "--netdev under $emu: $(cat "$out/qemu-netdev.err")"
		note "under $(basename "$emu"): --version, --help; --netdev stops at qemu-user's netlink (EOPNOTSUPP), exit 1"
	fi
	checked=1
fi

releases=$("$src/ci/vm-kernels" list "$arch" 2>/dev/null | awk -v a="$arch" '$1 == a { print $3 }') || true
if [ -z "$releases" ]; then
	[ "$checked" = 1 ] || { echo "cross-outputs($arch): SKIP: ci/vm-kernels list gives no release"; exit 77; }
	note "ci/vm-kernels list gives no release: modules not checked"
	exit 0
fi
for rel in $releases; do
	ko=$out/kmod/$rel/netmon_proc.ko
	[ -f "$ko" ] || { [ "$checked" = 1 ] && fail "no $ko (ci/cross-build $arch)"; echo "cross-outputs($arch): SKIP: no $ko"; exit 77; }
	vermagic=$(modinfo -F vermagic "$ko")
	[ "${vermagic%% *}" = "$rel" ] || fail "$ko: vermagic '$vermagic'"
	[[ "$(elf_machine "$ko")" == "$machine"* ]] || fail "$ko: machine $(elf_machine "$ko")"
	[ "$(byte "$ko" 5)" = "$data" ] || fail "$ko: EI_DATA $(byte "$ko" 5)"
	note "$ko: $rel, $machine"
done
