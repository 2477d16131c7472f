#include "sources/bpf/pin.h"

#include <bpf/bpf.h>
#include <dirent.h>
#include <fcntl.h>
#include <net/if.h>
#include <spdlog/spdlog.h>
#include <sys/file.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <memory>
#include <sstream>

#include "sources/bpf/liveness.h"
#include "sources/bpf/tc_attach.h"
#include "sys/error.h"

namespace netmon {
namespace {

constexpr long kBpffsMagic = 0xcafe4a11;  // BPF_FS_MAGIC
constexpr const char* kSysBpf = "/sys/fs/bpf";
// More interfaces than any router has; the hash costs nothing until used.
constexpr uint32_t kAttachedEntries = 65536;

// Every fixed name of a set; the link_* files come on top.
constexpr const char* kFixedNames[] = {"meta",   "attached",     "counters",    "overflow_counters",
                                       "health", "prog_ingress", "prog_egress", "prog_xdp"};

struct DirCloser {
  void operator()(DIR* dir) const { closedir(dir); }
};

bool on_bpffs(const std::string& path) {
  struct statfs fs {};
  return statfs(path.c_str(), &fs) == 0 && fs.f_type == kBpffsMagic;
}

bool exists(const std::string& path) {
  struct stat st {};
  return stat(path.c_str(), &st) == 0;
}

// The nearest existing ancestor of `path` (or `path` itself).
std::string existing_ancestor(std::string path) {
  while (!path.empty() && path != "/" && !exists(path)) {
    size_t slash = path.find_last_of('/');
    path = slash == 0 || slash == std::string::npos ? "/" : path.substr(0, slash);
  }
  return path.empty() ? "/" : path;
}

bool below_sys_bpf(const std::string& dir) {
  return dir == kSysBpf || dir.rfind(std::string(kSysBpf) + "/", 0) == 0;
}

// `ip netns exec` unshares the mount namespace and mounts a sysfs named
// after the network namespace on /sys; the system's is named "sysfs". (PID
// 1's namespace link would say it directly, but reading it needs rights over
// PID 1 that a container or a sandbox may not give even to root.)
bool in_private_mount_namespace() {
  std::ifstream mountinfo("/proc/self/mountinfo");
  std::string line;
  while (std::getline(mountinfo, line)) {
    std::istringstream fields(line);
    std::string id, parent, devices, root, mount_point, word;
    if (!(fields >> id >> parent >> devices >> root >> mount_point) || mount_point != "/sys")
      continue;
    while (fields >> word && word != "-") {
    }
    std::string fstype, source;
    fields >> fstype >> source;
    return fstype == "sysfs" && source != "sysfs";
  }
  return false;
}

std::optional<netmon_pin_meta> read_meta(int fd) {
  const uint32_t key = 0;
  netmon_pin_meta meta{};
  if (bpf_map_lookup_elem(fd, &key, &meta) != 0) return std::nullopt;
  return meta;
}

}  // namespace

void ensure_bpffs_for(const std::string& dir) {
  if (on_bpffs(existing_ancestor(dir))) return;
  if (!below_sys_bpf(dir))
    throw Error("--pin-path " + dir + " is not on a bpf filesystem (mount one: mount -t bpf bpf " +
                existing_ancestor(dir) + ")");
  // `ip netns exec` gives the process a mount namespace of its own with a
  // fresh /sys: a bpffs mounted there, and every pin in it, would die with
  // the agent, which is the opposite of what --pin promises.
  if (in_private_mount_namespace())
    throw Error(std::string("no bpffs on ") + kSysBpf +
                " in this mount namespace, which is not the system's (ip netns exec makes one): "
                "pins would die with the agent; run it with nsenter --net=/run/netns/NAME "
                "instead, or give --pin-path a bpffs that outlives it");
  if (mount("bpf", kSysBpf, "bpf", 0, "mode=0700") != 0) {
    int err = errno;
    throw Error(errno_message(std::string("cannot mount bpffs on ") + kSysBpf, err) +
                (err == EPERM ? " (need CAP_SYS_ADMIN, or mount it at boot: mount -t bpf bpf " +
                                    std::string(kSysBpf) + ")"
                              : ""));
  }
  spdlog::info("mounted bpffs on {}", kSysBpf);
}

PinnedSet::PinnedSet(std::string dir) : dir_(std::move(dir)) {
  while (dir_.size() > 1 && dir_.back() == '/') dir_.pop_back();
  ensure_bpffs_for(dir_);
  if (mkdir(dir_.c_str(), 0700) != 0 && errno != EEXIST)
    throw Error(errno_message("cannot create the pin directory " + dir_, errno));
  dir_fd_.reset(open(dir_.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (!dir_fd_) throw Error(errno_message("cannot open the pin directory " + dir_, errno));
  if (!on_bpffs(dir_)) throw Error("--pin-path " + dir_ + " is not on a bpf filesystem");
  meta_fd_ = get("meta");
  std::optional<netmon_pin_meta> meta = meta_fd_ ? read_meta(meta_fd_.get()) : std::nullopt;
  if (flock(dir_fd_.get(), LOCK_EX | LOCK_NB) != 0) {
    if (errno != EWOULDBLOCK)
      throw Error(errno_message("cannot lock the pinned set in " + dir_, errno));
    std::string pid =
        meta && meta->owner_pid ? " (pid " + std::to_string(meta->owner_pid) + ")" : "";
    throw Error("another netmon agent" + pid + " owns the pinned set in " + dir_);
  }
  if (meta_fd_ && !meta) throw Error(errno_message("cannot read " + path("meta"), errno));
  if (meta && meta->layout != NETMON_PIN_LAYOUT)
    throw Error("the pinned set in " + dir_ + " has layout " + std::to_string(meta->layout) +
                (meta->layout > NETMON_PIN_LAYOUT ? ", newer than" : ", unknown to") +
                " this agent's (" + std::to_string(NETMON_PIN_LAYOUT) +
                "); left untouched: run the agent that made it, or its --unpin");
  if (!meta) {
    // Meta is written last: without it, a start was cut short. Nothing of it
    // is worth keeping (its counts never reached a snapshot).
    for (const char* name : kFixedNames) unpin(name);
    for (const auto& [ifindex, hooks] : pinned_links())
      for (const std::string& hook : hooks) unpin(link_name(ifindex, hook.c_str()));
    return;
  }
  adopted_ = meta;
  attached_fd_ = get("attached");
  if (!attached_fd_) create_attached();
}

Fd PinnedSet::get(const std::string& name) const {
  int fd = bpf_obj_get(path(name).c_str());
  return Fd(fd >= 0 ? fd : -1);
}

void PinnedSet::pin(int fd, const std::string& name) const {
  unpin(name);
  if (bpf_obj_pin(fd, path(name).c_str()) != 0)
    throw Error(errno_message("cannot pin " + path(name), errno));
}

void PinnedSet::unpin(const std::string& name) const {
  if (unlink(path(name).c_str()) != 0 && errno != ENOENT)
    spdlog::warn("cannot remove {}: {}", path(name), std::strerror(errno));
}

void PinnedSet::create_attached() {
  LIBBPF_OPTS(bpf_map_create_opts, opts, .map_flags = BPF_F_NO_PREALLOC);
  attached_fd_.reset(bpf_map_create(BPF_MAP_TYPE_HASH, "netmon_attached", sizeof(uint32_t),
                                    sizeof(uint32_t), kAttachedEntries, &opts));
  if (!attached_fd_) throw Error(errno_message("cannot create the pinned attachment map", errno));
  pin(attached_fd_.get(), "attached");
}

void PinnedSet::write_meta(const netmon_pin_meta& meta) {
  if (!attached_fd_) create_attached();
  const uint32_t key = 0;
  if (meta_fd_) {
    if (bpf_map_update_elem(meta_fd_.get(), &key, &meta, BPF_ANY) != 0)
      throw Error(errno_message("cannot update " + path("meta"), errno));
    return;
  }
  Fd fd(bpf_map_create(BPF_MAP_TYPE_ARRAY, "netmon_meta", sizeof(uint32_t), sizeof(meta), 1,
                       nullptr));
  if (!fd) throw Error(errno_message("cannot create the pinned meta map", errno));
  if (bpf_map_update_elem(fd.get(), &key, &meta, BPF_ANY) != 0)
    throw Error(errno_message("cannot write the pinned meta map", errno));
  pin(fd.get(), "meta");
  meta_fd_ = std::move(fd);
}

uint32_t PinnedSet::attached_flags(int ifindex) const {
  const uint32_t key = static_cast<uint32_t>(ifindex);
  uint32_t flags = 0;
  if (!attached_fd_ || bpf_map_lookup_elem(attached_fd_.get(), &key, &flags) != 0) return 0;
  return flags;
}

void PinnedSet::set_attached_flags(int ifindex, uint32_t flags) const {
  const uint32_t key = static_cast<uint32_t>(ifindex);
  int err = flags ? bpf_map_update_elem(attached_fd_.get(), &key, &flags, BPF_ANY)
                  : bpf_map_delete_elem(attached_fd_.get(), &key);
  if (err != 0 && !(flags == 0 && errno == ENOENT))
    throw Error(errno_message(
        "cannot record ifindex " + std::to_string(ifindex) + " in " + path("attached"), errno));
}

std::map<int, uint32_t> PinnedSet::all_attached() const {
  std::map<int, uint32_t> out;
  if (!attached_fd_) return out;
  uint32_t key = 0;
  uint32_t next = 0;
  const uint32_t* prev = nullptr;
  while (bpf_map_get_next_key(attached_fd_.get(), prev, &next) == 0) {
    uint32_t flags = 0;
    if (bpf_map_lookup_elem(attached_fd_.get(), &next, &flags) == 0)
      out[static_cast<int>(next)] = flags;
    key = next;
    prev = &key;
  }
  return out;
}

std::map<int, std::vector<std::string>> PinnedSet::pinned_links() const {
  std::map<int, std::vector<std::string>> out;
  std::unique_ptr<DIR, DirCloser> dir(opendir(dir_.c_str()));
  if (!dir) return out;
  while (dirent* entry = readdir(dir.get())) {
    int ifindex = 0;
    char hook[32] = {};
    if (std::sscanf(entry->d_name, "link_%d_%31s", &ifindex, hook) == 2 && ifindex > 0)
      out[ifindex].push_back(hook);
  }
  return out;
}

std::string PinnedSet::link_name(int ifindex, const char* hook) {
  return "link_" + std::to_string(ifindex) + "_" + hook;
}

void PinnedSet::remove_all() const {
  for (const auto& [ifindex, hooks] : pinned_links())
    for (const std::string& hook : hooks) unpin(link_name(ifindex, hook.c_str()));
  for (const char* name : kFixedNames) unpin(name);
  if (rmdir(dir_.c_str()) != 0 && errno != ENOENT)
    spdlog::warn("left {} in place: {}", dir_, std::strerror(errno));
}

int unpin_set(const std::string& dir) {
  if (!exists(dir) || !on_bpffs(dir)) {
    spdlog::info("nothing pinned in {}", dir);
    return 0;
  }
  PinnedSet set(dir);
  size_t links = 0;
  size_t filters = 0;
  for (const auto& [ifindex, hooks] : set.pinned_links()) {
    for (const std::string& hook : hooks) {
      std::string name = PinnedSet::link_name(ifindex, hook.c_str());
      if (Fd fd = set.get(name); fd && bpf_link_detach(fd.get()) == 0) ++links;
      set.unpin(name);
    }
  }
  for (const auto& [ifindex, flags] : set.all_attached()) {
    char name[IF_NAMESIZE] = {};
    if (!if_indextoname(static_cast<unsigned>(ifindex), name)) continue;  // gone, and its filters
    for (bool ingress : {true, false}) {
      if (!(flags & (ingress ? NETMON_PIN_TC_INGRESS : NETMON_PIN_TC_EGRESS))) continue;
      std::optional<TcFilterEntry> filter = tc_filter_at_our_slot(ifindex, ingress);
      // A live agent without --pin may have taken the slot over since.
      if (!filter || !is_netmon_filter(*filter) || live_agent_of(filter->bpf_prog_id)) continue;
      if (int err = detach_tc_slot(ifindex, ingress); err != 0 && err != -ENOENT)
        spdlog::warn("failed to remove the netmon filter from '{}' ({}): {}", name,
                     ingress ? "tc ingress" : "tc egress", std::strerror(-err));
      else
        ++filters;
    }
    if (flags & NETMON_PIN_CLSACT_OURS) remove_clsact_if_unused(Link{ifindex, name});
  }
  set.remove_all();
  spdlog::info("removed the pinned set in {}: {} links and {} tc filters detached", dir, links,
               filters);
  return 0;
}

}  // namespace netmon
