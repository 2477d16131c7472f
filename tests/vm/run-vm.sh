#!/usr/bin/env bash
# Boots one of Debian's kernels (ci/vm-kernels) under qemu (TCG) with a
# busybox initramfs, runs a guest script as root and exits by its verdict.
#
# usage: run-vm.sh --kernel SERIES|RELEASE --script GUEST.sh [options]
#   --module FILE.ko     copy to /netmon-vm/modules/ (the script loads it)
#   --kmod NAME          a module of that kernel, with its dependencies,
#                        loaded before the script runs (veth always is)
#   --binary PATH        host executable to /usr/local/bin/ (first on PATH),
#                        with its shared libraries and the dynamic loader
#   --file SRC:DST       any host file to DST in the guest
#   --env NAME=VALUE     exported to the script
#   --timeout SECONDS    whole VM run, boot included (default 150)
#   --log FILE           console log (default: a temporary file, kept on failure)
#   --verbose            stream the console while it runs
#
# The guest script runs from /netmon-vm with the helpers of guest-lib.sh and
# the --env variables already loaded. Its exit status 0 is the verdict
# "NETMON-VM: PASS"; anything else is "NETMON-VM: FAIL <reason>", with the
# reason given to fail() or the exit status.
# Kernels are unpacked once into ${NETMON_CACHE:-/var/cache/netmon}/kernels.
# Exits 0 on PASS, 1 on FAIL, timeout or a VM that gave no verdict, 2 on
# bad usage or a missing prerequisite.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/../.." && pwd)
cache=${NETMON_CACHE:-/var/cache/netmon}/kernels

die() { echo "run-vm: $*" >&2; exit 2; }

kernel="" script="" timeout=150 log="" verbose=0
modules=() kmods=(veth) binaries=() files=() envs=()
while [ $# -gt 0 ]; do
	case "$1" in
	--kernel) kernel=${2:?}; shift ;;
	--script) script=${2:?}; shift ;;
	--module) modules+=("${2:?}"); shift ;;
	--kmod) kmods+=("${2:?}"); shift ;;
	--binary) binaries+=("${2:?}"); shift ;;
	--file) files+=("${2:?}"); shift ;;
	--env) envs+=("${2:?}"); shift ;;
	--timeout) timeout=${2:?}; shift ;;
	--log) log=${2:?}; shift ;;
	--verbose) verbose=1 ;;
	*) die "unknown option '$1' (see the top of $0)" ;;
	esac
	shift
done
[ -n "$kernel" ] || die "--kernel is required"
[ -f "$script" ] || die "guest script '$script' not found"
for tool in qemu-system-x86_64 cpio modinfo ldd timeout flock xz; do
	command -v "$tool" >/dev/null || die "$tool not found (run ci/deps)"
done
# The initramfs has no libc for busybox: it must be the static one.
[ -x /bin/busybox ] && ! ldd /bin/busybox >/dev/null 2>&1 ||
	die "/bin/busybox is missing or not static (apt-get install busybox-static)"

# A series ("6.1") names the release ci/vm-kernels resolves for it.
release=$kernel
if [ ! -f "$cache/$kernel/.done" ]; then
	release=$("$repo/ci/vm-kernels" list | awk -v k="$kernel" '$1 == "amd64" && $2 == k { print $3 }') || true
	[ -n "$release" ] || release=$kernel
fi

kroot=$cache/$release
if [ ! -f "$kroot/.done" ]; then
	mkdir -p "$cache"
	# Parallel runs share the cache; one unpacks while the other waits.
	flock "$cache/.lock" "$repo/ci/vm-kernels" unpack "$cache" "$release" >/dev/null ||
		die "could not unpack the kernels into $cache (ci/vm-kernels unpack)"
fi
[ -f "$kroot/.done" ] || die "kernel $release is not one ci/vm-kernels unpacks"
vmlinuz=$kroot/boot/vmlinuz-$release
moddir=$kroot/lib/modules/$release
[ -f "$vmlinuz" ] || die "$vmlinuz missing"

work=$(mktemp -d "${TMPDIR:-/tmp}/netmon-vm.XXXXXX")
cleanup() { rm -rf "$work"; }
trap cleanup EXIT
root=$work/root
mkdir -p "$root"/{bin,sbin,usr/bin,usr/sbin,usr/local/bin,proc,sys,dev,run,tmp,etc,var} \
	"$root"/netmon-vm/modules "$root"/lib/modules/netmon-vm
# iproute2 keeps named network namespaces in /var/run/netns.
ln -s ../run "$root/var/run"
# The kernel opens /dev/console for /init before anything is mounted.
mknod -m 600 "$root/dev/console" c 5 1

cp /bin/busybox "$root/bin/busybox"
while read -r applet; do
	[ -e "$root/$applet" ] || ln -s /bin/busybox "$root/$applet"
done < <(/bin/busybox --list-full)

# Copies a file to the same path in the guest; symlinks are resolved.
copy_same_path() {
	mkdir -p "$root$(dirname "$1")"
	cp -L "$1" "$root$1"
}

for bin in "${binaries[@]}"; do
	[ -x "$bin" ] || die "--binary '$bin' is not an executable"
	cp -L "$bin" "$root/usr/local/bin/$(basename "$bin")"
	ldd "$bin" 2>/dev/null | awk '$2 == "=>" && $3 ~ /^\// { print $3 } $1 ~ /^\// { print $1 }' |
		while read -r lib; do
			[ -e "$root$lib" ] || copy_same_path "$lib"
		done
done

for mod in "${modules[@]}"; do
	[ -f "$mod" ] || die "--module '$mod' not found"
	cp "$mod" "$root/netmon-vm/modules/"
done

for spec in "${files[@]}"; do
	src=${spec%%:*} dst=${spec#*:}
	[ -f "$src" ] && [ -n "$dst" ] && [ "$src" != "$spec" ] || die "--file '$spec': want an existing SRC:DST"
	mkdir -p "$root$(dirname "$dst")"
	cp -L "$src" "$root$dst"
done

# Kernel modules in load order, dependencies first. The .debs carry no
# modules.dep and depmod over all of them takes seconds: follow modinfo.
declare -A kmod_path=()
while read -r path; do
	name=${path##*/}
	name=${name%%.ko*}
	kmod_path[${name//-/_}]=$path
done < <(cd "$moddir" && find kernel -name '*.ko*')
declare -A kmod_builtin=()
while read -r path; do
	name=${path##*/}
	name=${name%%.ko*}
	kmod_builtin[${name//-/_}]=1
done <"$moddir/modules.builtin"
order=()
add_kmod() {
	local name=${1//-/_} path dep
	[ -z "${kmod_builtin[$name]:-}" ] || return 0
	path=${kmod_path[$name]:-}
	[ -n "$path" ] || die "kernel $release has no module '$1'"
	for dep in $(modinfo -F depends "$moddir/$path" | tr ',' ' '); do
		add_kmod "$dep"
	done
	for dep in "${order[@]}"; do [ "$dep" = "$path" ] && return 0; done
	order+=("$path")
}
for name in "${kmods[@]}"; do add_kmod "$name"; done
: >"$root/netmon-vm/kmods"
for path in "${order[@]}"; do
	name=$(basename "$path")
	# busybox insmod may not decompress.
	case "$name" in
	*.ko.xz) xz -dc "$moddir/$path" >"$root/lib/modules/netmon-vm/${name%.xz}" ;;
	*.ko.zst) zstd -qdc "$moddir/$path" >"$root/lib/modules/netmon-vm/${name%.zst}" ;;
	*.ko.gz) gzip -dc "$moddir/$path" >"$root/lib/modules/netmon-vm/${name%.gz}" ;;
	*) cp "$moddir/$path" "$root/lib/modules/netmon-vm/$name" ;;
	esac
	echo "${name%.ko*}.ko" >>"$root/netmon-vm/kmods"
done

: >"$root/netmon-vm/env"
# busybox's shell runs its own applet before anything on PATH: a host
# binary named like one (ip, tc) is reached through a function instead.
# busybox's env, timeout and xargs prefer applets too: give them the path.
applets=$(/bin/busybox --list)
for bin in "${binaries[@]}"; do
	name=$(basename "$bin")
	if grep -qx -- "$name" <<<"$applets"; then
		printf '%s() { /usr/local/bin/%s "$@"; }\n' "$name" "$name" >>"$root/netmon-vm/env"
	fi
done
for kv in "${envs[@]}"; do
	name=${kv%%=*} value=${kv#*=}
	[[ "$name" =~ ^[A-Za-z_][A-Za-z0-9_]*$ ]] && [ "$name" != "$kv" ] || die "--env '$kv': want NAME=VALUE"
	printf "export %s='%s'\n" "$name" "${value//\'/\'\\\'\'}" >>"$root/netmon-vm/env"
done

install -m 755 "$here/guest-init.sh" "$root/init"
install -m 644 "$here/guest-lib.sh" "$root/netmon-vm/lib.sh"
install -m 755 "$script" "$root/netmon-vm/guest.sh"

# Uncompressed: unpacking gzip under TCG costs more than reading the bytes.
(cd "$root" && find . -print0 | cpio --null -o -H newc --quiet) >"$work/initrd"

keep_log=1
if [ -z "$log" ]; then
	log=$(mktemp "${TMPDIR:-/tmp}/netmon-vm-$release.XXXXXX.log")
	keep_log=0
fi
start=$(date +%s.%N)
set +e
# KVM hangs on this machine: TCG only. A panic reboots, -no-reboot then
# exits. mitigations=off: the guest's speculation workarounds cost TCG time.
timeout -k 5 "$timeout" qemu-system-x86_64 -accel tcg -m 1G -smp 2 \
	-nographic -no-reboot -nic none \
	-kernel "$vmlinuz" -initrd "$work/initrd" \
	-append "console=ttyS0 panic=-1 quiet mitigations=off" </dev/null 2>&1 |
	tr -d '\r' | if [ "$verbose" -eq 1 ]; then tee "$log"; else cat >"$log"; fi
qemu_rc=${PIPESTATUS[0]}
set -e
secs=$(echo "$(date +%s.%N) $start" | awk '{ printf "%.1f", $1 - $2 }')

verdict=$(grep -a -o 'NETMON-VM: \(PASS\|FAIL.*\)' "$log" | tail -n1 || true)
if [ "$qemu_rc" -eq 124 ] || [ "$qemu_rc" -eq 137 ]; then
	verdict="NETMON-VM: FAIL timed out after ${timeout}s"
elif [ -z "$verdict" ]; then
	verdict="NETMON-VM: FAIL no verdict (qemu exited with $qemu_rc)"
fi

if [ "$verdict" = "NETMON-VM: PASS" ]; then
	if [ "$keep_log" -eq 1 ]; then
		echo "run-vm: $release: PASS in ${secs}s (log: $log)"
	else
		rm -f "$log"
		echo "run-vm: $release: PASS in ${secs}s"
	fi
	exit 0
fi
[ "$verbose" -eq 1 ] || { echo "----- console log of $release ($log) -----"; cat "$log"; echo "-----"; }
echo "run-vm: $release: ${verdict#NETMON-VM: } after ${secs}s (log: $log)" >&2
exit 1
