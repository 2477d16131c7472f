# shellcheck shell=sh
# Helpers for guest scripts: /netmon-vm/lib.sh, loaded before the script runs
# (run-vm.sh, guest-init.sh).

# Ends the script with a reason that becomes the VM's verdict. In a subshell
# it ends only the subshell: test its status there.
fail() {
	echo "$*" >/run/netmon-vm/reason
	echo "FAIL: $*" >&2
	exit 1
}

# A finding for the host's results row (vm-test.sh): "NETMON-RESULT: KEY VALUE".
result() {
	echo "NETMON-RESULT: $1 $2"
}

step() {
	echo "--- $* (t=$(cut -d' ' -f1 /proc/uptime)s)"
}

# Prints the kernel log written since the previous call (or boot) and
# clears it; everything taken is also kept for klog_check_clean.
klog_take() {
	dmesg -c | tee -a /run/netmon-vm/klog
}

# Fails if the kernel warned, oopsed or hit a BUG at any time so far.
klog_check_clean() {
	klog_take >/dev/null
	# x86 and s390x say "Call Trace", arm64 "Call trace" and "Internal
	# error", arm64 and MIPS "Unable to handle kernel".
	if grep -E 'WARNING:|BUG:|Call [Tt]race|Oops|Internal error|Unable to handle kernel|general protection|Kernel panic' \
		/run/netmon-vm/klog; then
		fail "kernel log shows a warning or a bug"
	fi
	# Taint flags W (a warning was printed) and D (the kernel died).
	[ $(($(cat /proc/sys/kernel/tainted) & (512 | 128))) -eq 0 ] ||
		fail "kernel tainted $(cat /proc/sys/kernel/tainted)"
}
