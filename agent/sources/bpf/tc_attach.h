// Attaching netmon's programs to one interface's hooks: tcx links (Linux
// 6.6+), legacy clsact + cls_bpf filters, XDP links. Each attachment has one
// owner whose destructor detaches it and logs (never throws) a failure.
//
// Everything here resolves ifindexes in the network namespace of the calling
// thread: create, use and destroy attachments from the same namespace.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>

#include "core/counters.h"
#include "sys/fd.h"
#include "sys/rtnl_tc.h"

namespace netmon {

enum class Hook { kTcxIngress, kTcxEgress, kTcIngress, kTcEgress, kXdp };

// "tcx ingress", "tc egress", "xdp": how error messages name the hook.
const char* hook_name(Hook hook);

// Where legacy filters of ours sit on clsact ingress/egress. Fixed, so a
// filter left behind by a SIGKILLed agent is found and replaced by the next
// one. Priority 1 runs first: a filter before us that ends the chain
// (TC_ACT_OK, SHOT, a classid match) would hide packets the kernel did
// receive or send. Other cls_bpf filters at priority 1 coexist with ours as
// long as their handle differs; libbpf's examples use handle 1.
constexpr uint32_t kTcHandle = 0x4e4d;  // "NM"
constexpr uint32_t kTcPriority = 1;

// Our BPF program names start with this (the kernel keeps 15 characters).
constexpr const char* kProgramNamePrefix = "netmon_";

class Attachment {
 public:
  virtual ~Attachment() = default;
  // Leaves it in the kernel when destroyed (--pin): only our fd closes.
  virtual void keep() {}
  // The bpf_link fd of a tcx or XDP attachment (to pin it); -1 otherwise.
  virtual int link_fd() const { return -1; }
};

// True when the kernel has tcx (6.6+): bpf_link_create with BPF_TCX_INGRESS
// reaches the device lookup (ENODEV for ifindex 0) instead of rejecting the
// attach type (EINVAL). `sched_cls_prog_fd` is any loaded tc program.
bool kernel_has_tcx(int sched_cls_prog_fd);

// Each throws Error: "failed to attach to 'eth0' (tc ingress): <cause>".
// tcx links go in front of the hook's other programs, for the same reason
// legacy filters take priority 1.
std::unique_ptr<Attachment> attach_tcx(int prog_fd, const Link& link, Hook hook);
std::unique_ptr<Attachment> attach_xdp(int prog_fd, const Link& link);
// Swaps the program of an existing tcx or XDP link (a pinned one) in place:
// every packet runs either the old program or the new one, never neither or
// both. Throws Error like the attach functions.
std::unique_ptr<Attachment> adopt_link(Fd link_fd, int prog_fd, const Link& link, Hook hook);

// Replaces a netmon filter at our handle/priority in place (NLM_F_REPLACE)
// when no live agent owns it: one left by an agent that died, or with
// `adopt` one of a pinned set the caller owns. Refuses (EBUSY, naming the
// pid) while a live agent owns it, and (EEXIST) another tool's filter.
// `*replaced` (optional) tells whether a netmon filter was replaced.
std::unique_ptr<Attachment> attach_tc(int prog_fd, const Link& link, Hook hook, bool adopt = false,
                                      bool* replaced = nullptr);

// Our handle/priority's filter on clsact ingress or egress, if any.
std::optional<TcFilterEntry> tc_filter_at_our_slot(int ifindex, bool ingress);
// Whether it is a netmon program's (by name: no CAP_SYS_ADMIN needed).
bool is_netmon_filter(const TcFilterEntry& filter);
// Removes our handle/priority's filter; 0 or a negative errno.
int detach_tc_slot(int ifindex, bool ingress);
// Removes the clsact qdisc if no filter at all is left on it.
void remove_clsact_if_unused(const Link& link);

// Creates the clsact qdisc the legacy filters need. Returns nullptr when it
// already existed: only a qdisc we created is ours to remove, and then only
// once no filter (ours or anyone's) is left on it.
std::unique_ptr<Attachment> ensure_clsact(const Link& link);
// Takes over a clsact qdisc created by an earlier agent of a pinned set.
std::unique_ptr<Attachment> adopt_clsact(const Link& link);

// Filters (of any kind, any owner) on clsact ingress or egress; 0 without a
// clsact qdisc. Negative errno on failure.
int tc_filter_count(int ifindex, bool ingress);

// Programs attached through tcx to ingress or egress; negative errno on
// failure (-EINVAL before Linux 6.6).
int tcx_program_count(int ifindex, bool ingress);

}  // namespace netmon
