#include "sources/proc/proc_source.h"

#include <fcntl.h>
#include <spdlog/spdlog.h>
#include <unistd.h>

#include <cerrno>
#include <unordered_map>

#include "sys/error.h"
#include "sys/fd.h"

namespace netmon {

ProcSource::ProcSource(std::string path) : path_(std::move(path)) {
  read_rows(/*at_startup=*/true);
}

std::vector<ProcRow> ProcSource::read_rows(bool at_startup) const {
  Fd fd(::open(path_.c_str(), O_RDONLY | O_CLOEXEC));
  if (!fd) {
    const int err = errno;
    if (err == ENOENT && at_startup && path_ == kDefaultProcPath)
      throw Error(path_ +
                  " not found: load the module (insmod netmon_proc.ko) or use --netdev/--bpf");
    if (err == ENOENT && !at_startup)
      throw Error(path_ + " disappeared (netmon_proc unloaded?); counters can no longer be read");
    throw Error(errno_message("cannot open " + path_, err));
  }
  // seq_file hands out at most a buffer's worth per read(), so read until
  // EOF; a big buffer keeps that to one or two calls for a few hundred
  // interfaces. proc files report size 0, so fstat() is of no use here.
  std::string text;
  char buffer[64 * 1024];
  for (;;) {
    ssize_t n = ::read(fd.get(), buffer, sizeof(buffer));
    if (n < 0) {
      if (errno == EINTR) continue;
      throw Error(errno_message("cannot read " + path_, errno));
    }
    if (n == 0) break;
    text.append(buffer, static_cast<size_t>(n));
  }
  return parse_proc_netmon(text, path_);
}

CounterMap ProcSource::read(const std::vector<Link>& links) {
  std::vector<ProcRow> rows = read_rows(/*at_startup=*/false);
  // A later row for the same ifindex wins: it was read later (seq_file can
  // repeat a row when interfaces change between two read() chunks).
  std::unordered_map<int, const ProcRow*> by_index;
  by_index.reserve(rows.size());
  for (const ProcRow& row : rows) by_index[row.ifindex] = &row;

  CounterMap out;
  for (const Link& link : links) {
    auto it = by_index.find(link.ifindex);
    if (it == by_index.end()) {
      // Typically the module was loaded with iface=... not naming this one.
      if (warned_.emplace(link.ifindex, std::string()).second)
        spdlog::warn("{} has no row for '{}' (ifindex {}; module loaded with iface=...?); left out",
                     path_, link.name, link.ifindex);
      continue;
    }
    const ProcRow& row = *it->second;
    if (row.name != link.name) {
      // A rename not yet seen by the link tracker heals by the next interval; a
      // different network namespace never does. Either way, no counters.
      auto [warned, fresh] = warned_.emplace(link.ifindex, row.name);
      if (fresh || warned->second != row.name) {
        warned->second = row.name;
        spdlog::warn(
            "{}: ifindex {} is '{}' there but '{}' here (renamed, or the agent runs in another "
            "network namespace than the module); left out",
            path_, link.ifindex, row.name, link.name);
      }
      continue;
    }
    warned_.erase(link.ifindex);
    out.emplace(link.ifindex, row.counters);
  }
  return out;
}

}  // namespace netmon
