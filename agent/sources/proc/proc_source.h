// /proc/netmon from netmon_proc.ko: the classic feed, the kernel's own
// dev_get_stats() numbers (the same as /proc/net/dev), for routers that ship
// the module rather than BPF.
#pragma once

#include <chrono>
#include <cstddef>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "core/source.h"
#include "sources/proc/proc_format.h"

namespace netmon {

inline constexpr const char* kDefaultProcPath = "/proc/netmon";

// A row is at most ~220 bytes (a 15-byte name and ten 20-digit numbers), a
// real one 40-100: 64 MiB holds some 300,000 interfaces at the widest,
// far beyond any machine, while a runaway file (/dev/zero's like, a log
// given by mistake) stops there instead of exhausting memory.
inline constexpr size_t kMaxProcFileBytes = size_t{64} << 20;

// How long a file that became malformed at runtime is tolerated (its
// previous reading kept) before that is an error.
inline constexpr std::chrono::milliseconds kProcBadReadGrace{30'000};

class ProcSource : public Source {
 public:
  // Reads and parses `path` once, so a missing module, a newer format or a
  // malformed file stops the agent at start-up rather than at the first
  // snapshot. Throws Error; for the default path a missing file says how to
  // load the module; anything but a regular file, or one over
  // kMaxProcFileBytes, is refused.
  explicit ProcSource(std::string path = kDefaultProcPath,
                      std::chrono::milliseconds bad_read_grace = kProcBadReadGrace);

  const char* kind() const override { return "proc"; }

  // The module lists interfaces by itself; nothing to attach.
  void watch(const Link&) override {}
  void unwatch(const Link&) override {}

  // Reads the whole file in one go (one open, read() until EOF) and picks
  // the rows of `links` by ifindex. A row whose name differs from the link's
  // is left out: the module shows the initial network namespace, so an agent
  // running in another one would otherwise report a stranger's counters under
  // a reused ifindex. A malformed reading (empty, cut short: a file being
  // rewritten) is skipped with one warning and the previous one used, until
  // it has been malformed for `bad_read_grace`. Throws Error when the file is
  // gone (module unloaded), in a newer format, or malformed for that long.
  CounterMap read(const std::vector<Link>& links) override;

  const std::string& path() const { return path_; }

 private:
  // The whole file; throws Error for what no retry fixes.
  std::string read_text(bool at_startup) const;
  // This tick's rows, or the last good ones while the file is malformed.
  const std::vector<ProcRow>& current_rows();

  std::string path_;
  std::chrono::milliseconds bad_read_grace_;
  std::vector<ProcRow> last_rows_;
  std::optional<std::chrono::steady_clock::time_point> bad_since_;
  size_t skipped_ = 0;
  // Warn once per ifindex (and per name seen there), not every interval.
  std::map<int, std::string> warned_;
};

}  // namespace netmon
