// Attaching netmon's programs to one interface's hooks: tcx links (Linux
// 6.6+), legacy clsact + cls_bpf filters, XDP links. Each attachment has one
// owner whose destructor detaches it and logs (never throws) a failure.
//
// Everything here resolves ifindexes in the network namespace of the calling
// thread: create, use and destroy attachments from the same namespace.
#pragma once

#include <cstdint>
#include <memory>
#include <string>

#include "core/counters.h"

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
// Replaces a stale netmon filter at our handle/priority (left by an agent
// that died without detaching); refuses when a live process still holds that
// program or the filter is another tool's.
std::unique_ptr<Attachment> attach_tc(int prog_fd, const Link& link, Hook hook);

// Creates the clsact qdisc the legacy filters need. Returns nullptr when it
// already existed: only a qdisc we created is ours to remove, and then only
// once no filter (ours or anyone's) is left on it.
std::unique_ptr<Attachment> ensure_clsact(const Link& link);

// Filters (of any kind, any owner) on clsact ingress or egress; 0 without a
// clsact qdisc. Negative errno on failure.
int tc_filter_count(int ifindex, bool ingress);

// Programs attached through tcx to ingress or egress; negative errno on
// failure (-EINVAL before Linux 6.6).
int tcx_program_count(int ifindex, bool ingress);

// The pid of a process holding an fd to BPF program `prog_id`, or 0.
int process_holding_program(uint32_t prog_id);

}  // namespace netmon
