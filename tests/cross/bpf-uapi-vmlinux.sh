#!/usr/bin/env bash
# The counting programs read only __sk_buff/xdp_md context fields, so they
# are built against the UAPI headers. This checks that doing so changes
# nothing: each bpf/*.bpf.c compiled against a vmlinux.h generated from this
# kernel's BTF (vmlinux/generate.sh) and against the UAPI headers gives the
# same instructions and relocations, in both byte orders.
# Skips (exit 77) on a kernel without BTF.
#
# usage: bpf-uapi-vmlinux.sh SOURCE_DIR CLANG CFLAGS...
set -euo pipefail
src=$1 clang=$2
shift 2
btf=${NETMON_BTF:-/sys/kernel/btf/vmlinux}
[ -r "$btf" ] || { echo "bpf-uapi-vmlinux: SKIP: no kernel BTF at $btf"; exit 77; }
tmp=$(mktemp -d /tmp/netmon-uapi.XXXXXX)
trap 'rm -rf "$tmp"' EXIT
fail() { echo "bpf-uapi-vmlinux: FAIL: $*" >&2; exit 1; }

"$src/vmlinux/generate.sh" "$btf" "$tmp/vmlinux.h" >/dev/null
[ "$(wc -l <"$tmp/vmlinux.h")" -gt 1000 ] || fail "generate.sh wrote a near-empty vmlinux.h"

listing() { llvm-objdump -d -r --no-show-raw-insn "$1" | sed '1,/file format/d'; }
for source in "$src"/bpf/*.bpf.c; do
	name=$(basename "$source" .bpf.c)
	for target in bpfel bpfeb; do
		"$clang" -target "$target" "$@" -c "$source" -o "$tmp/$name.uapi.o"
		"$clang" -target "$target" "$@" -DNETMON_VMLINUX_H -I"$tmp" -c "$source" -o "$tmp/$name.vmlinux.o"
		listing "$tmp/$name.uapi.o" >"$tmp/uapi.dis"
		listing "$tmp/$name.vmlinux.o" >"$tmp/vmlinux.dis"
		insns=$(grep -cE '^ +[0-9]+:' "$tmp/uapi.dis" || true)
		[ "$insns" -gt 0 ] || fail "$name ($target): no instructions"
		diff -u "$tmp/vmlinux.dis" "$tmp/uapi.dis" >"$tmp/diff" ||
			fail "$name ($target): UAPI and vmlinux.h builds differ: $(head -n 20 "$tmp/diff")"
		# The UAPI build must not have read a vmlinux.h by accident.
		grep -q 'NETMON_VMLINUX_H' "$source" || fail "$source has no NETMON_VMLINUX_H switch"
		echo "bpf-uapi-vmlinux: $name ($target): $insns instructions, identical"
	done
done
