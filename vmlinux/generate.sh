#!/usr/bin/env bash
# Writes a vmlinux.h (every kernel type, from BTF) for BPF programs that read
# kernel structures through CO-RE. netmon's counting programs do not: they
# read only __sk_buff/xdp_md context fields and build against the UAPI
# headers (tests/cross/bpf-uapi-vmlinux.sh proves the instructions are the
# same as with a vmlinux.h, which it generates with this script). So no
# vmlinux.h is committed or used by the build.
#
# Types differ between architectures (and kernel configs): generate from the
# BTF of the target architecture's kernel, e.g. /sys/kernel/btf/vmlinux on a
# running target, or the vmlinux of Debian's linux-image-<release>-dbg for
# that architecture, and keep one header per architecture.
#   vmlinux/generate.sh [BTF-OR-VMLINUX [OUTPUT]]
#   (defaults: /sys/kernel/btf/vmlinux, vmlinux/<this machine's arch>/vmlinux.h)
set -euo pipefail
btf=${1:-/sys/kernel/btf/vmlinux}
case "$(uname -m)" in
x86_64 | i?86) arch=x86 ;;
aarch64) arch=arm64 ;;
s390x) arch=s390 ;;
mips*) arch=mips ;;
*) arch=$(uname -m) ;;
esac
out=${2:-$(dirname "$0")/$arch/vmlinux.h}
[ -r "$btf" ] || { echo "generate.sh: no BTF at $btf" >&2; exit 2; }
mkdir -p "$(dirname "$out")"
bpftool btf dump file "$btf" format c >"$out.tmp"
mv "$out.tmp" "$out"
echo "wrote $out from $btf"
