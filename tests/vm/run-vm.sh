#!/usr/bin/env bash
# Boots one of Debian's kernels (ci/vm-kernels) under qemu (TCG) with a
# busybox initramfs, runs guest scripts as root and exits by their verdict.
#
# usage: run-vm.sh [--arch ARCH] --kernel SERIES|RELEASE --script GUEST.sh [options]
#   --arch ARCH          amd64 (default), arm64, s390x or mipsel: the qemu
#                        machine, the kernel and the guest's userland
#   --script GUEST.sh    run in the guest; repeatable: the scripts run in
#                        order in the same boot, the network and netmon_proc
#                        reset between them, each with its own verdict line
#   --module FILE.ko     copy to /netmon-vm/modules/ (the script loads it)
#   --kmod NAME          a module of that kernel, with its dependencies,
#                        loaded before the script runs (veth always is)
#   --tool NAME          a program of the guest's userland (ip, tc, insmod,
#                        rmmod, bpftool, jq, ...) to /usr/local/bin/, first on
#                        PATH: the host's own on amd64, else from Debian's
#                        packages for ARCH (guest-userland.sh)
#   --binary PATH        host file (built for ARCH) to /usr/local/bin/, with
#                        the shared libraries its ELF NEEDED entries name,
#                        taken from the same userland as --tool
#   --file SRC:DST       any host file to DST in the guest
#   --env NAME=VALUE     exported to the scripts
#   --timeout SECONDS    whole VM run, boot included (default 150)
#   --log FILE           console log (default: a temporary file, kept on failure)
#   --stats FILE         write "secs=<boot+test seconds>" there
#   --verbose            stream the console while it runs
#
# Each guest script runs from /netmon-vm with the helpers of guest-lib.sh and
# the --env variables already loaded. Its exit status 0 is the verdict line
# "NETMON-VM: STEP NAME PASS", anything else "NETMON-VM: STEP NAME FAIL
# <reason>"; the VM's verdict is "NETMON-VM: PASS" when every script passed.
# NETMON_VM_APPEND adds kernel parameters (loglevel=7 shows the boot).
# Kernels are unpacked once into ${NETMON_CACHE:-/var/cache/netmon}/kernels.
# Exits 0 on PASS, 1 on FAIL, timeout or a VM that gave no verdict, 2 on
# bad usage or a missing prerequisite.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/../.." && pwd)
cache=${NETMON_CACHE:-/var/cache/netmon}/kernels

die() { echo "run-vm: $*" >&2; exit 2; }

arch=amd64 kernel="" timeout=150 log="" stats="" verbose=0
scripts=() modules=() kmods=(veth) tools=() binaries=() files=() envs=()
while [ $# -gt 0 ]; do
	case "$1" in
	--arch) arch=${2:?}; shift ;;
	--kernel) kernel=${2:?}; shift ;;
	--script) scripts+=("${2:?}"); shift ;;
	--module) modules+=("${2:?}"); shift ;;
	--kmod) kmods+=("${2:?}"); shift ;;
	--tool) tools+=("${2:?}"); shift ;;
	--binary) binaries+=("${2:?}"); shift ;;
	--file) files+=("${2:?}"); shift ;;
	--env) envs+=("${2:?}"); shift ;;
	--timeout) timeout=${2:?}; shift ;;
	--log) log=${2:?}; shift ;;
	--stats) stats=${2:?}; shift ;;
	--verbose) verbose=1 ;;
	*) die "unknown option '$1' (see the top of $0)" ;;
	esac
	shift
done
[ -n "$kernel" ] || die "--kernel is required"
[ ${#scripts[@]} -gt 0 ] || die "--script is required"
for s in "${scripts[@]}"; do [ -f "$s" ] || die "guest script '$s' not found"; done

# Per architecture: qemu, machine, memory, console. The 4kc-malta kernel
# is uniprocessor and Malta addresses 256 MiB of RAM directly. arm64:
# plain "-cpu max" emulates pointer authentication, about 4x slower. x86-64:
# "-cpu max" ran the whole test in 79 s against 108 s with the default qemu64.
case "$arch" in
amd64)
	qemu=(qemu-system-x86_64 -cpu max -m 1G -smp 2)
	console=ttyS0
	;;
arm64)
	qemu=(qemu-system-aarch64 -M virt -cpu "max,pauth-impdef=on" -m 1G -smp 2)
	console=ttyAMA0
	;;
s390x)
	qemu=(qemu-system-s390x -M s390-ccw-virtio -cpu max -m 1G -smp 2)
	console=ttysclp0
	;;
mipsel)
	qemu=(qemu-system-mipsel -M malta -cpu 24Kc -m 256M)
	console=ttyS0
	;;
*) die "unknown --arch '$arch' (amd64, arm64, s390x, mipsel)" ;;
esac
for tool in "${qemu[0]}" cpio modinfo readelf timeout flock xz; do
	command -v "$tool" >/dev/null || die "$tool not found (run ci/deps)"
done

# The guest's userland: the host's own on amd64, Debian's packages for the
# architecture otherwise.
if [ "$arch" = amd64 ]; then
	sysroot=""
	busybox=/bin/busybox
	# The initramfs has no libc for busybox: it must be the static one.
	if [ ! -x "$busybox" ] || readelf -d "$busybox" 2>/dev/null | grep -q NEEDED; then
		die "/bin/busybox is missing or not static (apt-get install busybox-static)"
	fi
else
	sysroot=$("$here/guest-userland.sh" "$arch") || die "no guest userland for $arch (guest-userland.sh)"
	busybox=$sysroot/bin/busybox
	[ -x "$busybox" ] || die "$busybox missing"
fi

# A series ("6.1") names the release ci/vm-kernels resolves for ARCH.
release=$kernel
if [ ! -f "$cache/$kernel/.done" ]; then
	release=$("$repo/ci/vm-kernels" list "$arch" | awk -v k="$kernel" '$2 == k { print $3 }') || true
	[ -n "$release" ] || release=$kernel
fi

kroot=$cache/$release
if [ ! -f "$kroot/.done" ]; then
	mkdir -p "$cache"
	# Parallel runs share the cache; one unpacks while the other waits.
	flock "$cache/.lock" "$repo/ci/vm-kernels" unpack "$cache" "$release" >/dev/null ||
		die "could not unpack kernel $release into $cache (ci/vm-kernels unpack)"
fi
[ -f "$kroot/.done" ] || die "kernel $release is not one ci/vm-kernels unpacks"
vmlinuz=$kroot/boot/vmlinuz-$release
moddir=$kroot/lib/modules/$release
[ -f "$vmlinuz" ] || die "$vmlinuz missing"

work=$(mktemp -d "${TMPDIR:-/tmp}/netmon-vm.XXXXXX")
qemu_pid=""
# shellcheck disable=SC2317 # called by the trap
cleanup() {
	[ -z "$qemu_pid" ] || kill "$qemu_pid" 2>/dev/null || true
	rm -rf "$work"
}
trap cleanup EXIT
root=$work/root
mkdir -p "$root"/{bin,sbin,usr/bin,usr/sbin,usr/local/bin,proc,sys,dev,run,tmp,etc,var} \
	"$root"/netmon-vm/modules "$root"/lib/modules/netmon-vm
# iproute2 keeps named network namespaces in /var/run/netns.
ln -s ../run "$root/var/run"
# The kernel opens /dev/console for /init before anything is mounted.
mknod -m 600 "$root/dev/console" c 5 1

# Applets are linked by /init (busybox --install): a foreign busybox cannot
# list them here.
cp "$busybox" "$root/bin/busybox"
ln -s busybox "$root/bin/sh"

# Resolves PATH inside the userland: symlinks there may be absolute
# (/sbin/insmod -> /bin/kmod), and must not lead to the host's files.
in_sysroot() {
	local p=$1 t n=0
	while [ -L "$sysroot$p" ] && [ $n -lt 20 ]; do
		t=$(readlink "$sysroot$p")
		case "$t" in
		/*) p=$t ;;
		*) p=$(dirname "$p")/$t ;;
		esac
		n=$((n + 1))
	done
	[ -e "$sysroot$p" ] || return 1
	echo "$p"
}

# Where the userland's dynamic loader finds a library (no ld.so.cache in
# the guest: the multiarch directories are glibc's built-in ones in Debian).
case "$arch" in
amd64) triplet=x86_64-linux-gnu ;;
arm64) triplet=aarch64-linux-gnu ;;
*) triplet=$arch-linux-gnu ;;
esac
libdirs=()
for d in "/lib/$triplet" "/usr/lib/$triplet" /lib /usr/lib; do
	if [ -d "$sysroot$d" ]; then libdirs+=("$d"); fi
done

declare -A copied=()
# Copies the userland file at guest path $1 to the same path in the guest,
# resolved, then its ELF interpreter and NEEDED libraries, recursively.
copy_with_libs() {
	local src=$1 dst=${2:-$1} lib found d
	[ -z "${copied[$dst]:-}" ] || return 0
	copied[$dst]=1
	mkdir -p "$root$(dirname "$dst")"
	cp "$sysroot$src" "$root$dst"
	found=$(readelf -l "$sysroot$src" 2>/dev/null |
		sed -n 's/.*\[Requesting program interpreter: \(.*\)\]/\1/p')
	if [ -n "$found" ]; then
		local real
		real=$(in_sysroot "$found") || die "$src: interpreter $found not in the userland"
		copy_with_libs "$real"
		[ "$real" = "$found" ] || { mkdir -p "$root$(dirname "$found")"; ln -sf "$real" "$root$found"; }
	fi
	while read -r lib; do
		found=""
		for d in "${libdirs[@]}"; do
			if found=$(in_sysroot "$d/$lib"); then break; fi
		done
		[ -n "$found" ] || die "$src needs $lib, which the $arch userland does not have"
		copy_with_libs "$found" "$d/$lib"
	done < <(readelf -d "$sysroot$src" 2>/dev/null | sed -n 's/.*(NEEDED).*\[\(.*\)\]/\1/p')
}

for name in "${tools[@]}"; do
	found=""
	for d in /usr/sbin /usr/bin /sbin /bin; do
		if found=$(in_sysroot "$d/$name"); then break; fi
	done
	[ -n "$found" ] || die "--tool '$name': not in the $arch userland"
	# kmod picks insmod/rmmod by argv[0]: the copy keeps the tool's name.
	copy_with_libs "$found" "/usr/local/bin/$name"
done

# Class, byte order and machine of an ELF file, to tell a binary built for
# another architecture before the guest says "exec format error".
elf_kind() {
	readelf -h "$1" 2>/dev/null | sed -n 's/^ *\(Class\|Data\|Machine\): *//p' | paste -sd '/'
}
want_kind=$(elf_kind "$busybox")
for bin in "${binaries[@]}"; do
	[ -f "$bin" ] || die "--binary '$bin' not found"
	[ "$(elf_kind "$bin")" = "$want_kind" ] ||
		die "--binary '$bin' is $(elf_kind "$bin"), the $arch guest $want_kind"
	b=$(cd "$(dirname "$bin")" && pwd)/$(basename "$bin")
	# Libraries from the userland; the file itself from the host.
	cp -L "$b" "$root/usr/local/bin/$(basename "$bin")"
	chmod 755 "$root/usr/local/bin/$(basename "$bin")"
	while read -r lib; do
		found=""
		for d in "${libdirs[@]}"; do
			if found=$(in_sysroot "$d/$lib"); then break; fi
		done
		[ -n "$found" ] || die "$bin needs $lib, which the $arch userland does not have"
		copy_with_libs "$found" "$d/$lib"
	done < <(readelf -d "$b" 2>/dev/null | sed -n 's/.*(NEEDED).*\[\(.*\)\]/\1/p')
	interp=$(readelf -l "$b" 2>/dev/null | sed -n 's/.*\[Requesting program interpreter: \(.*\)\]/\1/p')
	if [ -n "$interp" ]; then
		real=$(in_sysroot "$interp") || die "$bin: interpreter $interp not in the $arch userland"
		copy_with_libs "$real"
		[ "$real" = "$interp" ] || { mkdir -p "$root$(dirname "$interp")"; ln -sf "$real" "$root$interp"; }
	fi
done

for mod in "${modules[@]}"; do
	[ -f "$mod" ] || die "--module '$mod' not found"
	cp "$mod" "$root/netmon-vm/modules/"
done

for spec in "${files[@]}"; do
	src=${spec%%:*} dst=${spec#*:}
	if [ ! -f "$src" ] || [ -z "$dst" ] || [ "$src" = "$spec" ]; then
		die "--file '$spec': want an existing SRC:DST"
	fi
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
for kv in "${envs[@]}"; do
	name=${kv%%=*} value=${kv#*=}
	if ! [[ "$name" =~ ^[A-Za-z_][A-Za-z0-9_]*$ ]] || [ "$name" = "$kv" ]; then
		die "--env '$kv': want NAME=VALUE"
	fi
	printf "export %s='%s'\n" "$name" "${value//\'/\'\\\'\'}" >>"$root/netmon-vm/env"
done

install -m 755 "$here/guest-init.sh" "$root/init"
install -m 644 "$here/guest-lib.sh" "$root/netmon-vm/lib.sh"
: >"$root/netmon-vm/scripts"
for s in "${scripts[@]}"; do
	name=$(basename "$s" .sh)
	install -m 755 "$s" "$root/netmon-vm/$name.sh"
	echo "$name" >>"$root/netmon-vm/scripts"
done

# Uncompressed: unpacking gzip under TCG costs more than reading the bytes.
(cd "$root" && find . -print0 | cpio --null -o -H newc --quiet) >"$work/initrd"

keep_log=1
if [ -z "$log" ]; then
	log=$(mktemp "${TMPDIR:-/tmp}/netmon-vm-$release.XXXXXX.log")
	keep_log=0
fi
raw=$work/console
: >"$raw"
start=$(date +%s.%N)
# KVM hangs on this machine: TCG only. A panic reboots, -no-reboot then
# exits. mitigations=off: the guest's speculation workarounds cost TCG time.
timeout -k 5 "$timeout" "${qemu[@]}" -accel tcg -nographic -no-reboot -nic none \
	-kernel "$vmlinuz" -initrd "$work/initrd" \
	-append "console=$console panic=-1 quiet mitigations=off ${NETMON_VM_APPEND:-}" </dev/null >"$raw" 2>&1 &
qemu_pid=$!
tail_pid=""
if [ "$verbose" -eq 1 ]; then
	tail -n +1 -f "$raw" --pid "$qemu_pid" | tr -d '\r' &
	tail_pid=$!
fi
# The verdict ends the run: a machine whose power-off qemu does not model
# would otherwise sit until the timeout.
qemu_rc=""
while kill -0 "$qemu_pid" 2>/dev/null; do
	if grep -aq 'NETMON-VM: \(PASS\|FAIL\)' "$raw"; then
		sleep 2
		kill "$qemu_pid" 2>/dev/null || true
		break
	fi
	sleep 0.5
done
set +e
wait "$qemu_pid"
qemu_rc=$?
set -e
qemu_pid=""
[ -z "$tail_pid" ] || wait "$tail_pid" 2>/dev/null || true
secs=$(echo "$(date +%s.%N) $start" | awk '{ printf "%.1f", $1 - $2 }')
tr -d '\r' <"$raw" >"$log"
[ -z "$stats" ] || echo "secs=$secs" >"$stats"

verdict=$(grep -a -o 'NETMON-VM: \(PASS\|FAIL.*\)' "$log" | tail -n1 || true)
if [ -z "$verdict" ] && { [ "$qemu_rc" -eq 124 ] || [ "$qemu_rc" -eq 137 ]; }; then
	verdict="NETMON-VM: FAIL timed out after ${timeout}s"
elif [ -z "$verdict" ]; then
	verdict="NETMON-VM: FAIL no verdict (qemu exited with $qemu_rc)"
fi

if [ "$verdict" = "NETMON-VM: PASS" ]; then
	if [ "$keep_log" -eq 1 ]; then
		echo "run-vm: $arch $release: PASS in ${secs}s (log: $log)"
	else
		rm -f "$log"
		echo "run-vm: $arch $release: PASS in ${secs}s"
	fi
	exit 0
fi
[ "$verbose" -eq 1 ] || { echo "----- console log of $arch $release ($log) -----"; cat "$log"; echo "-----"; }
echo "run-vm: $arch $release: ${verdict#NETMON-VM: } after ${secs}s (log: $log)" >&2
exit 1
