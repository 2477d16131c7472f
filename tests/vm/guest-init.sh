#!/bin/sh
# /init of the test VMs built by run-vm.sh: links busybox's applets, mounts
# the usual file systems, loads the kernel's modules, runs each script named
# in /netmon-vm/scripts with one "NETMON-VM: STEP NAME PASS|FAIL ..." line
# each, then exactly one verdict line for the host to read, and powers off.
export PATH=/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
export HOME=/root

# The initramfs holds busybox of the guest's architecture, which the host
# cannot run to list its applets; existing files (the tools) are kept.
/bin/busybox --install -s

verdict() {
	echo "NETMON-VM: $*"
	poweroff -f
	# Should poweroff fail, leaving /init panics the kernel and qemu exits.
	exit 1
}

mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev
mkdir -p /dev/pts /dev/shm /root
mount -t devpts devpts /dev/pts
mount -t tmpfs tmpfs /dev/shm
mount -t tmpfs tmpfs /run
mount -t tmpfs tmpfs /tmp
mount -t bpf bpf /sys/fs/bpf 2>/dev/null
mount -t tracefs tracefs /sys/kernel/tracing 2>/dev/null
mkdir -p /run/netmon-vm
hostname netmon-vm
ip link set lo up

while read -r ko; do
	insmod "/lib/modules/netmon-vm/$ko" || verdict "FAIL insmod $ko"
done </netmon-vm/kmods

# busybox's shell runs its own applet before anything on PATH: a tool named
# like one (ip, tc, insmod) is reached through a function instead. busybox's
# env, timeout and xargs prefer applets too: give them the path.
busybox --list >/run/netmon-vm/applets
for bin in /usr/local/bin/*; do
	name=${bin##*/}
	if grep -qx -- "$name" /run/netmon-vm/applets; then
		printf '%s() { %s "$@"; }\n' "$name" "$bin"
	fi
done >/run/netmon-vm/wrappers
# The reset below needs iproute2's ip (busybox's has no "netns -all").
. /run/netmon-vm/wrappers

# What a script may leave behind that the next one must not see: network
# namespaces, interfaces, netmon_proc.
reset_guest() {
	ip -all netns delete 2>/dev/null
	for dev in /sys/class/net/*; do
		dev=${dev##*/}
		[ "$dev" = lo ] || echo "link del $dev"
	done >/tmp/reset.batch
	ip -force -batch /tmp/reset.batch >/dev/null 2>&1
	[ ! -e /proc/netmon ] || rmmod netmon_proc
}

cd /netmon-vm || verdict "FAIL no /netmon-vm in the initramfs"
failed="" first=1
while read -r name; do
	# Between scripts only: after the last one the machine powers off.
	[ -n "$first" ] || reset_guest
	first=""
	echo "netmon-vm: $(uname -r) $(uname -m): running $name"
	rm -f /run/netmon-vm/reason
	# Sourced in a shell of its own: its exit or a failure ends only that shell.
	sh -c ". /netmon-vm/lib.sh && . /run/netmon-vm/wrappers && . /netmon-vm/env && . /netmon-vm/$name.sh" </dev/null
	rc=$?
	if [ "$rc" -eq 0 ]; then
		echo "NETMON-VM: STEP $name PASS"
	else
		reason="guest script exited with $rc"
		[ ! -s /run/netmon-vm/reason ] || reason=$(head -n1 /run/netmon-vm/reason)
		echo "NETMON-VM: STEP $name FAIL $reason"
		[ -n "$failed" ] || failed="$name: $reason"
	fi
done </netmon-vm/scripts
if [ -z "$failed" ]; then
	verdict PASS
else
	verdict "FAIL $failed"
fi
