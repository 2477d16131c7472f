#include "sys/stop.h"

#include <poll.h>
#include <signal.h>
#include <sys/signalfd.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>

namespace netmon {
namespace {

std::atomic<int> g_stop_fd{-1};

}  // namespace

Fd block_stop_signals() {
  sigset_t mask;
  sigemptyset(&mask);
  sigaddset(&mask, SIGINT);
  sigaddset(&mask, SIGTERM);
  sigaddset(&mask, SIGHUP);
  if (sigprocmask(SIG_BLOCK, &mask, nullptr) < 0)
    throw Error(errno_message("cannot block signals", errno));
  Fd fd(signalfd(-1, &mask, SFD_CLOEXEC | SFD_NONBLOCK));
  if (!fd) throw Error(errno_message("cannot create signalfd", errno));
  // A closed pipe must surface as EPIPE from write(), not kill us mid-detach.
  signal(SIGPIPE, SIG_IGN);
  g_stop_fd = fd.get();
  return fd;
}

int stop_fd() { return g_stop_fd; }

void set_stop_fd(int fd) { g_stop_fd = fd; }

void throw_if_stop_requested() {
  const int fd = g_stop_fd;
  if (fd < 0) return;
  pollfd p{fd, POLLIN, 0};
  if (::poll(&p, 1, 0) <= 0) return;
  // Consumed: the agent is about to unwind and exit, nobody else needs it.
  signalfd_siginfo info{};
  std::string name = "a stop signal";
  if (::read(fd, &info, sizeof(info)) == static_cast<ssize_t>(sizeof(info)))
    name = info.ssi_signo == SIGINT    ? "SIGINT"
           : info.ssi_signo == SIGTERM ? "SIGTERM"
           : info.ssi_signo == SIGHUP  ? "SIGHUP"
                                       : name;
  throw StopRequested("stopped by " + name + " during start-up");
}

}  // namespace netmon
