#!/bin/sh
# /init of the test VMs built by run-vm.sh: mounts the usual file systems,
# loads the kernel's modules, runs /netmon-vm/guest.sh and prints exactly one
# verdict line for the host to read, then powers off.
export PATH=/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
export HOME=/root

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

cd /netmon-vm || verdict "FAIL no /netmon-vm in the initramfs"
echo "netmon-vm: $(uname -r): running guest script"
# Sourced in a shell of its own: its exit or a failure ends only that shell.
sh -c '. /netmon-vm/lib.sh && . /netmon-vm/env && . /netmon-vm/guest.sh'
rc=$?
if [ "$rc" -eq 0 ]; then
	verdict PASS
elif [ -s /run/netmon-vm/reason ]; then
	verdict "FAIL $(head -n1 /run/netmon-vm/reason)"
else
	verdict "FAIL guest script exited with $rc"
fi
