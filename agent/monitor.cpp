#include "monitor.h"

#include <poll.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <cerrno>
#include <ctime>

#include "error.h"

namespace netmon {
namespace {

int64_t clock_ns(clockid_t clock) {
  timespec ts{};
  clock_gettime(clock, &ts);
  return static_cast<int64_t>(ts.tv_sec) * 1'000'000'000 + ts.tv_nsec;
}

std::vector<Link> values_of(const std::map<int, Link>& links) {
  std::vector<Link> out;
  out.reserve(links.size());
  for (const auto& [ifindex, link] : links) out.push_back(link);
  return out;
}

}  // namespace

Monitor::Monitor(MonitorConfig config, std::vector<std::unique_ptr<Source>> sources,
                 Reporter& reporter)
    : config_(std::move(config)), sources_(std::move(sources)), reporter_(reporter) {
  std::vector<Link> present = rtnl_.dump_links();
  for (const std::string& name : config_.required_names) {
    bool found =
        std::any_of(present.begin(), present.end(), [&](const Link& l) { return l.name == name; });
    if (!found) throw Error("no such interface '" + name + "'");
  }
  for (const std::string& name : config_.expected_names) {
    bool found =
        std::any_of(present.begin(), present.end(), [&](const Link& l) { return l.name == name; });
    if (!found)
      spdlog::warn("interface '{}' does not exist yet; it is watched once it appears", name);
  }
  for (const Link& link : present)
    if (config_.selects(link.name)) on_link_seen(link, /*at_startup=*/true);
  if (links_.empty()) spdlog::warn("no interface matches the selection yet");
}

Monitor::~Monitor() {
  for (const auto& [ifindex, link] : links_) unwatch(link);
}

bool Monitor::watch(const Link& link, bool fatal) {
  for (size_t i = 0; i < sources_.size(); ++i) {
    try {
      sources_[i]->watch(link);
    } catch (const Error& e) {
      // Leave no half-watched link behind.
      for (size_t j = 0; j < i; ++j) sources_[j]->unwatch(link);
      if (fatal) throw;
      spdlog::warn("{}; interface '{}' is skipped", e.what(), link.name);
      return false;
    }
  }
  return true;
}

void Monitor::unwatch(const Link& link) {
  for (auto& source : sources_) source->unwatch(link);
}

void Monitor::on_link_seen(const Link& link, bool at_startup) {
  auto it = links_.find(link.ifindex);
  const bool selected = config_.selects(link.name);
  if (it != links_.end()) {
    if (it->second.name == link.name) return;
    if (selected) {
      spdlog::info("interface '{}' renamed to '{}'", it->second.name, link.name);
      it->second.name = link.name;
      return;
    }
    spdlog::info("interface '{}' renamed to '{}', which is not selected", it->second.name,
                 link.name);
    unwatch(it->second);
    links_.erase(it);
    return;
  }
  if (!selected) return;
  const bool required = std::find(config_.required_names.begin(), config_.required_names.end(),
                                  link.name) != config_.required_names.end();
  if (!watch(link, at_startup && required)) return;
  links_.emplace(link.ifindex, link);
  if (!at_startup) spdlog::info("interface '{}' appeared (ifindex {})", link.name, link.ifindex);
}

void Monitor::on_link_gone(int ifindex) {
  auto it = links_.find(ifindex);
  if (it == links_.end()) return;
  spdlog::info("interface '{}' disappeared", it->second.name);
  unwatch(it->second);
  links_.erase(it);
}

void Monitor::sync_all_links(bool at_startup) {
  std::vector<Link> present = rtnl_.dump_links();
  std::map<int, const Link*> by_index;
  for (const Link& link : present) by_index[link.ifindex] = &link;
  std::vector<int> gone;
  for (const auto& [ifindex, link] : links_)
    if (!by_index.count(ifindex)) gone.push_back(ifindex);
  for (int ifindex : gone) on_link_gone(ifindex);
  for (const Link& link : present) on_link_seen(link, at_startup);
}

bool Monitor::take_snapshot() {
  std::vector<Link> links = values_of(links_);
  std::vector<CounterMap> readings;
  readings.reserve(sources_.size());
  const int64_t now_ns = clock_ns(CLOCK_MONOTONIC);
  for (auto& source : sources_) readings.push_back(source->read(links));
  ++snapshots_;
  return reporter_.report(links, readings, now_ns, clock_ns(CLOCK_REALTIME) / 1'000'000);
}

int Monitor::run(int stop_fd) {
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
      process_link_events();
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
    pollfd fds[3] = {
        {stop_fd, POLLIN, 0}, {link_monitor_.fd(), POLLIN, 0}, {config_.watched_output_fd, 0, 0}};
    int timeout_ms = static_cast<int>((next_tick - now + 999'999) / 1'000'000);
    int n = ::poll(fds, config_.watched_output_fd >= 0 ? 3 : 2, timeout_ms);
    if (n < 0) {
      if (errno == EINTR) continue;
      throw Error(errno_message("poll failed", errno));
    }
    if (fds[0].revents) return 0;
    if (config_.watched_output_fd >= 0 && (fds[2].revents & (POLLERR | POLLHUP))) {
      spdlog::info("stdout closed by the reader; exiting");
      return 0;
    }
    if (fds[1].revents) process_link_events();
  }
  return 0;
}

void Monitor::process_link_events() {
  auto events = link_monitor_.drain();
  if (!events) {
    spdlog::warn("rtnetlink events were lost; re-reading all interfaces");
    sync_all_links(false);
    return;
  }
  for (const auto& event : *events) {
    if (event.kind == LinkMonitor::Event::Kind::kDeleted)
      on_link_gone(event.link.ifindex);
    else
      on_link_seen(event.link, false);
  }
}

}  // namespace netmon
