// netmon-agent: per-interface traffic counters as NDJSON on stdout.
#include <fcntl.h>
#if defined(__GLIBC__)
#include <malloc.h>
#endif
#include <spdlog/spdlog.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <iostream>
#include <memory>
#include <string>
#include <vector>

#include "app/agent.h"
#include "app/options.h"
#include "sys/error.h"
#include "sys/fd.h"
#include "sys/log.h"
#include "sys/stop.h"

namespace {

// A descriptor 0-2 the agent was started without (`>&-`) would be handed to
// the next open(): snapshots would then go into a netlink socket or the
// signalfd. Each closed one is filled with /dev/null; returns whether stdout
// was closed, for main to refuse a run that would write there.
bool fill_closed_standard_fds() {
  bool stdout_closed = false;
  for (int fd = 0; fd <= 2; ++fd) {
    if (::fcntl(fd, F_GETFD) >= 0 || errno != EBADF) continue;
    if (fd == STDOUT_FILENO) stdout_closed = true;
    // The lowest free descriptor: `fd` itself, as 0..fd-1 are open by now.
    int null_fd = ::open("/dev/null", fd == STDIN_FILENO ? O_RDONLY : O_WRONLY);
    if (null_fd >= 0 && null_fd != fd) ::close(null_fd);
  }
  return stdout_closed;
}

// Every tick allocates the same few large buffers (the readings, the
// snapshot, its line: ~0.5 MB at 1,000 interfaces) and frees them again.
// glibc's defaults hand a freed heap top back to the kernel past 128 KB
// (the threshold only ever moves up to twice the largest block freed from
// mmap) and map larger blocks afresh: each tick then faulted the same pages
// in again, 8-17 page faults a second at 1,000 interfaces, each costing more
// than a hundred interfaces' worth of work. Below 4 MiB, the heap keeps them.
void keep_tick_buffers() {
#if defined(__GLIBC__)
  constexpr int kKeep = 4 << 20;
  mallopt(M_MMAP_THRESHOLD, kKeep);
  mallopt(M_TRIM_THRESHOLD, kKeep);
#endif
}

}  // namespace

int main(int argc, char** argv) {
  const bool stdout_closed = fill_closed_standard_fds();
  netmon::Options options;
  try {
    options = netmon::parse_cli(std::vector<std::string>(argv + 1, argv + argc));
  } catch (const netmon::UsageError& e) {
    // Before the logger exists; the argument may hold anything (an ESC).
    std::fprintf(stderr, "netmon-agent: %s\nTry 'netmon-agent --help'.\n",
                 netmon::escape_for_terminal(e.what()).c_str());
    return e.exit_code();
  }
  if (options.help) {
    std::fputs(netmon::usage_text().c_str(), stdout);
    return 0;
  }
  if (options.version) {
    std::printf("%s\n", netmon::version_text().c_str());
    return 0;
  }

  netmon::setup_logging(options.verbosity);
  if (stdout_closed && (!options.quiet || options.report)) {
    spdlog::error(
        "stdout is closed (started with >&-?): nothing to write to; give it a pipe or a file, "
        "or use --quiet with --listen");
    return 1;
  }
  if (options.report) return netmon::run_report(options, std::cout);
  if (options.unpin) return netmon::run_unpin(options);
  keep_tick_buffers();
  try {
    // Blocked before any thread starts, so that every thread inherits the
    // mask; start-up checks the signalfd (sys/stop.h), so it stays
    // interruptible.
    netmon::Fd stop_fd = netmon::block_stop_signals();
    netmon::Agent agent(options);
    return agent.run(stop_fd.get());
  } catch (const netmon::StopRequested& e) {
    spdlog::info("{}", e.what());
    return e.exit_code();
  } catch (const netmon::Error& e) {
    spdlog::error("{}", e.what());
    return e.exit_code();
  } catch (const std::exception& e) {
    spdlog::error("internal error: {}", e.what());
    return 1;
  }
}
