#include "sources/bpf/bpf_source.h"

#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <linux/capability.h>
#include <net/if.h>
#include <spdlog/spdlog.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdlib>
#include <cstring>

#include "sources/bpf/bpf_sum.h"
#include "sys/elf_check.h"
#include "sys/error.h"

// The skeleton declares `struct netmon`, which cannot share the global scope
// with namespace netmon. Its own includes come first so that only the
// skeleton's declarations land in netmon_skel.
#include <errno.h>
#include <stdlib.h>
namespace netmon_skel {
#include "netmon.skel.h"
}  // namespace netmon_skel

namespace netmon {
namespace {

using Skeleton = netmon_skel::netmon;

#ifndef CAP_BPF
#define CAP_BPF 39
#endif

bool has_capability(const __user_cap_data_struct (&caps)[2], int cap) {
  return caps[cap / 32].effective & (1u << (cap % 32));
}

// Said before loading, because the kernel's EPERM does not tell which
// capability it wanted.
void check_capabilities() {
  __user_cap_header_struct header{_LINUX_CAPABILITY_VERSION_3, 0};
  __user_cap_data_struct caps[2] = {};
  if (syscall(SYS_capget, &header, caps) != 0) return;  // let the kernel decide
  // Before Linux 5.8 (no CAP_BPF), CAP_SYS_ADMIN was the only way.
  bool bpf = has_capability(caps, CAP_BPF) || has_capability(caps, CAP_SYS_ADMIN);
  bool net = has_capability(caps, CAP_NET_ADMIN);
  const char* need = !bpf && !net ? "need CAP_BPF and CAP_NET_ADMIN, or root"
                     : !bpf       ? "need CAP_BPF or CAP_SYS_ADMIN"
                     : !net       ? "need CAP_NET_ADMIN"
                                  : nullptr;
  if (need)
    throw Error(std::string("failed to load the bpf programs: ") + std::strerror(EPERM) + " (" +
                need + ")");
}

// Enough slots for today's ifindexes twice over (new interfaces take new,
// higher ifindexes), but bounded: the array costs entries x 32 bytes on
// every possible CPU, and beyond it the hash still counts.
uint32_t default_array_entries(size_t ncpus) {
  uint32_t max_ifindex = 0;
  if (struct if_nameindex* names = if_nameindex()) {
    for (struct if_nameindex* n = names; n->if_index != 0; ++n)
      max_ifindex = std::max<uint32_t>(max_ifindex, n->if_index);
    if_freenameindex(names);
  }
  uint32_t entries = 256;
  while (entries < 2 * (max_ifindex + 1) && entries < (1u << 20)) entries *= 2;
  const uint64_t budget_bytes = 16u << 20;
  uint64_t affordable = budget_bytes / (sizeof(netmon_counters) * std::max<size_t>(ncpus, 1));
  return static_cast<uint32_t>(std::max<uint64_t>(256, std::min<uint64_t>(entries, affordable)));
}

// Per-key lookups cost a syscall each; a batch over the array costs a copy
// of every slot up to the highest watched ifindex, watched or not. Measured
// with netmon_bench_map_read (2 CPUs, kernel 6.18): ~550-750 ns per key
// against ~110-310 ns per batched slot. So batch unless fewer than one slot
// in three up to the highest watched ifindex is watched.
constexpr size_t kBatchSlotsPerLookup = 3;

uint32_t program_id(int prog_fd) {
  bpf_prog_info info{};
  uint32_t len = sizeof(info);
  return bpf_obj_get_info_by_fd(prog_fd, &info, &len) == 0 ? info.id : 0;
}

// The kernel's internal ENOTSUPP, which leaks to user space from some map ops.
constexpr int kKernelEnotsupp = 524;

}  // namespace

void BpfSource::SkeletonDeleter::operator()(Skeleton* skeleton) const {
  netmon_skel::netmon__destroy(skeleton);
}

BpfSource::BpfSource(AttachMode mode, uint32_t array_entries) : mode_(mode) {
  // Before libbpf parses it: a foreign byte order fails there obscurely.
  if (std::string problem = elf_byte_order_problem(embedded_bpf_object()); !problem.empty())
    throw Error("the embedded bpf object cannot be loaded: " + problem);
  check_capabilities();
  int ncpus = libbpf_num_possible_cpus();
  if (ncpus <= 0) throw Error(errno_message("failed to count the possible cpus", -ncpus));
  ncpus_ = static_cast<size_t>(ncpus);

  skeleton_.reset(netmon_skel::netmon__open());
  if (!skeleton_) throw Error(errno_message("failed to open the bpf object", errno));
  array_entries_ = array_entries ? array_entries : default_array_entries(ncpus_);
  bpf_map__set_max_entries(skeleton_->maps.counters, array_entries_);
  bpf_program__set_autoload(skeleton_->progs.netmon_xdp, mode == AttachMode::kXdp);
  bpf_program__set_autoload(skeleton_->progs.netmon_ingress, mode != AttachMode::kXdp);
  if (int err = netmon_skel::netmon__load(skeleton_.get()))
    throw Error(errno_message("failed to load the bpf programs", -err) +
                (err == -EPERM ? " (need CAP_BPF and CAP_NET_ADMIN)" : ""));

  tcx_ = mode != AttachMode::kTc && kernel_has_tcx(bpf_program__fd(skeleton_->progs.netmon_egress));
  if (mode == AttachMode::kTcx && !tcx_)
    throw Error("failed to set up tcx: this kernel has no tcx (Linux 6.6+); use --attach tc");
  if (mode == AttachMode::kAuto) mode_ = tcx_ ? AttachMode::kTcx : AttachMode::kTc;
  if (mode_ == AttachMode::kTc || !tcx_) guard_ = std::make_unique<TcGuard>();
  spdlog::debug("bpf: {} mode, {} array slots x {} cpus, egress on {}", attach_mode_name(mode_),
                array_entries_, ncpus_, tcx_ ? "tcx" : "tc");
}

BpfSource::~BpfSource() = default;

void BpfSource::zero_counters(const Link& link) {
  const uint32_t key = static_cast<uint32_t>(link.ifindex);
  int err = 0;
  if (key < array_entries_) {
    std::vector<netmon_counters> zeros(ncpus_);
    if (bpf_map_update_elem(bpf_map__fd(skeleton_->maps.counters), &key, zeros.data(), BPF_ANY))
      err = errno;
  } else if (bpf_map_delete_elem(bpf_map__fd(skeleton_->maps.overflow_counters), &key) &&
             errno != ENOENT) {
    err = errno;
  }
  if (err)
    throw Error(
        errno_message("failed to attach to '" + link.name + "': cannot reset its counters", err));
}

void BpfSource::watch(const Link& link) {
  if (link.ifindex <= 0)
    throw Error("failed to attach to '" + link.name + "': " + std::strerror(ENODEV));
  if (guard_) guard_->forget(link.ifindex);
  watched_.erase(link.ifindex);
  zero_counters(link);

  Watched w{link, nullptr, nullptr, nullptr};
  const bool clsact_needed = !tcx_ || mode_ == AttachMode::kTc;
  if (clsact_needed) w.clsact = ensure_clsact(link);
  const int ingress_fd = bpf_program__fd(skeleton_->progs.netmon_ingress);
  const int egress_fd = bpf_program__fd(skeleton_->progs.netmon_egress);
  switch (mode_) {
    case AttachMode::kXdp:
      w.rx = attach_xdp(bpf_program__fd(skeleton_->progs.netmon_xdp), link);
      break;
    case AttachMode::kTcx:
      w.rx = attach_tcx(ingress_fd, link, Hook::kTcxIngress);
      break;
    default:
      w.rx = attach_tc(ingress_fd, link, Hook::kTcIngress);
      break;
  }
  const bool tx_on_tc = !tcx_ || mode_ == AttachMode::kTc;
  w.tx = tx_on_tc ? attach_tc(egress_fd, link, Hook::kTcEgress)
                  : attach_tcx(egress_fd, link, Hook::kTcxEgress);
  watched_.emplace(link.ifindex, std::move(w));
  if (mode_ == AttachMode::kTc)
    guard_->guard(link, Hook::kTcIngress, ingress_fd, program_id(ingress_fd));
  if (tx_on_tc) guard_->guard(link, Hook::kTcEgress, egress_fd, program_id(egress_fd));
}

void BpfSource::unwatch(const Link& link) {
  if (guard_) guard_->forget(link.ifindex);
  if (watched_.erase(link.ifindex) == 0) return;
  // The overflow hash is bounded: give the slot back.
  const uint32_t key = static_cast<uint32_t>(link.ifindex);
  if (key >= array_entries_)
    bpf_map_delete_elem(bpf_map__fd(skeleton_->maps.overflow_counters), &key);
}

Counters BpfSource::read_one(int map_fd, int ifindex, bool* found) {
  std::vector<netmon_counters> per_cpu(ncpus_);
  const uint32_t key = static_cast<uint32_t>(ifindex);
  *found = bpf_map_lookup_elem(map_fd, &key, per_cpu.data()) == 0;
  if (!*found && errno != ENOENT)
    throw Error(
        errno_message("failed to read the counters of ifindex " + std::to_string(ifindex), errno));
  return *found ? sum_per_cpu(per_cpu.data(), ncpus_) : Counters{};
}

void BpfSource::read_array(const std::vector<int>& ifindexes, CounterMap& out) {
  const int map_fd = bpf_map__fd(skeleton_->maps.counters);
  const uint32_t slots = static_cast<uint32_t>(ifindexes.back()) + 1;  // sorted
  if (batch_lookup_ && slots <= kBatchSlotsPerLookup * ifindexes.size()) {
    batch_keys_.resize(slots);
    batch_values_.resize(size_t{slots} * ncpus_);
    uint32_t count = slots;
    uint32_t next = 0;
    LIBBPF_OPTS(bpf_map_batch_opts, opts);
    int err = bpf_map_lookup_batch(map_fd, nullptr, &next, batch_keys_.data(), batch_values_.data(),
                                   &count, &opts);
    // ENOENT: the batch reached the array's end, which is fine.
    if ((err == 0 || errno == ENOENT) && count == slots) {
      for (int ifindex : ifindexes)
        out[ifindex] = sum_per_cpu(&batch_values_[size_t(ifindex) * ncpus_], ncpus_);
      return;
    }
    if (err != 0 && errno != EINVAL && errno != ENOTSUP && errno != kKernelEnotsupp)
      throw Error(errno_message("failed to read the counters", errno));
    // Kernels before 5.6 have no batch ops: per-key lookups from now on.
    batch_lookup_ = false;
  }
  for (int ifindex : ifindexes) {
    bool found = false;
    out[ifindex] = read_one(map_fd, ifindex, &found);
  }
}

CounterMap BpfSource::read(const std::vector<Link>& links) {
  if (guard_) guard_->retry_contested();
  std::vector<int> in_array;
  std::vector<int> in_hash;
  for (const Link& link : links) {
    if (watched_.count(link.ifindex) == 0) continue;
    (static_cast<uint32_t>(link.ifindex) < array_entries_ ? in_array : in_hash)
        .push_back(link.ifindex);
  }
  CounterMap out;
  if (!in_array.empty()) {
    std::sort(in_array.begin(), in_array.end());
    in_array.erase(std::unique(in_array.begin(), in_array.end()), in_array.end());
    read_array(in_array, out);
  }
  const int hash_fd = bpf_map__fd(skeleton_->maps.overflow_counters);
  for (int ifindex : in_hash) {
    // No entry yet means no packet yet.
    bool found = false;
    out[ifindex] = read_one(hash_fd, ifindex, &found);
  }
  // Counts that are short must never pass silently.
  if (uint64_t lost = lost_packets(); lost > lost_reported_) {
    spdlog::warn(
        "{} packets were not counted: interfaces beyond the {}-slot array filled the overflow "
        "map; restart the agent to size the array for today's interfaces",
        lost - lost_reported_, array_entries_);
    lost_reported_ = lost;
  }
  return out;
}

uint64_t BpfSource::lost_packets() const {
  std::vector<uint64_t> per_cpu(ncpus_);
  const uint32_t key = NETMON_HEALTH_OVERFLOW_FULL;
  if (bpf_map_lookup_elem(bpf_map__fd(skeleton_->maps.health), &key, per_cpu.data()) != 0) return 0;
  return sum_per_cpu(per_cpu.data(), ncpus_);
}

void BpfSource::handle_events() {
  if (guard_) guard_->handle_events();
}

std::optional<SourceHealth> BpfSource::health() const {
  if (!guard_) return std::nullopt;
  return guard_->health();
}

const char* attach_mode_name(BpfSource::AttachMode mode) {
  switch (mode) {
    case BpfSource::AttachMode::kAuto:
      return "auto";
    case BpfSource::AttachMode::kTcx:
      return "tcx";
    case BpfSource::AttachMode::kTc:
      return "tc";
    case BpfSource::AttachMode::kXdp:
      return "xdp";
  }
  return "?";
}

BpfSource::AttachMode parse_attach_mode(std::string_view name) {
  for (auto mode : {BpfSource::AttachMode::kAuto, BpfSource::AttachMode::kTcx,
                    BpfSource::AttachMode::kTc, BpfSource::AttachMode::kXdp})
    if (name == attach_mode_name(mode)) return mode;
  throw UsageError("invalid --attach '" + std::string(name) + "': expected auto, tcx, tc or xdp");
}

std::string_view embedded_bpf_object() {
  size_t size = 0;
  const void* bytes = netmon_skel::netmon__elf_bytes(&size);
  return {static_cast<const char*>(bytes), size};
}

}  // namespace netmon
