// The one question every counter source answers: "counters for these
// interfaces, now". BPF, /proc/netmon and the kernel's netdev stats all sit
// behind it, so selection, snapshots and output never know which is in use.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "core/counters.h"
#include "core/snapshot.h"

namespace netmon {

class Source {
 public:
  virtual ~Source() = default;

  // Short stable name: "bpf", "proc" or "netdev" (JSON "source", metric label).
  virtual const char* kind() const = 0;

  // Begins observing `link`. For BPF this attaches the programs and zeroes
  // the link's slot, so counts start at 0 and a reused ifindex never inherits
  // a deleted interface's counts. Sources that only read need do nothing.
  // Throws Error when the link cannot be observed (the caller decides whether
  // that is fatal: at start-up for names the user typed, or a warning for
  // interfaces that appear later).
  virtual void watch(const Link& link) = 0;

  // Stops observing `link`, which may already be gone from the kernel. Never
  // throws; failures are logged.
  virtual void unwatch(const Link& link) = 0;

  // The agent is exiting: every unwatch() from now on is the agent letting
  // go, not the link leaving. A source whose state is meant to outlive the
  // process (BPF with --pin) keeps it; the others need do nothing.
  virtual void exiting() {}

  // Every link present at start-up has been offered to watch(). A source
  // that adopted state from an earlier process (--pin) lets go of what no
  // longer matches the selection.
  virtual void started() {}

  // Reads current totals for `links`. A link the source cannot see right now
  // (deleted meanwhile, missing /proc/netmon row) is absent from the result
  // rather than reported as zero. Throws Error only when the source as a
  // whole is unusable (e.g. /proc/netmon vanished because the module was
  // unloaded).
  virtual CounterMap read(const std::vector<Link>& links) = 0;

  // A source that watches the kernel between readings (BPF with legacy tc
  // filters: other tools' filters) gives the main loop an fd to poll, and
  // handle_events() is called when it is readable. -1: nothing to watch.
  virtual int event_fd() const { return -1; }
  // Never throws; what goes wrong is logged and shows in health().
  virtual void handle_events() {}

  // Counters about the source's own trustworthiness, for the snapshot's
  // "health" and Prometheus; std::nullopt when the source has none.
  virtual std::optional<SourceHealth> health() const { return std::nullopt; }
};

}  // namespace netmon
