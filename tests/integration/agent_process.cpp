#include "agent_process.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <array>
#include <cstdio>
#include <fstream>
#include <sstream>
#include <stdexcept>

namespace netmon::testing {

AgentProcess::AgentProcess(const std::vector<std::string>& args, const std::string& netns,
                           const std::vector<std::string>& wrapper) {
  char stderr_template[] = "/tmp/netmon-agent-stderr-XXXXXX";
  int stderr_fd = mkstemp(stderr_template);
  if (stderr_fd < 0) throw std::runtime_error("mkstemp failed");
  stderr_path_ = stderr_template;
  int out[2];
  if (pipe2(out, O_CLOEXEC) < 0) throw std::runtime_error("pipe failed");

  std::vector<std::string> argv;
  if (!netns.empty()) argv = {"ip", "netns", "exec", netns};
  argv.insert(argv.end(), wrapper.begin(), wrapper.end());
  argv.push_back(NETMON_AGENT_PATH);
  argv.insert(argv.end(), args.begin(), args.end());

  pid_ = fork();
  if (pid_ < 0) throw std::runtime_error("fork failed");
  if (pid_ == 0) {
    dup2(out[1], STDOUT_FILENO);
    dup2(stderr_fd, STDERR_FILENO);
    // gtest may run with SIGPIPE ignored; the agent must see the default.
    ::signal(SIGPIPE, SIG_DFL);
    std::vector<char*> cargv;
    for (auto& a : argv) cargv.push_back(a.data());
    cargv.push_back(nullptr);
    execvp(cargv[0], cargv.data());
    _exit(127);
  }
  close(out[1]);
  close(stderr_fd);
  stdout_fd_ = out[0];
}

AgentProcess::~AgentProcess() {
  if (!status_ && pid_ > 0) {
    kill(pid_, SIGKILL);
    waitpid(pid_, nullptr, 0);
  }
  if (stdout_fd_ >= 0) close(stdout_fd_);
  unlink(stderr_path_.c_str());
}

std::optional<std::string> AgentProcess::read_line(std::chrono::milliseconds timeout) {
  auto deadline = std::chrono::steady_clock::now() + timeout;
  for (;;) {
    if (auto nl = pending_.find('\n'); nl != std::string::npos) {
      std::string line = pending_.substr(0, nl);
      pending_.erase(0, nl + 1);
      return line;
    }
    if (stdout_fd_ < 0) return std::nullopt;
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
        deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0) return std::nullopt;
    pollfd p{stdout_fd_, POLLIN, 0};
    if (poll(&p, 1, static_cast<int>(left.count())) <= 0) continue;
    char buf[65536];
    ssize_t n = ::read(stdout_fd_, buf, sizeof(buf));
    if (n <= 0) return std::nullopt;
    pending_.append(buf, static_cast<size_t>(n));
  }
}

std::optional<nlohmann::json> AgentProcess::read_snapshot(std::chrono::milliseconds timeout) {
  auto line = read_line(timeout);
  if (!line) return std::nullopt;
  return nlohmann::json::parse(*line);
}

void AgentProcess::signal(int signo) { kill(pid_, signo); }

void AgentProcess::close_stdout() {
  close(stdout_fd_);
  stdout_fd_ = -1;
}

std::optional<int> AgentProcess::wait(std::chrono::milliseconds timeout) {
  if (status_) return status_;
  auto deadline = std::chrono::steady_clock::now() + timeout;
  do {
    int status = 0;
    pid_t r = waitpid(pid_, &status, WNOHANG);
    if (r == pid_) {
      status_ = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
      return status_;
    }
    usleep(10'000);
  } while (std::chrono::steady_clock::now() < deadline);
  return std::nullopt;
}

std::string AgentProcess::stderr_text() const {
  std::ifstream in(stderr_path_);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

std::string run(const std::string& command) {
  FILE* p = popen(command.c_str(), "r");
  if (!p) throw std::runtime_error("popen failed: " + command);
  std::string out;
  std::array<char, 4096> buf;
  size_t n;
  while ((n = fread(buf.data(), 1, buf.size(), p)) > 0) out.append(buf.data(), n);
  int status = pclose(p);
  if (status != 0) throw std::runtime_error("command failed: " + command);
  return out;
}

int run_status(const std::string& command) {
  int status = std::system((command + " >/dev/null 2>&1").c_str());
  return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

}  // namespace netmon::testing
