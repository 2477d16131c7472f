#include "sources/proc/proc_source.h"

#include <fcntl.h>
#include <spdlog/spdlog.h>
#include <unistd.h>

#include <cerrno>
#include <unordered_map>

#include "sys/error.h"
#include "sys/fd.h"
#include "sys/file_kind.h"

namespace netmon {

ProcSource::ProcSource(std::string path, std::chrono::milliseconds bad_read_grace)
    : path_(std::move(path)), bad_read_grace_(bad_read_grace) {
  // At start-up every defect is fatal: nothing has been read yet, so there
  // is no reading to keep, and a wrong file is most likely a wrong path.
  last_rows_ = parse_proc_netmon(read_text(/*at_startup=*/true), path_);
}

std::string ProcSource::read_text(bool at_startup) const {
  // O_NONBLOCK: a FIFO would otherwise block the open() until a writer
  // comes, before the check below could refuse it.
  Fd fd(::open(path_.c_str(), O_RDONLY | O_CLOEXEC | O_NONBLOCK | O_NOCTTY));
  if (!fd) {
    const int err = errno;
    if (err == ENOENT && at_startup && path_ == kDefaultProcPath)
      throw Error(path_ +
                  " not found: load the module (insmod netmon_proc.ko) or use --netdev/--bpf");
    if (err == ENOENT && !at_startup)
      throw Error(path_ + " disappeared (netmon_proc unloaded?); counters can no longer be read");
    throw Error(errno_message("cannot open " + path_, err));
  }
  // /proc files are regular (of size 0); a FIFO or a device (/dev/zero)
  // never ends, or blocks.
  std::string kind = non_regular_kind(fd.get(), path_);
  if (!kind.empty()) throw Error("cannot read " + path_ + ": not a regular file (" + kind + ")");
  // seq_file hands out at most a buffer's worth per read(), so read until
  // EOF; a big buffer keeps that to one or two calls for a few hundred
  // interfaces. proc files report size 0, so fstat() cannot size the read.
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
    if (text.size() > kMaxProcFileBytes)
      throw Error(path_ + ": larger than " + std::to_string(kMaxProcFileBytes >> 20) +
                  " MiB: not a /proc/netmon file");
  }
  return text;
}

const std::vector<ProcRow>& ProcSource::current_rows() {
  const std::string text = read_text(/*at_startup=*/false);
  const auto now = std::chrono::steady_clock::now();
  try {
    last_rows_ = parse_proc_netmon(text, path_);
  } catch (const ProcNewerFormat&) {
    throw;  // the module was upgraded: waiting will not help
  } catch (const Error& e) {
    // A file rewritten in place (`cat > f`, scp) is empty or cut short for a
    // moment: keep the previous reading (its totals, so rates are 0 for this
    // interval) and try again at the next tick; only a file that stays bad
    // is an error.
    if (!bad_since_) {
      bad_since_ = now;
      skipped_ = 0;
      spdlog::warn(
          "{} (being rewritten?); keeping the previous reading and retrying every interval, "
          "for at most {} s",
          e.what(), std::chrono::duration_cast<std::chrono::seconds>(bad_read_grace_).count());
    }
    ++skipped_;
    if (now - *bad_since_ >= bad_read_grace_)
      throw Error(std::string(e.what()) + " (unreadable for " +
                  std::to_string(
                      std::chrono::duration_cast<std::chrono::seconds>(now - *bad_since_).count()) +
                  " s, " + std::to_string(skipped_) + " readings)");
    return last_rows_;
  }
  if (bad_since_) {
    spdlog::info("{} reads well again ({} readings skipped)", path_, skipped_);
    bad_since_.reset();
  }
  return last_rows_;
}

CounterMap ProcSource::read(const std::vector<Link>& links) {
  const std::vector<ProcRow>& rows = current_rows();
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
