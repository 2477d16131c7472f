#!/usr/bin/env bash
# Regenerates vmlinux/<arch>/vmlinux.h from a kernel's BTF. The header is
# committed so the BPF build never depends on the build host's kernel; CO-RE
# relocations make the one object run on other kernels.
#   vmlinux/generate.sh [BTF-FILE] [ARCH]   (defaults: /sys/kernel/btf/vmlinux, x86)
set -euo pipefail
btf=${1:-/sys/kernel/btf/vmlinux}
arch=${2:-x86}
out="$(dirname "$0")/$arch/vmlinux.h"
mkdir -p "$(dirname "$out")"
bpftool btf dump file "$btf" format c > "$out.tmp"
mv "$out.tmp" "$out"
echo "wrote $out from $btf ($(uname -r))"
