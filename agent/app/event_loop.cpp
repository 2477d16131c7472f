#include "app/event_loop.h"

#include <poll.h>
#include <spdlog/spdlog.h>

#include <cerrno>
#include <ctime>
#include <vector>

#include "sys/error.h"

namespace netmon {
namespace {

int64_t clock_ns(clockid_t clock) {
  timespec ts{};
  clock_gettime(clock, &ts);
  return static_cast<int64_t>(ts.tv_sec) * 1'000'000'000 + ts.tv_nsec;
}

}  // namespace

EventLoop::EventLoop(EventLoopConfig config, std::vector<Source*> sources, LinkTracker& tracker,
                     LinkFeed& feed, Reporter& reporter)
    : config_(config),
      sources_(std::move(sources)),
      tracker_(tracker),
      feed_(feed),
      reporter_(reporter) {}

bool EventLoop::take_snapshot() {
  std::vector<Link> links = tracker_.link_list();
  std::vector<CounterMap> readings;
  readings.reserve(sources_.size());
  const int64_t now_ns = clock_ns(CLOCK_MONOTONIC);
  for (Source* source : sources_) readings.push_back(source->read(links));
  ++snapshots_;
  return reporter_.report(links, readings, now_ns, clock_ns(CLOCK_REALTIME) / 1'000'000);
}

int EventLoop::run(int stop_fd) {
  const int64_t interval_ns =
      std::chrono::duration_cast<std::chrono::nanoseconds>(config_.interval).count();
  // seq 0 is the baseline, taken as soon as everything is attached.
  if (!take_snapshot()) return 0;
  int64_t next_tick = clock_ns(CLOCK_MONOTONIC) + interval_ns;

  while (!config_.count || snapshots_ < *config_.count) {
    int64_t now = clock_ns(CLOCK_MONOTONIC);
    if (now >= next_tick) {
      // Events already queued (a veth pair's second end, say) belong in
      // this snapshot, not the next one.
      tracker_.process_events();
      if (!take_snapshot()) {
        spdlog::info("stdout closed by the reader; exiting");
        return 0;
      }
      // Stay on the original grid; after a stall, skip missed ticks rather
      // than bursting.
      next_tick += interval_ns;
      if (next_tick <= now) next_tick = now + interval_ns;
      continue;
    }
    // stop, link events, stdout (for POLLERR/POLLHUP), then the sources'.
    std::vector<pollfd> fds = {
        {stop_fd, POLLIN, 0}, {feed_.fd(), POLLIN, 0}, {config_.watched_output_fd, 0, 0}};
    for (Source* source : sources_) fds.push_back({source->event_fd(), POLLIN, 0});
    int timeout_ms = static_cast<int>((next_tick - now + 999'999) / 1'000'000);
    // poll() skips negative fds: an unwatched stdout and sources without one.
    int n = ::poll(fds.data(), fds.size(), timeout_ms);
    if (n < 0) {
      if (errno == EINTR) continue;
      throw Error(errno_message("poll failed", errno));
    }
    if (fds[0].revents) return 0;
    if (config_.watched_output_fd >= 0 && (fds[2].revents & (POLLERR | POLLHUP))) {
      spdlog::info("stdout closed by the reader; exiting");
      return 0;
    }
    if (fds[1].revents) tracker_.process_events();
    // After the link events: a filter change on an interface just deleted
    // needs no repair.
    for (size_t i = 0; i < sources_.size(); ++i)
      if (fds[3 + i].revents) sources_[i]->handle_events();
  }
  return 0;
}

}  // namespace netmon
