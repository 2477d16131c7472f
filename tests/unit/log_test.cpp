// The logger is shared by the main loop and the HTTP server's thread. Run
// under ThreadSanitizer (NETMON_TSAN=ON, a step of ci/test), this test
// reports a data race when the logger is spdlog's single-threaded one.
#include "sys/log.h"

#include <gtest/gtest.h>
#include <spdlog/spdlog.h>
#include <unistd.h>

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

TEST(Log, TheServerThreadAndTheMainThreadLogAtTheSameTime) {
  constexpr int kRequests = 40, kMainLines = 400;
  StderrToFile capture;
  netmon::setup_logging(0);  // warnings: what both threads write here
  {
    // Every request makes the server's thread log a warning.
    netmon::HttpServer server({"127.0.0.1", 0},
                              [](std::string_view, std::string_view) -> netmon::HttpResponse {
                                throw std::runtime_error("boom");
                              });
    std::thread client([&] {
      for (int i = 0; i < kRequests; ++i)
        EXPECT_NE(netmon::test::http_request(server.port(), "GET", "/x").find(" 500 "),
                  std::string::npos);
    });
    for (int i = 0; i < kMainLines; ++i) spdlog::warn("main thread line {}", i);
    client.join();
  }
  capture.restore();
  netmon::setup_logging(1);

  std::istringstream lines(capture.text());
  int boom = 0, main_lines = 0;
  for (std::string line; std::getline(lines, line);) {
    // Whole lines only: no message cut into by the other thread's.
    EXPECT_EQ(line.rfind("netmon-agent: warning: ", 0), 0u) << line;
    boom += line.find(": boom") != std::string::npos;
    main_lines += line.find("main thread line ") != std::string::npos;
  }
  EXPECT_EQ(boom, kRequests);
  EXPECT_EQ(main_lines, kMainLines);
}
