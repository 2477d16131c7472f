// The logger is shared by the main loop and the HTTP server's thread. Run
// under ThreadSanitizer (NETMON_TSAN=ON, a step of ci/test), this test
// reports a data race when the logger is spdlog's single-threaded one.
#include "sys/log.h"

#include <gtest/gtest.h>
#include <spdlog/sinks/stdout_sinks.h>
#include <spdlog/spdlog.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <fstream>
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
  EXPECT_NE(dynamic_cast<spdlog::sinks::stderr_sink_mt*>(logger->sinks()[0].get()), nullptr);
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
