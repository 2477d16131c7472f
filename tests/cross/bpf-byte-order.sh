#!/usr/bin/env bash
# The big-endian build of the BPF programs, checked on this (little-endian)
# host where nothing can load it:
#  1. the bytes the big-endian skeleton embeds are the bpfeb object, byte for
#     byte, and that object is a big-endian ELF (EI_DATA == ELFDATA2MSB);
#  2. it is the same program as the little-endian one, modulo byte order:
#     the bpfel object built with the big-endian value of __BYTE_ORDER__ (so
#     bpf_ntohs() and friends compile as they do for the target) disassembles
#     to the same instructions and relocations, and every instruction's
#     encoding differs exactly as the two byte orders dictate (register
#     nibbles swapped, offset and immediate reversed);
#  3. the little-endian object (what the host build embeds) is ELFDATA2LSB.
#
# usage: bpf-byte-order.sh SKEL_BYTES BE_OBJECT LE_OBJECT CLANG SOURCE CFLAGS...
set -euo pipefail
dump=$1 be=$2 le=$3 clang=$4 source=$5
shift 5
tmp=$(mktemp -d /tmp/netmon-byteorder.XXXXXX)
trap 'rm -rf "$tmp"' EXIT
fail() { echo "bpf-byte-order: FAIL: $*" >&2; exit 1; }

ei_data() { od -An -tu1 -j5 -N1 "$1" | tr -d ' '; }

"$dump" >"$tmp/embedded.o"
cmp -s "$tmp/embedded.o" "$be" || fail "the skeleton embeds $(stat -c %s "$tmp/embedded.o") bytes that are not $be"
[ "$(ei_data "$be")" = 2 ] || fail "$be: EI_DATA $(ei_data "$be"), want 2 (ELFDATA2MSB)"
[ "$(ei_data "$le")" = 1 ] || fail "$le: EI_DATA $(ei_data "$le"), want 1 (ELFDATA2LSB)"
echo "embedded object: $(stat -c %s "$be") bytes, ELFDATA2MSB, identical to $be"

"$clang" -target bpfel -U__BYTE_ORDER__ -D__BYTE_ORDER__=__ORDER_BIG_ENDIAN__ "$@" \
	-c "$source" -o "$tmp/le-as-be.o"
listing() {  # OBJECT [--no-show-raw-insn]: disassembly and relocations, no header
	llvm-objdump -d -r "${@:2}" "$1" | sed '1,/file format/d'
}
listing "$be" --no-show-raw-insn >"$tmp/be.dis"
listing "$tmp/le-as-be.o" --no-show-raw-insn >"$tmp/le.dis"
insns=$(grep -cE '^ +[0-9]+:' "$tmp/be.dis" || true)
[ "$insns" -gt 20 ] || fail "only $insns instructions in $be"
diff -u "$tmp/le.dis" "$tmp/be.dis" >"$tmp/diff" || fail "bpfel and bpfeb programs differ: $(head -20 "$tmp/diff")"

# Encodings: one line per instruction with its raw bytes, in both objects.
raw() { listing "$1" | sed -n 's/^ *[0-9]*:\t\(\([0-9a-f][0-9a-f] \)*[0-9a-f][0-9a-f]\)\t.*/\1/p'; }
raw "$be" >"$tmp/be.raw"
raw "$tmp/le-as-be.o" >"$tmp/le.raw"
[ "$(wc -l <"$tmp/be.raw")" -eq "$insns" ] || fail "could not read the raw encoding of $be"
# struct bpf_insn { u8 code; u8 dst_reg:4, src_reg:4; s16 off; s32 imm; }:
# bit-fields and integers in the object's byte order (16-byte lddw: twice).
awk '{
	out = ""
	for (i = 1; i <= NF; i += 8) {
		regs = substr($(i + 1), 2, 1) substr($(i + 1), 1, 1)
		out = out sprintf("%s %s %s %s %s %s %s %s ", $i, regs, $(i + 3), $(i + 2),
			$(i + 7), $(i + 6), $(i + 5), $(i + 4))
	}
	sub(/ $/, "", out)
	print out
}' "$tmp/le.raw" >"$tmp/le-swapped.raw"
diff -q "$tmp/le-swapped.raw" "$tmp/be.raw" >/dev/null ||
	fail "encodings differ beyond byte order: $(diff "$tmp/le-swapped.raw" "$tmp/be.raw" | head -6)"
echo "same program in both byte orders: $insns instructions, encodings differ only by byte order"
