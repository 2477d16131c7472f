#!/usr/bin/env bash
# usage: guest-userland.sh ARCH
# Prints the root of an unpacked Debian 12 userland for ARCH (arm64, s390x,
# mipsel, ...) holding what the VM tests run in the guest: busybox-static,
# iproute2 (ip, tc), kmod (insmod, rmmod), bpftool, jq and the library
# packages they depend on, resolved from Debian's own Depends (lib* and
# zlib* only: debconf, dpkg and the like are never run). run-vm.sh copies binaries out
# of it with the libraries their ELF NEEDED entries name.
# Downloaded through ci/target-apt and unpacked once under
# ${NETMON_CACHE:-/var/cache/netmon}/guest/ARCH/root; redone when the apt
# indexes change (a newer package may have new dependencies).
set -euo pipefail

arch=${1:?usage: guest-userland.sh ARCH}
repo=$(cd "$(dirname "$0")/../.." && pwd)
cache=${NETMON_CACHE:-/var/cache/netmon}
dir=$cache/guest/$arch
tapt=$repo/ci/target-apt

die() { echo "guest-userland: $*" >&2; exit 1; }

[[ "$arch" =~ ^[a-z0-9]+$ ]] || die "bad architecture '$arch'"
"$tapt" update >&2 || die "ci/target-apt update failed"
if [ -f "$dir/.done" ] && [ "$dir/.done" -nt "$cache/apt/updated" ]; then
	echo "$dir/root"
	exit 0
fi

mkdir -p "$dir"
exec 9>"$dir/.lock"
flock 9
# Another run may have finished it while this one waited.
if [ -f "$dir/.done" ] && [ "$dir/.done" -nt "$cache/apt/updated" ]; then
	echo "$dir/root"
	exit 0
fi

# The closure of the tools' lib* dependencies, one apt-cache call per level
# (apt-cache takes seconds per call on five architectures' indexes).
want=(busybox-static iproute2 kmod bpftool jq)
declare -A seen=()
for p in "${want[@]}"; do seen[$p]=1; done
level=("${want[@]}")
while [ ${#level[@]} -gt 0 ]; do
	next=()
	while read -r dep; do
		[ -z "${seen[$dep]:-}" ] || continue
		seen[$dep]=1
		next+=("$dep")
	done < <("$tapt" apt-cache depends "${level[@]/%/:$arch}" 2>/dev/null |
		sed -n 's/^ *|\{0,1\}\(Pre\)\{0,1\}Depends: \(\(lib\|zlib\)[a-z0-9.+-]*\)\(:[a-z0-9]*\)\{0,1\}$/\2/p' | sort -u)
	level=("${next[@]}")
done
mapfile -t pkgs < <(printf '%s\n' "${!seen[@]}" | sort)

# One apt-get download for all of them, with ci/target-apt's configuration.
rm -rf "$dir/debs" "$dir/root"
mkdir -p "$dir/debs" "$dir/root"
(cd "$dir/debs" && APT_CONFIG=$cache/apt/apt.conf apt-get download -qq "${pkgs[@]/%/:$arch}" >/dev/null) ||
	die "could not download ${pkgs[*]} for $arch"
for deb in "$dir"/debs/*.deb; do dpkg-deb -x "$deb" "$dir/root"; done
rm -rf "$dir/debs"
printf '%s\n' "${pkgs[@]}" >"$dir/packages"
touch "$dir/.done"
echo "$dir/root"
