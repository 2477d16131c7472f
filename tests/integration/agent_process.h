// Runs the real netmon-agent binary (optionally inside a network namespace)
// and reads its NDJSON stdout line by line, as a user's pipe would.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

namespace netmon::testing {

class AgentProcess {
 public:
  // `netns` empty: the test's own namespace. `wrapper` runs the agent through
  // another command (e.g. setpriv to drop privileges).
  AgentProcess(const std::vector<std::string>& args, const std::string& netns = "",
               const std::vector<std::string>& wrapper = {});
  ~AgentProcess();  // SIGKILLs and reaps if still running
  AgentProcess(const AgentProcess&) = delete;
  AgentProcess& operator=(const AgentProcess&) = delete;

  // The next complete stdout line, or nullopt on EOF or timeout.
  std::optional<std::string> read_line(std::chrono::milliseconds timeout);
  // The next line parsed as JSON; fails the test (throws) if it is not.
  std::optional<nlohmann::json> read_snapshot(std::chrono::milliseconds timeout);

  void signal(int signo);
  // Closes our end of the agent's stdout, as a departed websocat would.
  void close_stdout();
  // Exit status (WEXITSTATUS, or 128+signal), waiting up to `timeout`;
  // nullopt if it is still running then.
  std::optional<int> wait(std::chrono::milliseconds timeout);
  // Everything written to stderr so far (read after wait()).
  std::string stderr_text() const;

  pid_t pid() const { return pid_; }

 private:
  pid_t pid_ = -1;
  int stdout_fd_ = -1;
  std::string stderr_path_;
  std::string pending_;
  std::optional<int> status_;
};

// Runs a command (via /bin/sh -c) and returns its stdout; throws on failure.
std::string run(const std::string& command);
// Runs a command, returning its exit status; output discarded.
int run_status(const std::string& command);

}  // namespace netmon::testing
