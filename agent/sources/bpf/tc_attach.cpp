#include "sources/bpf/tc_attach.h"

#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <linux/netlink.h>
#include <linux/pkt_sched.h>
#include <linux/rtnetlink.h>
#include <net/if.h>
#include <spdlog/spdlog.h>
#include <sys/socket.h>

#include <cerrno>
#include <cstdio>
#include <cstring>

#include "sources/bpf/liveness.h"
#include "sys/error.h"
#include "sys/fd.h"
#include "sys/rtnl.h"
#include "sys/rtnl_tc.h"

namespace netmon {
namespace {

// Debian 12's uapi headers predate tcx (Linux 6.6).
constexpr auto kBpfTcxIngress = static_cast<bpf_attach_type>(46);
constexpr auto kBpfTcxEgress = static_cast<bpf_attach_type>(47);
constexpr uint32_t kBpfFBefore = 1u << 3;

bool is_ingress(Hook hook) {
  return hook == Hook::kTcxIngress || hook == Hook::kTcIngress || hook == Hook::kXdp;
}

// Errors meaning "the interface (and with it our attachment) is gone".
bool is_gone(int err) { return err == ENODEV || err == ENOENT || err == ENOLINK; }

[[noreturn]] void throw_attach_error(const Link& link, Hook hook, int err,
                                     const std::string& why = "") {
  std::string message =
      "failed to attach to '" + link.name + "' (" + hook_name(hook) + "): " + std::strerror(err);
  if (!why.empty())
    message += " (" + why + ")";
  else if (err == EPERM || err == EACCES)
    message += " (need CAP_NET_ADMIN)";
  throw Error(message);
}

void log_detach_error(const Link& link, Hook hook, int err) {
  spdlog::warn("failed to detach from '{}' ({}): {}", link.name, hook_name(hook),
               std::strerror(err));
}

bpf_tc_hook tc_hook(int ifindex, bpf_tc_attach_point point) {
  bpf_tc_hook hook{};
  hook.sz = sizeof(hook);
  hook.ifindex = ifindex;
  hook.attach_point = point;
  return hook;
}

bpf_tc_hook tc_hook(int ifindex, Hook hook) {
  return tc_hook(ifindex, is_ingress(hook) ? BPF_TC_INGRESS : BPF_TC_EGRESS);
}

// Names our filter for query and detach (which want no prog_fd/prog_id).
bpf_tc_opts our_filter_slot() {
  bpf_tc_opts opts{};
  opts.sz = sizeof(opts);
  opts.handle = kTcHandle;
  opts.priority = kTcPriority;
  return opts;
}

// Owns a bpf_link fd (tcx or XDP): detaching it is the whole teardown, and
// the kernel already dropped it if the interface went away.
class LinkAttachment : public Attachment {
 public:
  LinkAttachment(Fd fd, Link link, Hook hook)
      : fd_(std::move(fd)), link_(std::move(link)), hook_(hook) {}
  ~LinkAttachment() override {
    if (keep_) return;
    // Explicit detach: closing alone would leave the program attached while
    // anyone else (bpftool, a forked child) still holds the link fd.
    if (bpf_link_detach(fd_.get()) != 0 && !is_gone(errno)) log_detach_error(link_, hook_, errno);
  }
  void keep() override { keep_ = true; }
  int link_fd() const override { return fd_.get(); }

 private:
  Fd fd_;
  Link link_;
  Hook hook_;
  bool keep_ = false;
};

class TcFilter : public Attachment {
 public:
  TcFilter(Link link, Hook hook, uint32_t prog_id)
      : link_(std::move(link)), hook_(hook), prog_id_(prog_id) {}
  ~TcFilter() override {
    if (keep_) return;
    bpf_tc_hook hook = tc_hook(link_.ifindex, hook_);
    bpf_tc_opts found = our_filter_slot();
    int err = bpf_tc_query(&hook, &found);
    // EINVAL: the ifindex no longer exists (libbpf's netlink reply).
    if (err == -ENOENT || err == -ENODEV || err == -EINVAL) return;
    if (err != 0) {
      log_detach_error(link_, hook_, -err);
      return;
    }
    // Our handle/priority with another program: someone replaced ours, or the
    // ifindex now belongs to a new interface. Either way, not ours to remove.
    if (found.prog_id != prog_id_) return;
    bpf_tc_opts slot = our_filter_slot();
    err = bpf_tc_detach(&hook, &slot);
    if (err != 0 && !is_gone(-err)) log_detach_error(link_, hook_, -err);
  }
  void keep() override { keep_ = true; }

 private:
  Link link_;
  Hook hook_;
  uint32_t prog_id_;
  bool keep_ = false;
};

class ClsactQdisc : public Attachment {
 public:
  explicit ClsactQdisc(Link link) : link_(std::move(link)) {}
  ~ClsactQdisc() override {
    if (keep_) return;
    // By ifindex, not name: the interface may have been renamed since. The
    // kernel hands out ifindexes cyclically (a new interface never takes a
    // recently freed one unless asked to), and a deleted one is unwatched.
    char name[IF_NAMESIZE] = {};
    if (!if_indextoname(link_.ifindex, name)) return;
    int ingress = tc_filter_count(link_.ifindex, true);
    int egress = tc_filter_count(link_.ifindex, false);
    if (ingress != 0 || egress != 0) {
      if (ingress > 0 || egress > 0)
        spdlog::debug("leaving the clsact qdisc on '{}': other filters use it", name);
      return;
    }
    bpf_tc_hook hook =
        tc_hook(link_.ifindex, static_cast<bpf_tc_attach_point>(BPF_TC_INGRESS | BPF_TC_EGRESS));
    int err = bpf_tc_hook_destroy(&hook);
    if (err != 0 && !is_gone(-err) && err != -EINVAL)
      spdlog::warn("failed to remove the clsact qdisc from '{}': {}", name, std::strerror(-err));
  }
  void keep() override { keep_ = true; }

 private:
  Link link_;
  bool keep_ = false;
};

// A filter at our handle/priority before we attached: a dead agent's or,
// with `adopt`, our pinned set's (the caller replaces it), a live agent's
// (refuse), or another tool's (refuse).
void check_replaceable(const Link& link, Hook hook, const TcFilterEntry& filter, bool adopt) {
  if (!is_netmon_filter(filter)) {
    char where[64];
    snprintf(where, sizeof(where), "handle 0x%x priority %u", kTcHandle, kTcPriority);
    throw_attach_error(link, hook, EEXIST,
                       std::string(where) + " holds another tool's filter" +
                           (filter.bpf_name.empty() ? "" : " '" + filter.bpf_name + "'"));
  }
  if (adopt) return;
  if (std::optional<int> pid = live_agent_of(filter.bpf_prog_id))
    throw_attach_error(link, hook, EBUSY,
                       *pid > 0
                           ? "another netmon agent (pid " + std::to_string(*pid) + ") is attached"
                           : std::string("another netmon agent is attached"));
}

}  // namespace

const char* hook_name(Hook hook) {
  switch (hook) {
    case Hook::kTcxIngress:
      return "tcx ingress";
    case Hook::kTcxEgress:
      return "tcx egress";
    case Hook::kTcIngress:
      return "tc ingress";
    case Hook::kTcEgress:
      return "tc egress";
    case Hook::kXdp:
      return "xdp";
  }
  return "?";
}

bool kernel_has_tcx(int sched_cls_prog_fd) {
  int fd = bpf_link_create(sched_cls_prog_fd, 0, kBpfTcxIngress, nullptr);
  if (fd >= 0) {
    close(fd);
    return true;
  }
  return fd == -ENODEV;
}

std::unique_ptr<Attachment> attach_tcx(int prog_fd, const Link& link, Hook hook) {
  LIBBPF_OPTS(bpf_link_create_opts, opts, .flags = kBpfFBefore);  // no relative: first
  Fd fd(bpf_link_create(prog_fd, link.ifindex, is_ingress(hook) ? kBpfTcxIngress : kBpfTcxEgress,
                        &opts));
  if (!fd) throw_attach_error(link, hook, errno);
  return std::make_unique<LinkAttachment>(std::move(fd), link, hook);
}

std::unique_ptr<Attachment> attach_xdp(int prog_fd, const Link& link) {
  // No flags: native XDP where the driver has it, generic (skb) otherwise.
  Fd fd(bpf_link_create(prog_fd, link.ifindex, BPF_XDP, nullptr));
  if (!fd) {
    int err = errno;
    throw_attach_error(link, Hook::kXdp, err,
                       err == EBUSY || err == EEXIST ? "another XDP program is attached" : "");
  }
  return std::make_unique<LinkAttachment>(std::move(fd), link, Hook::kXdp);
}

std::unique_ptr<Attachment> attach_tc(int prog_fd, const Link& link, Hook hook, bool adopt,
                                      bool* replaced) {
  std::optional<TcFilterEntry> found = tc_filter_at_our_slot(link.ifindex, is_ingress(hook));
  if (found) check_replaceable(link, hook, *found, adopt);
  if (replaced) *replaced = found.has_value();

  bpf_tc_hook tc = tc_hook(link.ifindex, hook);
  bpf_tc_opts opts = our_filter_slot();
  opts.prog_fd = prog_fd;
  // In place: no packet passes between the old program and ours.
  if (found) opts.flags = BPF_TC_F_REPLACE;
  int err = bpf_tc_attach(&tc, &opts);
  if (err == -EINVAL)
    throw_attach_error(
        link, hook, EINVAL,
        "priority " + std::to_string(kTcPriority) + " holds another kind of filter or protocol");
  if (err != 0) throw_attach_error(link, hook, -err);
  if (found && !adopt)
    spdlog::info("replaced a stale netmon filter on '{}' ({}) left by an agent that was killed",
                 link.name, hook_name(hook));
  return std::make_unique<TcFilter>(link, hook, opts.prog_id);
}

std::unique_ptr<Attachment> adopt_link(Fd link_fd, int prog_fd, const Link& link, Hook hook) {
  if (bpf_link_update(link_fd.get(), prog_fd, nullptr) != 0)
    throw_attach_error(link, hook, errno, "cannot swap the program of a pinned link");
  return std::make_unique<LinkAttachment>(std::move(link_fd), link, hook);
}

std::optional<TcFilterEntry> tc_filter_at_our_slot(int ifindex, bool ingress) {
  RtnlSocket rtnl;
  std::vector<TcFilterEntry> filters;
  // EINVAL/ENOENT: no clsact qdisc, so no filter either.
  if (RtnlStatus status = dump_tc_filters(rtnl, ifindex, ingress, filters)) return std::nullopt;
  for (TcFilterEntry& filter : filters)
    if (filter.chain == 0 && filter.handle == kTcHandle && filter.priority == kTcPriority)
      return std::move(filter);
  return std::nullopt;
}

bool is_netmon_filter(const TcFilterEntry& filter) {
  return filter.kind == "bpf" && filter.bpf_name.rfind(kProgramNamePrefix, 0) == 0;
}

int detach_tc_slot(int ifindex, bool ingress) {
  bpf_tc_hook hook = tc_hook(ifindex, ingress ? BPF_TC_INGRESS : BPF_TC_EGRESS);
  bpf_tc_opts slot = our_filter_slot();
  return bpf_tc_detach(&hook, &slot);
}

void remove_clsact_if_unused(const Link& link) { ClsactQdisc{link}; }

std::unique_ptr<Attachment> adopt_clsact(const Link& link) {
  return std::make_unique<ClsactQdisc>(link);
}

std::unique_ptr<Attachment> ensure_clsact(const Link& link) {
  bpf_tc_hook hook =
      tc_hook(link.ifindex, static_cast<bpf_tc_attach_point>(BPF_TC_INGRESS | BPF_TC_EGRESS));
  int err = bpf_tc_hook_create(&hook);
  if (err == -EEXIST) {
    // The classic ingress qdisc also takes the ingress hook, has no egress
    // one, and its single filter block answers for both clsact parents:
    // attaching would find our own ingress filter where egress's belongs.
    std::string kind;
    try {
      RtnlSocket rtnl;
      if (RtnlStatus status = ingress_qdisc_kind(rtnl, link.ifindex, kind)) kind.clear();
    } catch (const Error&) {
    }
    if (kind == "ingress")
      throw Error("failed to attach to '" + link.name +
                  "' (tc): the interface has a classic 'ingress' qdisc; clsact is needed "
                  "(remove it: tc qdisc del dev " +
                  link.name + " ingress)");
    return nullptr;
  }
  if (err != 0) {
    std::string message = "failed to attach to '" + link.name +
                          "' (tc): cannot create the clsact qdisc: " + std::strerror(-err);
    if (err == -EPERM || err == -EACCES) message += " (need CAP_NET_ADMIN)";
    // The kernel reports an unknown qdisc kind as ENOENT: clsact lives in
    // sch_ingress, a module where the kernel cannot load it on demand.
    if (err == -ENOENT) message += " (is the sch_ingress module loaded? try: modprobe sch_ingress)";
    throw Error(message);
  }
  return std::make_unique<ClsactQdisc>(link);
}

int tc_filter_count(int ifindex, bool ingress) {
  try {
    RtnlSocket rtnl;
    int count = 0;
    if (RtnlStatus status = count_tc_filters(rtnl, ifindex, ingress, count)) return -status.err;
    return count;
  } catch (const Error&) {
    return -EMFILE;  // no socket: unknown, so the caller keeps the qdisc
  }
}

int tcx_program_count(int ifindex, bool ingress) {
  uint32_t prog_ids[64];
  uint32_t count = 64;
  uint32_t attach_flags = 0;
  if (bpf_prog_query(ifindex, ingress ? kBpfTcxIngress : kBpfTcxEgress, 0, &attach_flags, prog_ids,
                     &count) != 0)
    return -errno;
  return static_cast<int>(count);
}

}  // namespace netmon
