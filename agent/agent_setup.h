// Turns the command line into a running agent: the interface selection, the
// source(s), the reporter and the optional metrics endpoint.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "cli.h"
#include "monitor.h"
#include "reporter.h"
#include "source.h"

namespace netmon {

// "netmon-agent <version> (bpf object <build id>)".
std::string version_text();

// Creates the source for one kind ("bpf", "proc" or "netdev"). Throws Error.
// `selected_links` (interfaces selected at start-up) lets --attach auto pick
// the attach method that scales to that many.
std::unique_ptr<Source> make_source(SourceKind kind, const Options& options,
                                    size_t selected_links = 0);

class Agent {
 public:
  // Resolves the selection, loads and attaches everything. Throws Error.
  explicit Agent(Options options);
  ~Agent();

  int run(int stop_fd);

 private:
  Options options_;
  std::unique_ptr<Reporter> reporter_;
  std::vector<std::unique_ptr<SnapshotObserver>> observers_;
  std::unique_ptr<Monitor> monitor_;  // last: detaches before the rest goes
};

}  // namespace netmon
