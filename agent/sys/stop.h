// SIGINT, SIGTERM and SIGHUP arrive on a signalfd (main.cpp blocks them in
// every thread). The main loop polls it; start-up steps that can take long
// (the uci command, attaching to hundreds of interfaces) check it too, so a
// stop request during start-up ends the agent promptly, with whatever was
// attached so far detached on the way out.
#pragma once

#include <string>

#include "sys/error.h"
#include "sys/fd.h"

namespace netmon {

// A stop signal arrived before the agent was running: not a failure, so the
// exit status is 0, as for a stop while running.
class StopRequested : public Error {
 public:
  explicit StopRequested(const std::string& what) : Error(what, 0) {}
};

// Blocks the stop signals in the calling thread (and so in every thread it
// starts later), ignores SIGPIPE, and returns the signalfd they arrive on,
// which also becomes stop_fd(). Throws Error.
Fd block_stop_signals();

// The signalfd of block_stop_signals(), or -1 (tests, --report).
int stop_fd();
// For tests: use `fd` (-1: none) as stop_fd().
void set_stop_fd(int fd);

// Throws StopRequested ("stopped by SIGTERM during start-up") when a stop
// signal is pending.
void throw_if_stop_requested();

}  // namespace netmon
