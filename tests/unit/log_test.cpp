// The logger is shared by the main loop and the HTTP server's thread. Run
// under ThreadSanitizer (NETMON_TSAN=ON, a step of ci/test), this test
// reports a data race when the logger is spdlog's single-threaded one.
#include "sys/log.h"

#include <gtest/gtest.h>
#include <spdlog/sinks/base_sink.h>
#include <spdlog/spdlog.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <fstream>
#include <mutex>
#include <sstream>
#include <stdexcept>
#include <thread>

#include "http_client.h"
#include "output/http_server.h"

namespace {

// Sends stderr to a file for the lifetime of the object.
class StderrToFile {
 public:
  StderrToFile() : saved_(dup(STDERR_FILENO)) {
    char name[] = "/tmp/netmon-log-test-XXXXXX";
    int fd = mkstemp(name);
    path_ = name;
    std::fflush(stderr);
    dup2(fd, STDERR_FILENO);
    close(fd);
  }
  ~StderrToFile() {
    restore();
    std::remove(path_.c_str());
  }
  void restore() {
    if (saved_ < 0) return;
    std::fflush(stderr);
    dup2(saved_, STDERR_FILENO);
    close(saved_);
    saved_ = -1;
  }
  std::string text() const {
    std::ifstream in(path_);
    std::stringstream out;
    out << in.rdbuf();
    return out.str();
  }

 private:
  int saved_;
  std::string path_;
};

}  // namespace

TEST(Log, TheLoggerIsTheThreadSafeOne) {
  netmon::setup_logging(1);
  auto logger = spdlog::default_logger();
  ASSERT_EQ(logger->sinks().size(), 1u);
  EXPECT_NE(dynamic_cast<spdlog::sinks::base_sink<std::mutex>*>(logger->sinks()[0].get()), nullptr);
  EXPECT_EQ(logger->name(), "netmon-agent");
}

TEST(Log, TheServerThreadAndTheMainThreadLogAtTheSameTime) {
  // Both threads log for a little over a second, so the formatter's
  // once-a-second update happens while the other thread formats too.
  const auto until = std::chrono::steady_clock::now() + std::chrono::milliseconds(1200);
  int requests = 0, main_written = 0;
  StderrToFile capture;
  netmon::setup_logging(0);  // warnings: what both threads write here
  // With the time in the pattern, spdlog's formatter rewrites its cached
  // time once a second: state a single-threaded logger shares unguarded
  // (the agent's own pattern has none, which is why this race never showed).
  spdlog::default_logger()->set_pattern("netmon-agent: %^%l%$: %v (%T)");
  {
    // Every request makes the server's thread log a warning.
    netmon::HttpServer server({"127.0.0.1", 0},
                              [](std::string_view, std::string_view) -> netmon::HttpResponse {
                                throw std::runtime_error("boom");
                              });
    std::thread client([&] {
      while (std::chrono::steady_clock::now() < until) {
        EXPECT_NE(netmon::test::http_request(server.port(), "GET", "/x").find(" 500 "),
                  std::string::npos);
        ++requests;
      }
    });
    while (std::chrono::steady_clock::now() < until)
      spdlog::warn("main thread line {}", main_written++);
    client.join();
  }
  capture.restore();
  netmon::setup_logging(1);

  std::istringstream lines(capture.text());
  int boom = 0, main_lines = 0;
  for (std::string line; std::getline(lines, line);) {
    // Whole lines only: no message cut into by the other thread's.
    ASSERT_EQ(line.rfind("netmon-agent: warning: ", 0), 0u) << line;
    boom += line.find(": boom") != std::string::npos;
    main_lines += line.find("main thread line ") != std::string::npos;
  }
  EXPECT_GT(requests, 0);
  EXPECT_EQ(boom, requests);
  EXPECT_EQ(main_lines, main_written);
}

// Issue 13, 2.11: an interface name from a --proc-file (or the kernel: an
// ESC is a valid name byte) reached the terminal raw in a warning.
TEST(Log, ControlCharactersInMessagesAreEscaped) {
  StderrToFile capture;
  netmon::setup_logging(1);
  spdlog::warn("name '{}'", "ev\x1b[2Jil\r\n\xc2\x9b\xff\tok \xc3\xa9");
  capture.restore();
  EXPECT_EQ(capture.text(),
            "netmon-agent: warning: name 'ev\\x1b[2Jil\\x0d\\x0a\\xc2\\x9b\\xff\tok "
            "\xc3\xa9'\n");
}

TEST(Log, EscapeForTerminalKeepsTextAndTab) {
  EXPECT_EQ(netmon::escape_for_terminal("eth0 \xe2\x86\x92 w\tlan"), "eth0 \xe2\x86\x92 w\tlan");
  EXPECT_EQ(netmon::escape_for_terminal(std::string("a\0b", 3)), "a\\x00b");
  EXPECT_EQ(netmon::escape_for_terminal("\x7f\xc2\xa0"), "\\x7f\xc2\xa0");
}
