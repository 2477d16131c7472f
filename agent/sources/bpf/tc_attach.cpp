#include "sources/bpf/tc_attach.h"

#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <dirent.h>
#include <linux/netlink.h>
#include <linux/pkt_sched.h>
#include <linux/rtnetlink.h>
#include <net/if.h>
#include <spdlog/spdlog.h>
#include <sys/socket.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>

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

std::string program_name(uint32_t prog_id) {
  Fd fd(bpf_prog_get_fd_by_id(prog_id));
  if (!fd) return {};
  bpf_prog_info info{};
  uint32_t len = sizeof(info);
  if (bpf_obj_get_info_by_fd(fd.get(), &info, &len) != 0) return {};
  return info.name;
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
    // Explicit detach: closing alone would leave the program attached while
    // anyone else (bpftool, a forked child) still holds the link fd.
    if (bpf_link_detach(fd_.get()) != 0 && !is_gone(errno)) log_detach_error(link_, hook_, errno);
  }

 private:
  Fd fd_;
  Link link_;
  Hook hook_;
};

class TcFilter : public Attachment {
 public:
  TcFilter(Link link, Hook hook, uint32_t prog_id)
      : link_(std::move(link)), hook_(hook), prog_id_(prog_id) {}
  ~TcFilter() override {
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

 private:
  Link link_;
  Hook hook_;
  uint32_t prog_id_;
};

class ClsactQdisc : public Attachment {
 public:
  explicit ClsactQdisc(Link link) : link_(std::move(link)) {}
  ~ClsactQdisc() override {
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

 private:
  Link link_;
};

// A filter of ours at our handle/priority before we attached: a dead agent's
// (remove it) or a live one's (refuse); anything else is another tool's.
void evict_stale_filter(const Link& link, Hook hook, uint32_t prog_id) {
  std::string name = program_name(prog_id);
  if (name.rfind(kProgramNamePrefix, 0) != 0) {
    char where[64];
    snprintf(where, sizeof(where), "handle 0x%x priority %u", kTcHandle, kTcPriority);
    throw_attach_error(link, hook, EEXIST,
                       std::string(where) + " holds another tool's filter" +
                           (name.empty() ? "" : " '" + name + "'"));
  }
  if (int pid = process_holding_program(prog_id))
    throw_attach_error(link, hook, EBUSY,
                       "another netmon agent (pid " + std::to_string(pid) + ") is attached");
  bpf_tc_hook tc = tc_hook(link.ifindex, hook);
  bpf_tc_opts slot = our_filter_slot();
  int err = bpf_tc_detach(&tc, &slot);
  if (err != 0 && err != -ENOENT)
    throw_attach_error(link, hook, -err, "cannot remove a stale netmon filter");
  spdlog::info("removed a stale netmon filter from '{}' ({}) left by an agent that was killed",
               link.name, hook_name(hook));
}

struct DirCloser {
  void operator()(DIR* dir) const { closedir(dir); }
};
using DirPtr = std::unique_ptr<DIR, DirCloser>;

bool is_number(const char* s) {
  if (!*s) return false;
  for (; *s; ++s)
    if (*s < '0' || *s > '9') return false;
  return true;
}

// "prog_id:" from /proc/<pid>/fdinfo/<fd>, or 0.
uint32_t fdinfo_prog_id(const std::string& path) {
  std::ifstream in(path);
  std::string line;
  while (std::getline(in, line))
    if (line.rfind("prog_id:", 0) == 0) return std::strtoul(line.c_str() + 8, nullptr, 10);
  return 0;
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

std::unique_ptr<Attachment> attach_tc(int prog_fd, const Link& link, Hook hook) {
  bpf_tc_hook tc = tc_hook(link.ifindex, hook);
  bpf_tc_opts found = our_filter_slot();
  int err = bpf_tc_query(&tc, &found);
  // EINVAL: no filter chain at all yet. A real conflict (another filter kind
  // at our priority) makes bpf_tc_attach fail below, with its own message.
  if (err == 0)
    evict_stale_filter(link, hook, found.prog_id);
  else if (err != -ENOENT && err != -EINVAL)
    throw_attach_error(link, hook, -err);

  bpf_tc_opts opts = our_filter_slot();
  opts.prog_fd = prog_fd;
  err = bpf_tc_attach(&tc, &opts);
  if (err == -EINVAL)
    throw_attach_error(
        link, hook, EINVAL,
        "priority " + std::to_string(kTcPriority) + " holds another kind of filter or protocol");
  if (err != 0) throw_attach_error(link, hook, -err);
  return std::make_unique<TcFilter>(link, hook, opts.prog_id);
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

int process_holding_program(uint32_t prog_id) {
  DirPtr proc(opendir("/proc"));
  if (!proc) return 0;
  while (dirent* pid_entry = readdir(proc.get())) {
    if (!is_number(pid_entry->d_name)) continue;
    std::string pid_dir = std::string("/proc/") + pid_entry->d_name;
    DirPtr fds(opendir((pid_dir + "/fd").c_str()));
    if (!fds) continue;  // exited meanwhile, or not ours to see
    while (dirent* fd_entry = readdir(fds.get())) {
      if (!is_number(fd_entry->d_name)) continue;
      char target[64];
      std::string fd_path = pid_dir + "/fd/" + fd_entry->d_name;
      ssize_t n = readlink(fd_path.c_str(), target, sizeof(target) - 1);
      if (n <= 0) continue;
      target[n] = '\0';
      // Program fds and link fds both pin a program; fdinfo names it.
      if (std::strcmp(target, "anon_inode:bpf-prog") != 0 &&
          std::strcmp(target, "anon_inode:bpf_link") != 0)
        continue;
      if (fdinfo_prog_id(pid_dir + "/fdinfo/" + fd_entry->d_name) == prog_id)
        return std::atoi(pid_entry->d_name);
    }
  }
  return 0;
}

}  // namespace netmon
