// SPDX-License-Identifier: (GPL-2.0-only OR MIT)
/*
 * The baseline for bench/bpf-cost.sh: programs that do nothing but pass the
 * packet on, so run_time_ns/run_cnt of netmon's programs can be compared with
 * the bare cost of running any program on the same hook.
 *
 * Also calibration programs: one map lookup and nothing else, in a per-CPU
 * array and in a per-CPU hash keyed by ifindex (the reference points the
 * per-packet budget was set against, about 1.05x and 1.55x an empty
 * program, so a run shows whether its method reproduces them); and the least
 * any per-CPU array counter can do, the lookup plus adding the skb's length
 * and one packet, which is netmon's common path without GSO or overflow.
 */
/* UAPI headers, as netmon.bpf.c (see there); NETMON_VMLINUX_H for the test. */
#ifdef NETMON_VMLINUX_H
#define BPF_NO_PRESERVE_ACCESS_INDEX /* ctx fields need no CO-RE */
#include "vmlinux.h"
#else
#include <linux/bpf.h>
#endif
#include <bpf/bpf_helpers.h>

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 256);
	__type(key, __u32);
	__type(value, __u64[4]);
} calibration_array SEC(".maps");

/* The bench helper inserts the ifindex it attaches to, so lookups hit. */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_HASH);
	__uint(max_entries, 256);
	__type(key, __u32);
	__type(value, __u64[4]);
} calibration_hash SEC(".maps");

SEC("tc")
int empty_tc(struct __sk_buff *skb)
{
	return -1; /* TC_ACT_UNSPEC / TCX_NEXT, like netmon's programs */
}

SEC("xdp")
int empty_xdp(struct xdp_md *ctx)
{
	return XDP_PASS;
}

/* The verdict depends on the lookup, so the compiler cannot drop it. */
SEC("tc")
int array_lookup_tc(struct __sk_buff *skb)
{
	__u32 ifindex = skb->ingress_ifindex;

	return bpf_map_lookup_elem(&calibration_array, &ifindex) ? -1 : 0;
}

SEC("tc")
int array_count_tc(struct __sk_buff *skb)
{
	__u32 ifindex = skb->ingress_ifindex;
	__u64 *counters = bpf_map_lookup_elem(&calibration_array, &ifindex);

	if (counters) {
		counters[0] += skb->len;
		counters[1] += 1;
	}
	return -1;
}

SEC("tc")
int hash_lookup_tc(struct __sk_buff *skb)
{
	__u32 ifindex = skb->ingress_ifindex;

	return bpf_map_lookup_elem(&calibration_hash, &ifindex) ? -1 : 0;
}

char LICENSE[] SEC("license") = "Dual MIT/GPL";
