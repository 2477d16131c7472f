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

/*
 * A pinned set (--pin): the maps above, the programs and their tcx/XDP links
 * in one bpffs directory, described by a one-entry "meta" array. An agent
 * adopts a set whose layout it knows and refuses a newer one. Bump the
 * layout when a map's key, value or meaning changes, or when files are
 * added that an older agent would not clean up.
 */
#define NETMON_PIN_LAYOUT 1

struct netmon_pin_meta {
	__u32 layout;        /* NETMON_PIN_LAYOUT of the agent that made the set */
	__u32 array_entries; /* max_entries of "counters" */
	__u32 attach_mode;   /* NETMON_PIN_MODE_* */
	__u32 owner_pid;     /* the last agent that owned it: names it, locks nothing */
	__u64 object_id;     /* FNV-1a of the BPF object that loaded the programs */
};

enum netmon_pin_mode {
	NETMON_PIN_MODE_TCX = 1,
	NETMON_PIN_MODE_TC = 2,
	NETMON_PIN_MODE_XDP = 3,
};

/*
 * Value of the pinned "attached" hash (key: ifindex): what the set holds on
 * that interface. Legacy tc filters cannot be pinned; this is their record.
 */
enum netmon_pin_attached_flag {
	NETMON_PIN_TC_INGRESS = 1 << 0,
	NETMON_PIN_TC_EGRESS = 1 << 1,
	NETMON_PIN_CLSACT_OURS = 1 << 2, /* the set created the clsact qdisc */
	NETMON_PIN_TCX_INGRESS = 1 << 3,
	NETMON_PIN_TCX_EGRESS = 1 << 4,
	NETMON_PIN_XDP = 1 << 5,
};

/* /proc/netmon: first line is NETMON_PROC_MAGIC " " NETMON_PROC_VERSION. */
#define NETMON_PROC_MAGIC "# netmon"
#define NETMON_PROC_VERSION 1

#ifdef __cplusplus
static_assert(sizeof(struct netmon_counters) == 32, "netmon_counters is ABI");
static_assert(sizeof(struct netmon_pin_meta) == 24, "netmon_pin_meta is ABI");
#elif !defined(__bpf__)
_Static_assert(sizeof(struct netmon_counters) == 32, "netmon_counters is ABI");
#endif

#endif /* NETMON_ABI_H */
