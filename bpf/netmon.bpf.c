// SPDX-License-Identifier: (GPL-2.0-only OR MIT)
/*
 * Per-interface rx/tx counters on tc ingress/egress (tcx or clsact) and,
 * optionally, XDP for rx. The programs only observe: they always hand the
 * packet on unchanged, with the verdict that lets later programs run.
 *
 * Only __sk_buff / xdp_md context fields are read, so the object loads on
 * kernels without BTF (many OpenWrt builds): the verifier rewrites those
 * accesses for the running kernel. For the same reason the types come from
 * the UAPI headers, which are the same for every architecture under
 * -target bpf, not from a vmlinux.h; NETMON_VMLINUX_H builds the same
 * source against one, and tests/cross checks both give identical
 * instructions.
 *
 * The common path is one inlined per-CPU array lookup, one test and two
 * adds; everything rare (ifindex beyond the array, GSO) sits in out-of-line
 * subprograms. Its per-packet cost against an empty program is measured by
 * bench/bpf-cost.sh; the README's benchmark table has the figures (the
 * 1.15x budget is missed by a few percent, at the floor of any per-CPU
 * counter).
 */
#ifdef NETMON_VMLINUX_H
#define BPF_NO_PRESERVE_ACCESS_INDEX /* ctx fields need no CO-RE: no vmlinux BTF at load */
#include "vmlinux.h"
#define ETH_HLEN 14
#define ETH_P_IP 0x0800
#define ETH_P_IPV6 0x86DD
#define ETH_P_8021Q 0x8100
#define ETH_P_8021AD 0x88A8
#else
#include <stdbool.h>
#include <linux/bpf.h>
#include <linux/if_ether.h>
#endif
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>
#include "netmon/abi.h"

/*
 * TC_ACT_UNSPEC for clsact, TCX_NEXT for tcx: "no opinion", so later filters
 * and tcx programs still run. TC_ACT_OK (0) would end the chain.
 */
#define NETMON_TC_NEXT (-1)

#define IPPROTO_TCP 6
#define IPPROTO_UDP 17

#ifndef unlikely
#define unlikely(x) __builtin_expect(!!(x), 0)
#endif

/*
 * Indexed by ifindex. The agent sizes it at load time to cover today's
 * ifindexes with room to grow; anything beyond lands in overflow_counters.
 */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 4096);
	__type(key, __u32);
	__type(value, struct netmon_counters);
} counters SEC(".maps");

/* No prealloc: costs nothing until an ifindex outgrows the array. */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_HASH);
	__uint(max_entries, 4096);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, __u32);
	__type(value, struct netmon_counters);
} overflow_counters SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, NETMON_HEALTH_SLOTS);
	__type(key, __u32);
	__type(value, __u64);
} health SEC(".maps");

/* The slot of an ifindex the array cannot hold; NULL (and counted) if full. */
static __always_inline struct netmon_counters *overflow_slot(__u32 ifindex)
{
	struct netmon_counters *slot, zero = {};
	__u32 health_slot = NETMON_HEALTH_OVERFLOW_FULL;
	__u64 *lost;

	slot = bpf_map_lookup_elem(&overflow_counters, &ifindex);
	if (slot)
		return slot;
	/* BPF_NOEXIST: another CPU may have created it meanwhile; both fine. */
	bpf_map_update_elem(&overflow_counters, &ifindex, &zero, BPF_NOEXIST);
	slot = bpf_map_lookup_elem(&overflow_counters, &ifindex);
	if (slot)
		return slot;

	lost = bpf_map_lookup_elem(&health, &health_slot);
	if (lost)
		*lost += 1;
	return NULL;
}

/*
 * Bytes of headers in front of the GSO payload, as qdisc_pkt_len_init()
 * computes them; 0 when the packet is not one we can parse.
 */
static __always_inline __u32 gso_header_len(struct __sk_buff *skb)
{
	__u32 off = ETH_HLEN;
	__u16 proto = bpf_ntohs(skb->protocol);
	__u8 l4proto, byte;

	if (proto == ETH_P_8021Q || proto == ETH_P_8021AD) {
		__be16 inner;

		if (bpf_skb_load_bytes(skb, off + 2, &inner, sizeof(inner)))
			return 0;
		proto = bpf_ntohs(inner);
		off += 4;
	}
	if (proto == ETH_P_IP) {
		if (bpf_skb_load_bytes(skb, off, &byte, 1))
			return 0;
		if (bpf_skb_load_bytes(skb, off + 9, &l4proto, 1))
			return 0;
		off += (byte & 0x0f) * 4;
	} else if (proto == ETH_P_IPV6) {
		if (bpf_skb_load_bytes(skb, off + 6, &l4proto, 1))
			return 0;
		off += 40;
	} else {
		return 0;
	}
	if (l4proto == IPPROTO_TCP) {
		if (bpf_skb_load_bytes(skb, off + 12, &byte, 1))
			return 0;
		off += (byte >> 4) * 4;
	} else if (l4proto == IPPROTO_UDP) {
		off += 8;
	} else {
		return 0;
	}
	return off < skb->len ? off : 0;
}

/*
 * Packets a GSO skb (gso_size set) becomes on the wire. Untrusted GSO
 * (virtio, tap, packet sockets) leaves gso_segs 0 until segmentation: count
 * what segmentation will produce.
 */
static __always_inline __u64 gso_packets(struct __sk_buff *skb)
{
	__u32 size = skb->gso_size;
	__u32 segs = skb->gso_segs;
	__u32 payload;

	if (segs)
		return segs;
	payload = skb->len - gso_header_len(skb);
	return (payload + size - 1) / size;
}

/*
 * The rare paths of count_skb(), out of line and called in tail position:
 * the hot path then keeps nothing but the skb live across the (inlined)
 * lookup, so the JIT saves and restores one callee-saved register, not two.
 * (The gain was inside the benchmark's noise: the hot path's cost is the
 * lookup and the first touch of the per-CPU value; see README.)
 *
 * `pair` is the bytes counter of a direction, followed by its packets.
 */
static __noinline int count_gso(struct __sk_buff *skb, __u64 *pair)
{
	pair[0] += skb->len;
	pair[1] += gso_packets(skb);
	return NETMON_TC_NEXT;
}

static __noinline int count_in_overflow(struct __sk_buff *skb, __u32 ifindex, bool rx)
{
	struct netmon_counters *c = overflow_slot(ifindex);
	__u64 *pair;

	if (!c)
		return NETMON_TC_NEXT;
	pair = rx ? &c->rx_bytes : &c->tx_bytes;
	pair[0] += skb->len;
	pair[1] += skb->gso_size ? gso_packets(skb) : 1;
	return NETMON_TC_NEXT;
}

/*
 * Bytes are skb->len; a GSO super-packet is the gso_segs packets the wire
 * sees. gso_size is 0 exactly when the skb is not GSO: one read, usually.
 */
static __always_inline int count_skb(struct __sk_buff *skb, __u32 ifindex, bool rx)
{
	struct netmon_counters *c = bpf_map_lookup_elem(&counters, &ifindex);
	__u64 *pair;

#ifdef NETMON_TEST_VARIANT
	/* Test builds only: different instructions, same maps and counts. */
	(void)bpf_ktime_get_ns();
#endif
	if (unlikely(!c))
		return count_in_overflow(skb, ifindex, rx);
	pair = rx ? &c->rx_bytes : &c->tx_bytes;
	if (unlikely(skb->gso_size))
		return count_gso(skb, pair);
	pair[0] += skb->len;
	pair[1] += 1;
	return NETMON_TC_NEXT;
}

SEC("tc")
int netmon_ingress(struct __sk_buff *skb)
{
	/*
	 * On ingress skb_iif is the receiving device, set just before tc runs;
	 * reading it spares skb->ifindex's hop through skb->dev.
	 */
	return count_skb(skb, skb->ingress_ifindex, true);
}

SEC("tc")
int netmon_egress(struct __sk_buff *skb)
{
	return count_skb(skb, skb->ifindex, false);
}

static __noinline int count_xdp_in_overflow(struct xdp_md *ctx, __u32 ifindex)
{
	struct netmon_counters *c = overflow_slot(ifindex);

	if (c) {
		c->rx_bytes += ctx->data_end - ctx->data;
		c->rx_packets += 1;
	}
	return XDP_PASS;
}

/* Rx only: XDP sees single frames (no GSO), and no frags without xdp.frags. */
SEC("xdp")
int netmon_xdp(struct xdp_md *ctx)
{
	__u32 ifindex = ctx->ingress_ifindex;
	struct netmon_counters *c = bpf_map_lookup_elem(&counters, &ifindex);

#ifdef NETMON_TEST_VARIANT
	(void)bpf_ktime_get_ns();
#endif
	if (unlikely(!c))
		return count_xdp_in_overflow(ctx, ifindex);
	c->rx_bytes += ctx->data_end - ctx->data;
	c->rx_packets += 1;
	return XDP_PASS;
}

char LICENSE[] SEC("license") = "Dual MIT/GPL";
