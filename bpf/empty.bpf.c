// SPDX-License-Identifier: (GPL-2.0-only OR MIT)
/*
 * The baseline for bench/bpf-cost.sh: programs that do nothing but pass the
 * packet on, so run_time_ns/run_cnt of netmon's programs can be compared with
 * the bare cost of running any program on the same hook.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>

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

char LICENSE[] SEC("license") = "Dual MIT/GPL";
