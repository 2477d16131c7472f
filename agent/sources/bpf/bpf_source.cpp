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
#include <fstream>
#include <iterator>
#include <optional>
#include <utility>

#include "sources/bpf/bpf_sum.h"
#include "sources/bpf/liveness.h"
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

uint32_t pin_mode(BpfSource::AttachMode mode) {
  return mode == BpfSource::AttachMode::kTc    ? NETMON_PIN_MODE_TC
         : mode == BpfSource::AttachMode::kXdp ? NETMON_PIN_MODE_XDP
                                               : NETMON_PIN_MODE_TCX;
}

std::optional<BpfSource::AttachMode> mode_of_pin(uint32_t mode) {
  switch (mode) {
    case NETMON_PIN_MODE_TCX:
      return BpfSource::AttachMode::kTcx;
    case NETMON_PIN_MODE_TC:
      return BpfSource::AttachMode::kTc;
    case NETMON_PIN_MODE_XDP:
      return BpfSource::AttachMode::kXdp;
  }
  return std::nullopt;
}

// File names of link pins, by hook.
const char* pin_hook_name(Hook hook) {
  switch (hook) {
    case Hook::kTcxIngress:
      return "tcx_ingress";
    case Hook::kTcxEgress:
      return "tcx_egress";
    case Hook::kXdp:
      return "xdp";
    default:
      return nullptr;  // legacy tc: no link to pin
  }
}

uint32_t pin_flag(Hook hook) {
  switch (hook) {
    case Hook::kTcxIngress:
      return NETMON_PIN_TCX_INGRESS;
    case Hook::kTcxEgress:
      return NETMON_PIN_TCX_EGRESS;
    case Hook::kTcIngress:
      return NETMON_PIN_TC_INGRESS;
    case Hook::kTcEgress:
      return NETMON_PIN_TC_EGRESS;
    case Hook::kXdp:
      return NETMON_PIN_XDP;
  }
  return 0;
}

// The ifindex a tcx or XDP link is attached to; 0 once its device is gone.
// Read through the xdp member: tcx's (Linux 6.6+, newer than Debian 12's
// headers) starts with the ifindex at the same offset.
uint32_t link_ifindex(int link_fd) {
  bpf_link_info info{};
  uint32_t len = sizeof(info);
  if (bpf_obj_get_info_by_fd(link_fd, &info, &len) != 0) return 0;
  return info.xdp.ifindex;
}

uint32_t prog_id_of(int prog_fd) {
  bpf_prog_info info{};
  uint32_t len = sizeof(info);
  return bpf_obj_get_info_by_fd(prog_fd, &info, &len) == 0 ? info.id : 0;
}

// NETMON_TEST_BPF_OBJECT's bytes, read once; empty when unset.
const std::string& test_object() {
  static const std::string bytes = [] {
    const char* path = std::getenv("NETMON_TEST_BPF_OBJECT");
    if (!path || !*path) return std::string();
    std::ifstream in(path, std::ios::binary);
    std::string data((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    if (data.empty()) throw Error(std::string("cannot read NETMON_TEST_BPF_OBJECT ") + path);
    return data;
  }();
  return bytes;
}

}  // namespace

void BpfSource::SkeletonDeleter::operator()(Skeleton* skeleton) const {
  netmon_skel::netmon__destroy(skeleton);
}

void BpfSource::open_skeleton() {
  // netmon__open() with the object's bytes swapped when a test asks.
  auto* skeleton = static_cast<Skeleton*>(calloc(1, sizeof(Skeleton)));
  if (!skeleton) throw Error(errno_message("failed to open the bpf object", ENOMEM));
  skeleton_.reset(skeleton);
  if (int err = netmon_skel::netmon__create_skeleton(skeleton))
    throw Error(errno_message("failed to open the bpf object", -err));
  std::string_view object = embedded_bpf_object();
  skeleton->skeleton->data = const_cast<char*>(object.data());
  skeleton->skeleton->data_sz = object.size();
  if (int err = bpf_object__open_skeleton(skeleton->skeleton, nullptr))
    throw Error(errno_message("failed to open the bpf object", -err));
}

void BpfSource::adopt_pinned_maps() {
  for (bpf_map* map :
       {skeleton_->maps.counters, skeleton_->maps.overflow_counters, skeleton_->maps.health}) {
    const char* name = bpf_map__name(map);
    Fd fd = pin_->get(name);
    if (!fd)
      throw Error("the pinned set in " + pin_->dir() + " has no map '" + name +
                  "'; remove it with --unpin");
    // bpf_map__reuse_fd() takes the pinned map's definition as it is: a
    // mismatch would only show up as a verifier error, so name it here.
    bpf_map_info info{};
    uint32_t len = sizeof(info);
    if (bpf_obj_get_info_by_fd(fd.get(), &info, &len) != 0)
      throw Error(
          errno_message(std::string("cannot inspect the pinned map '") + name + "'", errno));
    if (info.type != bpf_map__type(map) || info.key_size != bpf_map__key_size(map) ||
        info.value_size != bpf_map__value_size(map) ||
        (map == skeleton_->maps.health && info.max_entries != bpf_map__max_entries(map)))
      throw Error("the pinned map '" + std::string(name) + "' in " + pin_->dir() +
                  " does not match this agent's programs; remove the set with --unpin");
    if (int err = bpf_map__reuse_fd(map, fd.get()))
      throw Error(errno_message(std::string("cannot reuse the pinned map '") + name + "'", -err));
  }
}

void BpfSource::pin_after_load() {
  const bool adopted = pin_->adopted().has_value();
  if (!adopted)
    for (bpf_map* map :
         {skeleton_->maps.counters, skeleton_->maps.overflow_counters, skeleton_->maps.health})
      pin_->pin(bpf_map__fd(map), bpf_map__name(map));
  // The programs: for bpftool and for the eye; what keeps them alive is their
  // attachments. A new object replaces the old object's pins.
  const std::pair<bpf_program*, const char*> progs[] = {
      {skeleton_->progs.netmon_ingress, "prog_ingress"},
      {skeleton_->progs.netmon_egress, "prog_egress"},
      {skeleton_->progs.netmon_xdp, "prog_xdp"}};
  for (const auto& [prog, name] : progs) {
    if (bpf_program__fd(prog) >= 0)
      pin_->pin(bpf_program__fd(prog), name);
    else
      pin_->unpin(name);
  }
  netmon_pin_meta meta{};
  meta.layout = NETMON_PIN_LAYOUT;
  meta.array_entries = array_entries_;
  meta.attach_mode = pin_mode(mode_);
  meta.owner_pid = static_cast<uint32_t>(getpid());
  meta.object_id = embedded_bpf_object_id();
  if (adopted && pin_->adopted()->object_id != meta.object_id)
    spdlog::info("bpf: upgrading the pinned set in {} to this agent's programs", pin_->dir());
  pin_->write_meta(meta);

  // Links whose device went away while no agent ran: their pins go now.
  for (const auto& [ifindex, hooks] : pin_->pinned_links()) {
    for (const std::string& hook : hooks) {
      std::string name = PinnedSet::link_name(ifindex, hook.c_str());
      Fd fd = pin_->get(name);
      if (fd && link_ifindex(fd.get()) == static_cast<uint32_t>(ifindex))
        pinned_links_[ifindex][hook] = std::move(fd);
      else
        pin_->unpin(name);
    }
  }
  for (const auto& [ifindex, flags] : pin_->all_attached()) {
    char name[IF_NAMESIZE];
    if (!if_indextoname(static_cast<unsigned>(ifindex), name)) pin_->set_attached_flags(ifindex, 0);
  }
}

BpfSource::BpfSource(AttachMode mode, uint32_t array_entries, const std::string& pin_dir,
                     bool mode_given)
    : mode_(mode) {
  // Before libbpf parses it: a foreign byte order fails there obscurely.
  if (std::string problem = elf_byte_order_problem(embedded_bpf_object()); !problem.empty())
    throw Error("the embedded bpf object cannot be loaded: " + problem);
  check_capabilities();
  int ncpus = libbpf_num_possible_cpus();
  if (ncpus <= 0) throw Error(errno_message("failed to count the possible cpus", -ncpus));
  ncpus_ = static_cast<size_t>(ncpus);

  if (!pin_dir.empty()) {
    pin_ = std::make_unique<PinnedSet>(pin_dir);
    if (const std::optional<netmon_pin_meta>& meta = pin_->adopted()) {
      std::optional<AttachMode> pinned = mode_of_pin(meta->attach_mode);
      if (!pinned)
        throw Error("the pinned set in " + pin_dir + " has an unknown attach mode; left untouched");
      if (!mode_given || mode == AttachMode::kAuto) {
        mode = *pinned;
      } else if (mode != *pinned) {
        throw Error("the pinned set in " + pin_dir + " counts with --attach " +
                    attach_mode_name(*pinned) + ", not " + attach_mode_name(mode) +
                    "; use that, or remove the set with --unpin first");
      }
      mode_ = mode;
      array_entries = meta->array_entries;  // the reused map's size
    }
  }

  open_skeleton();
  array_entries_ = array_entries ? array_entries : default_array_entries(ncpus_);
  bpf_map__set_max_entries(skeleton_->maps.counters, array_entries_);
  if (pin_ && pin_->adopted()) adopt_pinned_maps();
  bpf_program__set_autoload(skeleton_->progs.netmon_xdp, mode == AttachMode::kXdp);
  bpf_program__set_autoload(skeleton_->progs.netmon_ingress, mode != AttachMode::kXdp);
  if (int err = netmon_skel::netmon__load(skeleton_.get()))
    throw Error(errno_message("failed to load the bpf programs", -err) +
                (err == -EPERM ? " (need CAP_BPF and CAP_NET_ADMIN)" : ""));

  tcx_ = mode != AttachMode::kTc && kernel_has_tcx(bpf_program__fd(skeleton_->progs.netmon_egress));
  if (mode == AttachMode::kTcx && !tcx_)
    throw Error("failed to set up tcx: this kernel has no tcx (Linux 6.6+); use --attach tc");
  if (mode == AttachMode::kAuto) mode_ = tcx_ ? AttachMode::kTcx : AttachMode::kTc;
  if (pin_) pin_after_load();
  // A legacy filter outlives a killed agent: these names say we are alive.
  for (bpf_program* prog : {skeleton_->progs.netmon_ingress, skeleton_->progs.netmon_egress})
    if (bpf_program__fd(prog) >= 0)
      if (Fd fd = claim_program_liveness(prog_id_of(bpf_program__fd(prog))))
        liveness_.push_back(std::move(fd));
  if (mode_ == AttachMode::kTc || !tcx_) guard_ = std::make_unique<TcGuard>();
  spdlog::debug("bpf: {} mode, {} array slots x {} cpus, egress on {}", attach_mode_name(mode_),
                array_entries_, ncpus_, tcx_ ? "tcx" : "tc");
}

namespace {

// The set lives on: every attachment stays, only our fds close.
void keep_all(const std::unique_ptr<Attachment>& clsact, const std::unique_ptr<Attachment>& rx,
              const std::unique_ptr<Attachment>& tx) {
  for (Attachment* a : {clsact.get(), rx.get(), tx.get()})
    if (a) a->keep();
}

}  // namespace

BpfSource::~BpfSource() {
  if (!pin_) return;
  for (auto& [ifindex, w] : watched_) keep_all(w.clsact, w.rx, w.tx);
}

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
  Watched w{link, nullptr, nullptr, nullptr};
  if (!pin_ || !adopt(link, w)) attach(link, w);
  watched_.emplace(link.ifindex, std::move(w));
  // Adopted or new, a legacy filter is kept in front of later ones.
  const int ingress_fd = bpf_program__fd(skeleton_->progs.netmon_ingress);
  const int egress_fd = bpf_program__fd(skeleton_->progs.netmon_egress);
  if (mode_ == AttachMode::kTc)
    guard_->guard(link, Hook::kTcIngress, ingress_fd, program_id(ingress_fd));
  if (!tcx_ || mode_ == AttachMode::kTc)
    guard_->guard(link, Hook::kTcEgress, egress_fd, program_id(egress_fd));
}

void BpfSource::attach(const Link& link, Watched& w) {
  const uint32_t old_flags = pin_ ? pin_->attached_flags(link.ifindex) : 0;
  zero_counters(link);

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
  if (pin_) {
    // A clsact qdisc the set created stays the set's to remove.
    if (!w.clsact && (old_flags & NETMON_PIN_CLSACT_OURS)) w.clsact = adopt_clsact(link);
    record_pins(link, w, w.clsact ? NETMON_PIN_CLSACT_OURS : 0);
  }
}

// The hooks a link is counted on in mode_, rx first.
std::pair<Hook, Hook> BpfSource::hooks() const {
  Hook rx = mode_ == AttachMode::kXdp   ? Hook::kXdp
            : mode_ == AttachMode::kTcx ? Hook::kTcxIngress
                                        : Hook::kTcIngress;
  Hook tx = tcx_ && mode_ != AttachMode::kTc ? Hook::kTcxEgress : Hook::kTcEgress;
  return {rx, tx};
}

bool BpfSource::adopt(const Link& link, Watched& w) {
  const uint32_t flags = pin_->attached_flags(link.ifindex);
  auto& links = pinned_links_[link.ifindex];
  auto [rx, tx] = hooks();
  auto held = [&](Hook hook) {
    if (const char* name = pin_hook_name(hook)) return links.count(name) > 0;
    if (!(flags & pin_flag(hook))) return false;
    std::optional<TcFilterEntry> filter =
        tc_filter_at_our_slot(link.ifindex, hook == Hook::kTcIngress);
    return filter && is_netmon_filter(*filter) && !live_agent_of(filter->bpf_prog_id);
  };
  if (!held(rx) || !held(tx)) {
    // Not all of it: start over, so that nothing counts twice.
    drop_pins(link.ifindex);
    return false;
  }
  auto prog_fd = [&](Hook hook) {
    return bpf_program__fd(hook == Hook::kXdp ? skeleton_->progs.netmon_xdp
                           : hook == Hook::kTcxIngress || hook == Hook::kTcIngress
                               ? skeleton_->progs.netmon_ingress
                               : skeleton_->progs.netmon_egress);
  };
  auto swap = [&](Hook hook) -> std::unique_ptr<Attachment> {
    if (const char* name = pin_hook_name(hook)) {
      Fd fd = std::move(links[name]);
      links.erase(name);
      return adopt_link(std::move(fd), prog_fd(hook), link, hook);
    }
    return attach_tc(prog_fd(hook), link, hook, /*adopt=*/true);
  };
  if (flags & NETMON_PIN_CLSACT_OURS) w.clsact = adopt_clsact(link);
  w.rx = swap(rx);
  w.tx = swap(tx);
  pinned_links_.erase(link.ifindex);
  spdlog::info("adopted the pinned counters of '{}': its totals go on", link.name);
  return true;
}

void BpfSource::record_pins(const Link& link, const Watched& w, uint32_t flags) {
  auto [rx, tx] = hooks();
  for (auto [hook, attachment] : {std::pair{rx, w.rx.get()}, std::pair{tx, w.tx.get()}}) {
    flags |= pin_flag(hook);
    if (const char* name = pin_hook_name(hook))
      pin_->pin(attachment->link_fd(), PinnedSet::link_name(link.ifindex, name));
  }
  pin_->set_attached_flags(link.ifindex, flags);
}

// Detaches the set's leftover links on `ifindex` and forgets it. Legacy
// filters need nothing here: attach_tc replaces them in place.
void BpfSource::drop_pins(int ifindex) {
  if (auto it = pinned_links_.find(ifindex); it != pinned_links_.end()) {
    for (auto& [hook, fd] : it->second) {
      if (bpf_link_detach(fd.get()) != 0 && errno != ENOLINK && errno != ENODEV)
        spdlog::warn("failed to detach a pinned link from ifindex {}: {}", ifindex,
                     std::strerror(errno));
    }
    pinned_links_.erase(it);
  }
  for (const char* hook : {"tcx_ingress", "tcx_egress", "xdp"})
    pin_->unpin(PinnedSet::link_name(ifindex, hook));
  pin_->set_attached_flags(ifindex, 0);
}

void BpfSource::started() {
  if (!pin_) return;
  std::vector<int> stale;
  for (const auto& [ifindex, hooks] : pinned_links_) stale.push_back(ifindex);
  for (const auto& [ifindex, flags] : pin_->all_attached())
    if (watched_.count(ifindex) == 0) stale.push_back(ifindex);
  for (int ifindex : stale) {
    if (watched_.count(ifindex)) continue;
    const uint32_t flags = pin_->attached_flags(ifindex);
    char name[IF_NAMESIZE] = {};
    if (if_indextoname(static_cast<unsigned>(ifindex), name)) {
      for (bool ingress : {true, false}) {
        if (!(flags & (ingress ? NETMON_PIN_TC_INGRESS : NETMON_PIN_TC_EGRESS))) continue;
        std::optional<TcFilterEntry> filter = tc_filter_at_our_slot(ifindex, ingress);
        if (filter && is_netmon_filter(*filter) && !live_agent_of(filter->bpf_prog_id))
          detach_tc_slot(ifindex, ingress);
      }
      if (flags & NETMON_PIN_CLSACT_OURS) remove_clsact_if_unused(Link{ifindex, name});
      spdlog::info("detached the pinned set from '{}': it is no longer selected", name);
    }
    drop_pins(ifindex);
  }
}

void BpfSource::unwatch(const Link& link) {
  if (guard_) guard_->forget(link.ifindex);
  auto it = watched_.find(link.ifindex);
  if (it == watched_.end()) return;
  if (pin_ && exiting_) {
    keep_all(it->second.clsact, it->second.rx, it->second.tx);
    watched_.erase(it);
    return;
  }
  watched_.erase(it);
  if (pin_) drop_pins(link.ifindex);
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
  if (const std::string& test = test_object(); !test.empty()) return test;
  size_t size = 0;
  const void* bytes = netmon_skel::netmon__elf_bytes(&size);
  return {static_cast<const char*>(bytes), size};
}

uint64_t embedded_bpf_object_id() {
  uint64_t hash = 0xcbf29ce484222325ULL;
  for (unsigned char byte : embedded_bpf_object()) hash = (hash ^ byte) * 0x100000001b3ULL;
  return hash;
}

}  // namespace netmon
