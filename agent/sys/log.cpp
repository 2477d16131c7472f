#include "sys/log.h"

#include <bpf/libbpf.h>
#include <spdlog/sinks/stdout_sinks.h>
#include <spdlog/spdlog.h>

#include <cstdarg>
#include <cstdio>
#include <string>

namespace netmon {
namespace {

int libbpf_to_spdlog(enum libbpf_print_level, const char* fmt, va_list args) {
  // libbpf's warnings are mostly probe noise ("Cannot find specified filter
  // chain" while looking for stale filters) that our own errors explain
  // better, so all of libbpf shows only at -vv.
  if (!spdlog::should_log(spdlog::level::trace)) return 0;
  char buf[1024];
  int n = vsnprintf(buf, sizeof(buf), fmt, args);
  std::string line(buf, n < 0 ? 0 : std::min<size_t>(n, sizeof(buf) - 1));
  while (!line.empty() && line.back() == '\n') line.pop_back();
  // libbpf prefixes most of its messages already.
  if (line.rfind("libbpf: ", 0) != 0) line.insert(0, "libbpf: ");
  spdlog::trace("{}", line);
  return 0;
}

}  // namespace

void setup_logging(int verbosity) {
  // _mt: the HTTP server's thread logs too (a handler's exception, a
  // client it drops), concurrently with the main loop.
  spdlog::drop("netmon-agent");  // set up again (tests): replace, not clash
  auto logger = spdlog::stderr_logger_mt("netmon-agent");
  logger->set_pattern("netmon-agent: %^%l%$: %v");
  logger->set_level(verbosity <= 0   ? spdlog::level::warn
                    : verbosity == 1 ? spdlog::level::info
                    : verbosity == 2 ? spdlog::level::debug
                                     : spdlog::level::trace);
  logger->flush_on(spdlog::level::trace);
  spdlog::set_default_logger(logger);
  libbpf_set_print(libbpf_to_spdlog);
}

}  // namespace netmon
