// /proc/netmon from netmon_proc.ko: the classic feed, the kernel's own
// dev_get_stats() numbers (the same as /proc/net/dev), for routers that ship
// the module rather than BPF.
#pragma once

#include <map>
#include <string>
#include <vector>

#include "core/source.h"
#include "sources/proc/proc_format.h"

namespace netmon {

inline constexpr const char* kDefaultProcPath = "/proc/netmon";

class ProcSource : public Source {
 public:
  // Reads and parses `path` once, so a missing module, a newer format or a
  // malformed file stops the agent at start-up rather than at the first
  // snapshot. Throws Error; for the default path a missing file says how to
  // load the module.
  explicit ProcSource(std::string path = kDefaultProcPath);

  const char* kind() const override { return "proc"; }

  // The module lists interfaces by itself; nothing to attach.
  void watch(const Link&) override {}
  void unwatch(const Link&) override {}

  // Reads the whole file in one go (one open, read() until EOF) and picks
  // the rows of `links` by ifindex. A row whose name differs from the link's
  // is left out: the module shows the initial network namespace, so an agent
  // running in another one would otherwise report a stranger's counters under
  // a reused ifindex. Throws Error when the file is gone (module unloaded) or
  // malformed.
  CounterMap read(const std::vector<Link>& links) override;

  const std::string& path() const { return path_; }

 private:
  std::vector<ProcRow> read_rows(bool at_startup) const;

  std::string path_;
  // Warn once per ifindex (and per name seen there), not every interval.
  std::map<int, std::string> warned_;
};

}  // namespace netmon
