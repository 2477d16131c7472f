/* SPDX-License-Identifier: (GPL-2.0-only OR MIT) */
/*
 * The one definition of what the kernel side (BPF program, netmon_proc.ko)
 * and the agent agree on. Included from three worlds, so it uses only __uN
 * types and picks their source by who includes it.
 */
#ifndef NETMON_ABI_H
#define NETMON_ABI_H

#if defined(__KERNEL__)
#include <linux/types.h>
#elif defined(__bpf__) || defined(__TARGET_ARCH_x86) || defined(NETMON_VMLINUX)
/* BPF programs get __uN from linux/bpf.h (or, for tests/cross, vmlinux.h),
 * included before this header: linux/types.h would clash with vmlinux.h. */
#else
#include <linux/types.h>
#endif

/* Per-interface counters, one value per CPU in the BPF maps. */
struct netmon_counters {
	__u64 rx_bytes;
	__u64 rx_packets;
	__u64 tx_bytes;
	__u64 tx_packets;
};

/*
 * Slots of the BPF program's health map: events the datapath could not
 * record where they belong. Never silently dropped: the agent reports them.
 */
enum netmon_health_slot {
	/* ifindex >= array size and the overflow hash was full. */
	NETMON_HEALTH_OVERFLOW_FULL = 0,
	NETMON_HEALTH_SLOTS,
};

/* /proc/netmon: first line is NETMON_PROC_MAGIC " " NETMON_PROC_VERSION. */
#define NETMON_PROC_MAGIC "# netmon"
#define NETMON_PROC_VERSION 1

#ifdef __cplusplus
static_assert(sizeof(struct netmon_counters) == 32, "netmon_counters is ABI");
#elif !defined(__bpf__)
_Static_assert(sizeof(struct netmon_counters) == 32, "netmon_counters is ABI");
#endif

#endif /* NETMON_ABI_H */
