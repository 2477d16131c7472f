#!/usr/bin/env bash
# config/openwrt/Makefile evaluated by GNU make against stubs of OpenWrt's
# include files (tests/cross/openwrt/: no OpenWrt SDK can be fetched here).
# The stubs echo every command with its arguments in <>; the checks are on
# what the Makefile computes for a big-endian MIPS target (ath79-like), a
# little-endian ARM one and a little-endian MIPS one (ramips-like), and that
# an ARCH contradicting CONFIG_BIG_ENDIAN is refused.
#
# usage: openwrt-makefile.sh SOURCE_DIR
set -euo pipefail
src=$(cd "${1:?usage: openwrt-makefile.sh SOURCE_DIR}" && pwd)
stubs=$src/tests/cross/openwrt
makefile=$src/config/openwrt/Makefile
failures=0
fail() { echo "openwrt-makefile: FAIL: $*" >&2; failures=$((failures + 1)); }

owrt() {  # ARCH CONFIG_BIG_ENDIAN TARGET_CROSS TARGETS...
	local arch=$1 be=$2 cross=$3
	shift 3
	make -s --no-print-directory -f "$makefile" TOPDIR="$stubs" NETMON_SOURCE_DIR="$src" \
		ARCH="$arch" CONFIG_BIG_ENDIAN="$be" TARGET_CROSS="$cross" "$@"
}
has() {  # NAME OUTPUT LINE: OUTPUT has LINE as a whole line
	grep -qxF -- "$3" <<<"$2" || fail "$1: no line '$3' in:"$'\n'"$2"
}
has_in() {  # NAME OUTPUT PATTERN WORD: the line matching PATTERN has WORD
	local line
	line=$(grep -E -- "$3" <<<"$2" | head -n1)
	[ -n "$line" ] || { fail "$1: no line matching '$3'"; return; }
	grep -qF -- "$4" <<<"$line" || fail "$1: '$4' missing from: $line"
}

check_target() {  # NAME ARCH CONFIG_BIG_ENDIAN TARGET_CROSS BYTE_ORDER BPF_TARGET KARCH
	local name=$1 arch=$2 be=$3 cross=$4 order=$5 bpf=$6 karch=$7 out vars pkg_dir tc staging
	out=$(owrt "$arch" "$be" "$cross" compile) || { fail "$name: make compile failed"; return; }
	vars=$(owrt "$arch" "$be" "$cross" print-NETMON_BPF_TARGET print-NETMON_BPF_BYTE_ORDER \
		print-PKG_BUILD_DIR print-stub-packages print-stub-kmods print-stub-kmod-files \
		print-stub-kmod-autoload print-stub-package-depends) || { fail "$name: make print failed"; return; }
	pkg_dir=$(sed -n 's/^PKG_BUILD_DIR=//p' <<<"$vars")
	tc=$stubs/staging_dir/toolchain-$arch
	staging=$stubs/staging_dir/target-$arch
	has "$name" "$vars" "NETMON_BPF_TARGET=$bpf"
	has "$name" "$vars" "NETMON_BPF_BYTE_ORDER=$order"
	has "$name" "$vars" "stub-packages=netmon-agent"
	has "$name" "$vars" "stub-kmods=netmon-proc"
	has "$name" "$vars" "stub-kmod-files=$pkg_dir/kmod/netmon_proc.ko"
	has "$name" "$vars" "stub-kmod-autoload=autoprobe(netmon_proc)"
	has_in "$name" "$vars" '^stub-package-depends=' '+libbpf'
	# The agent: CMake with the target's compilers and the target's byte order;
	# the BPF flags stay one argument.
	has_in "$name" "$out" '^<cmake>' "<-DCMAKE_C_COMPILER=${cross}gcc>"
	has_in "$name" "$out" '^<cmake>' "<-DCMAKE_CXX_COMPILER=${cross}g++>"
	has_in "$name" "$out" '^<cmake>' "<-DNETMON_BPF_BYTE_ORDER=$order>"
	has_in "$name" "$out" '^<cmake>' "<-DNETMON_BPF_CFLAGS=-I$staging/usr/include -idirafter $tc/include>"
	has_in "$name" "$out" '^<cmake>' "<-DBPF_CLANG=$stubs/staging_dir/host/llvm-bpf/bin/clang>"
	has_in "$name" "$out" '^<cmake>' "<-DBUILD_TESTING=OFF>"
	# The module: Kbuild through $(KERNEL_MAKE), the target kernel's ARCH
	# and cross compiler, on the copied kmod/.
	has "$name" "$out" "<make> <-C> <$stubs/build_dir/target-$arch/linux-6.6.60> <CROSS_COMPILE=$cross> <ARCH=$karch> <M=$pkg_dir/kmod> <modules> "
	# Build/Prepare copies what the CMake build and Kbuild read, and all of it exists.
	local copy
	copy=$(grep -E '^<cp>' <<<"$out" | head -n1)
	for need in CMakeLists.txt agent bpf cmake include kmod config; do
		grep -qF "<$src/$need>" <<<"$copy" || fail "$name: Build/Prepare does not copy $need"
	done
	for word in $copy; do
		word=${word#<}
		word=${word%>}
		case "$word" in
		"$stubs"/*) ;; # the destination
		"$src"/*) [ -e "$word" ] || fail "$name: Build/Prepare copies missing $word" ;;
		esac
	done
	# The installed files exist in the tree.
	has_in "$name" "$out" 'netmon\.uci' "<$pkg_dir/config/netmon.uci>"
	for f in config/netmon.uci config/netmon-agent.init kmod/Kbuild; do
		[ -f "$src/$f" ] || fail "$name: $f is installed or built but missing from the tree"
	done
	echo "openwrt-makefile: $name: $bpf, ARCH=$karch, CROSS_COMPILE=$cross"
}

check_target "mips BE (ath79)" mips y mips-openwrt-linux-musl- BIG_ENDIAN bpfeb mips
check_target "arm LE (ipq40xx)" arm "" arm-openwrt-linux-muslgnueabi- LITTLE_ENDIAN bpfel arm
check_target "mipsel LE (ramips)" mipsel "" mipsel-openwrt-linux-musl- LITTLE_ENDIAN bpfel mips
check_target "aarch64 LE (mediatek)" aarch64 "" aarch64-openwrt-linux-musl- LITTLE_ENDIAN bpfel arm64

# A target whose ARCH contradicts CONFIG_BIG_ENDIAN is refused, with the reason.
for bad in "mips:" "arm:y"; do
	arch=${bad%%:*} be=${bad#*:}
	if err=$(owrt "$arch" "$be" x- print-NETMON_BPF_TARGET 2>&1); then
		fail "ARCH=$arch CONFIG_BIG_ENDIAN='$be' accepted: $err"
	else
		grep -qF "netmon: ARCH=$arch but CONFIG_BIG_ENDIAN='$be'" <<<"$err" ||
			fail "ARCH=$arch CONFIG_BIG_ENDIAN='$be': unexpected error: $err"
	fi
done
echo "openwrt-makefile: contradicting ARCH/CONFIG_BIG_ENDIAN refused"

[ "$failures" -eq 0 ] || { echo "openwrt-makefile: $failures failure(s)" >&2; exit 1; }
echo "openwrt-makefile: OK"
