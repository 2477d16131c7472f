// A pinned set (--pin): netmon's maps, programs and tcx/XDP links kept in a
// bpffs directory, so counting goes on in the kernel while no agent runs.
//
// Files under the directory (all made by netmon; nothing else is touched):
//   meta               one-entry array: struct netmon_pin_meta
//   attached           hash ifindex -> NETMON_PIN_* flags (what is attached)
//   counters, overflow_counters, health    the programs' maps
//   prog_ingress, prog_egress, prog_xdp     the programs (for inspection)
//   link_<ifindex>_<tcx_ingress|tcx_egress|xdp>   the tcx and XDP links
// Legacy tc filters cannot be pinned: a filter keeps its program alive by
// itself, and "attached" records it.
//
// One owner at a time: the agent holds flock(LOCK_EX) on the directory for
// as long as it runs; the kernel drops it when the process dies.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "netmon/abi.h"
#include "sys/fd.h"

namespace netmon {

constexpr const char* kDefaultPinDir = "/sys/fs/bpf/netmon";

class PinnedSet {
 public:
  // Mounts bpffs on /sys/fs/bpf if `dir` is below it and it is not mounted,
  // creates `dir`, takes the lock. Throws Error: "another netmon agent
  // (pid N) owns the pinned set in DIR", "... has layout N, newer than this
  // agent's", "cannot mount bpffs ...". A set without "meta" (never
  // completed) is cleared and counts as none.
  explicit PinnedSet(std::string dir);

  const std::string& dir() const { return dir_; }
  // The adopted set's description; nullopt when there was none.
  const std::optional<netmon_pin_meta>& adopted() const { return adopted_; }

  // An fd for pinned object `name`, or an empty Fd if it is not there.
  Fd get(const std::string& name) const;
  // Pins `fd` as `name`, replacing what was there. Throws Error.
  void pin(int fd, const std::string& name) const;
  void unpin(const std::string& name) const;  // quiet if absent
  std::string path(const std::string& name) const { return dir_ + "/" + name; }

  // Writes meta (creating and pinning it last on a new set, so a set
  // without meta is an unfinished one) and creates "attached" if needed.
  void write_meta(const netmon_pin_meta& meta);

  // The "attached" record of one interface.
  uint32_t attached_flags(int ifindex) const;
  void set_attached_flags(int ifindex, uint32_t flags) const;
  std::map<int, uint32_t> all_attached() const;

  // Every link_<ifindex>_<hook> file, as ifindex -> hook names.
  std::map<int, std::vector<std::string>> pinned_links() const;

  static std::string link_name(int ifindex, const char* hook);

  // Removes every file of ours, then the directory if it is empty.
  void remove_all() const;

 private:
  void create_attached();

  std::string dir_;
  Fd dir_fd_;  // holds the lock
  Fd meta_fd_;
  Fd attached_fd_;
  std::optional<netmon_pin_meta> adopted_;
};

// netmon-agent --unpin: detaches everything the set in `dir` attached and
// removes its files. Returns 0, also when nothing is pinned; throws Error
// when a live agent owns the set or its layout is unknown.
int unpin_set(const std::string& dir);

// Makes bpffs available for `dir`: already on bpffs, or mounts it on
// /sys/fs/bpf when `dir` is below that. Throws Error with a one-line cause.
void ensure_bpffs_for(const std::string& dir);

}  // namespace netmon
