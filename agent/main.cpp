// netmon-agent: per-interface traffic counters as NDJSON on stdout.
#include <signal.h>
#include <spdlog/spdlog.h>
#include <sys/signalfd.h>
#include <unistd.h>

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

namespace {

// SIGINT/SIGTERM become readable events on an fd the main loop polls, so no
// handler and no global flag is needed. Blocked before any thread starts so
// that every thread inherits the mask.
netmon::Fd block_stop_signals() {
  sigset_t mask;
  sigemptyset(&mask);
  sigaddset(&mask, SIGINT);
  sigaddset(&mask, SIGTERM);
  sigaddset(&mask, SIGHUP);
  if (sigprocmask(SIG_BLOCK, &mask, nullptr) < 0)
    throw netmon::Error(netmon::errno_message("cannot block signals", errno));
  netmon::Fd fd(signalfd(-1, &mask, SFD_CLOEXEC | SFD_NONBLOCK));
  if (!fd) throw netmon::Error(netmon::errno_message("cannot create signalfd", errno));
  // A closed pipe must surface as EPIPE from write(), not kill us mid-detach.
  signal(SIGPIPE, SIG_IGN);
  return fd;
}

}  // namespace

int main(int argc, char** argv) {
  netmon::Options options;
  try {
    options = netmon::parse_cli(std::vector<std::string>(argv + 1, argv + argc));
  } catch (const netmon::UsageError& e) {
    std::fprintf(stderr, "netmon-agent: %s\nTry 'netmon-agent --help'.\n", e.what());
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
  if (options.report) return netmon::run_report(options, std::cout);
  if (options.unpin) return netmon::run_unpin(options);
  try {
    netmon::Fd stop_fd = block_stop_signals();
    netmon::Agent agent(options);
    return agent.run(stop_fd.get());
  } catch (const netmon::Error& e) {
    spdlog::error("{}", e.what());
    return e.exit_code();
  } catch (const std::exception& e) {
    spdlog::error("internal error: {}", e.what());
    return 1;
  }
}
