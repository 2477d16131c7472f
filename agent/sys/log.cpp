#include "sys/log.h"

#include <bpf/libbpf.h>
#include <spdlog/sinks/base_sink.h>
#include <spdlog/spdlog.h>

#include <cstdarg>
#include <cstdio>
#include <mutex>
#include <string>

#include "sys/utf8.h"

namespace netmon {
namespace {

// stderr, one whole line per message (the mutex: the HTTP server's thread
// logs too), escaped for the terminal.
class TerminalStderrSink : public spdlog::sinks::base_sink<std::mutex> {
 protected:
  void sink_it_(const spdlog::details::log_msg& msg) override {
    spdlog::memory_buf_t formatted;
    formatter_->format(msg, formatted);
    std::string_view text(formatted.data(), formatted.size());
    const bool eol = !text.empty() && text.back() == '\n';
    if (eol) text.remove_suffix(1);
    std::string line = escape_for_terminal(text);
    if (eol) line += '\n';
    std::fwrite(line.data(), 1, line.size(), stderr);
  }
  void flush_() override { std::fflush(stderr); }
};

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

std::string escape_for_terminal(std::string_view text) {
  static const char kHex[] = "0123456789abcdef";
  std::string out;
  out.reserve(text.size());
  auto escape = [&](unsigned char c) {
    out += "\\x";
    out += kHex[c >> 4];
    out += kHex[c & 0xf];
  };
  for (std::size_t i = 0; i < text.size();) {
    const auto c = static_cast<unsigned char>(text[i]);
    std::size_t len = utf8_sequence_length(text, i);
    // U+0080..U+009F (C2 80..C2 9F) are C1 controls: CSI is U+009B.
    const bool c1 = len == 2 && c == 0xc2 && static_cast<unsigned char>(text[i + 1]) < 0xa0;
    if (len == 0 || c1 || (c < 0x20 && c != '\t') || c == 0x7f) {
      const std::size_t n = len == 0 ? 1 : len;
      for (std::size_t k = 0; k < n; ++k) escape(static_cast<unsigned char>(text[i + k]));
      i += n;
      continue;
    }
    out.append(text, i, len);
    i += len;
  }
  return out;
}

void setup_logging(int verbosity) {
  // _mt: the HTTP server's thread logs too (a handler's exception, a
  // client it drops), concurrently with the main loop.
  spdlog::drop("netmon-agent");  // set up again (tests): replace, not clash
  auto logger =
      std::make_shared<spdlog::logger>("netmon-agent", std::make_shared<TerminalStderrSink>());
  spdlog::register_logger(logger);
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
