#include "sources/bpf/tc_guard.h"

#include <bpf/libbpf.h>
#include <net/if.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <ctime>
#include <string>

#include "sys/error.h"

namespace netmon {
namespace {

int64_t monotonic_ns() {
  timespec ts{};
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return static_cast<int64_t>(ts.tv_sec) * 1'000'000'000 + ts.tv_nsec;
}

bool is_ours(const TcFilterEntry& filter, uint32_t prog_id) {
  return filter.kind == "bpf" && filter.handle == kTcHandle && filter.priority == kTcPriority &&
         filter.bpf_prog_id == prog_id;
}

std::string describe(const TcFilterEntry& filter) {
  char where[64];
  snprintf(where, sizeof(where), "pref %u handle 0x%x", filter.priority, filter.handle);
  std::string text = filter.kind + " filter";
  if (!filter.bpf_name.empty()) text += " '" + filter.bpf_name + "'";
  return text + " (" + where + ")";
}

// Deletes our filter if it is there and adds it again: a new cls_bpf filter
// goes to the head of its priority's list. Replacing it in place
// (NLM_F_REPLACE) would keep its place behind the newcomer.
int put_in_front(int ifindex, int prog_fd, bool ingress, bool present) {
  bpf_tc_hook hook{};
  hook.sz = sizeof(hook);
  hook.ifindex = ifindex;
  hook.attach_point = ingress ? BPF_TC_INGRESS : BPF_TC_EGRESS;
  bpf_tc_opts slot{};
  slot.sz = sizeof(slot);
  slot.handle = kTcHandle;
  slot.priority = kTcPriority;
  if (present) {
    int err = bpf_tc_detach(&hook, &slot);
    if (err != 0 && err != -ENOENT) return -err;
  }
  slot.prog_fd = prog_fd;
  int err = bpf_tc_attach(&hook, &slot);
  return err == 0 ? 0 : -err;
}

}  // namespace

TcGuard::TcGuard() = default;

void TcGuard::guard(const Link& link, Hook hook, int prog_fd, uint32_t prog_id) {
  const bool ingress = hook == Hook::kTcIngress;
  Guarded& guarded = guarded_[{link.ifindex, ingress}];
  guarded.link = link;
  guarded.prog_fd = prog_fd;
  guarded.prog_id = prog_id;
  guarded.clsact.reset();
  guarded.refronts.clear();
  guarded.behind_since = 0;
}

void TcGuard::forget(int ifindex) {
  guarded_.erase({ifindex, true});
  guarded_.erase({ifindex, false});
}

void TcGuard::handle_events() {
  const int64_t noticed_ns = monotonic_ns();
  std::optional<std::set<int>> changed;
  try {
    changed = events_.drain();
  } catch (const Error& e) {
    spdlog::warn("{}; checking every guarded tc hook", e.what());
  }
  if (!changed) spdlog::debug("tc notifications were lost; checking every guarded tc hook");
  for (auto& [key, guarded] : guarded_)
    if (!changed || changed->count(key.first)) check(key, guarded, noticed_ns);
}

void TcGuard::retry_contested() {
  const int64_t now = monotonic_ns();
  for (auto& [key, guarded] : guarded_)
    if (guarded.behind_since != 0 && now - guarded.behind_since > kContestWindowNs)
      check(key, guarded, now);
}

SourceHealth TcGuard::health() const {
  SourceHealth health = health_;
  const int64_t now = monotonic_ns();
  for (const auto& [key, guarded] : guarded_)
    if (guarded.behind_since != 0)
      health.tc_preempted_seconds += static_cast<double>(now - guarded.behind_since) / 1e9;
  return health;
}

void TcGuard::check(const Key& key, Guarded& guarded, int64_t noticed_ns) {
  const auto [ifindex, ingress] = key;
  const Hook hook = ingress ? Hook::kTcIngress : Hook::kTcEgress;
  std::vector<TcFilterEntry> filters;
  RtnlStatus status = dump_tc_filters(rtnl_, ifindex, ingress, filters);
  if (!status && !filters.empty() && is_ours(filters.front(), guarded.prog_id)) return;

  // The interface may be gone (its deletion removes our filters too): the
  // link tracker unwatches it, nothing was preempted.
  char name[IF_NAMESIZE] = {};
  if (!if_indextoname(ifindex, name)) return;
  guarded.link.name = name;  // a rename reaches the sources only as a name
  // EINVAL/ENOENT: no clsact qdisc (newer kernels dump nothing instead).
  const bool no_qdisc = status && (status.err == EINVAL || status.err == ENOENT);
  if (status && !no_qdisc) {
    spdlog::warn("cannot check netmon's filter on '{}' ({}): {}", name, hook_name(hook),
                 status.message());
    return;
  }
  const bool present = std::any_of(filters.begin(), filters.end(), [&](const TcFilterEntry& f) {
    return is_ours(f, guarded.prog_id);
  });
  std::string cause =
      present ? "a " + describe(filters.front()) + " was put in front of netmon's filter"
              : "netmon's filter was removed";
  if (!present) {
    // Our filter may have gone with the whole qdisc: then it is ours now.
    try {
      if (auto created = ensure_clsact(guarded.link)) {
        guarded.clsact = std::move(created);
        cause = "the clsact qdisc was removed with netmon's filter";
      }
    } catch (const Error& e) {
      spdlog::error("{} on '{}' ({}), and it cannot be restored: {}", cause, name, hook_name(hook),
                    e.what());
      return;
    }
  }
  auto& refronts = guarded.refronts;
  refronts.erase(refronts.begin(), std::find_if(refronts.begin(), refronts.end(), [&](int64_t t) {
                   return noticed_ns - t <= kContestWindowNs;
                 }));
  if (refronts.size() >= kMaxRefronts) {
    if (guarded.behind_since == 0) {
      guarded.behind_since = noticed_ns;
      ++health_.tc_preempted;
      spdlog::error(
          "{} on '{}' ({}), the {}th time in {} s: another tool insists on running first; netmon "
          "leaves it in front for now, may miss packets meanwhile, and tries again later",
          cause, name, hook_name(hook), kMaxRefronts + 1, kContestWindowNs / 1'000'000'000);
    }
    return;
  }
  if (int err = put_in_front(ifindex, guarded.prog_fd, ingress, present)) {
    spdlog::error("{} on '{}' ({}), and netmon's filter cannot be put back in front: {}", cause,
                  name, hook_name(hook), std::strerror(err));
    return;
  }
  const int64_t now = monotonic_ns();
  const bool was_behind = guarded.behind_since != 0;
  const double window_s =
      static_cast<double>(now - (was_behind ? guarded.behind_since : noticed_ns)) / 1e9;
  if (!was_behind) ++health_.tc_preempted;  // else counted when given up
  health_.tc_preempted_seconds += window_s;
  guarded.behind_since = 0;
  refronts.push_back(now);
  spdlog::warn(
      "{} on '{}' ({}); netmon's filter is first again, packets that passed in the {:.3f} ms "
      "before may be uncounted",
      cause, name, hook_name(hook), window_s * 1e3);
}

}  // namespace netmon
