#include "core/link_tracker.h"

#include <spdlog/spdlog.h>

#include <algorithm>

#include "sys/stop.h"

namespace netmon {

LinkTracker::LinkTracker(LinkTrackerConfig config, std::vector<Source*> sources, LinkFeed& feed)
    : config_(std::move(config)), sources_(std::move(sources)), feed_(feed) {
  std::vector<Link> present = feed_.dump();
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
  size_t matched = 0;
  for (const Link& link : present) {
    if (!config_.selects(link.name)) continue;
    ++matched;
    // Attaching to 1,000 interfaces can take 30 s (tcx): a SIGTERM meanwhile
    // ends it here; the sources detach what was attached as they go.
    throw_if_stop_requested();
    on_link_seen(link, /*at_startup=*/true);
  }
  if (matched == 0)
    spdlog::warn("no interface matches the selection yet");
  else if (links_.empty())
    spdlog::warn(
        "every interface the selection matches ({}) failed to attach (see above); "
        "new ones are tried as they appear",
        matched);
}

LinkTracker::~LinkTracker() {
  for (const auto& [ifindex, link] : links_) unwatch(link);
}

std::vector<Link> LinkTracker::link_list() const {
  std::vector<Link> out;
  out.reserve(links_.size());
  for (const auto& [ifindex, link] : links_) out.push_back(link);
  return out;
}

bool LinkTracker::watch(const Link& link, bool fatal) {
  for (size_t i = 0; i < sources_.size(); ++i) {
    try {
      sources_[i]->watch(link);
    } catch (const Error& e) {
      if (config_.on_watch_failure) config_.on_watch_failure(link, e);
      // Leave no half-watched link behind.
      for (size_t j = 0; j < i; ++j) sources_[j]->unwatch(link);
      if (fatal) throw;
      spdlog::warn("{}; interface '{}' is skipped", e.what(), link.name);
      return false;
    }
  }
  return true;
}

void LinkTracker::unwatch(const Link& link) {
  for (Source* source : sources_) source->unwatch(link);
}

void LinkTracker::on_link_seen(const Link& link, bool at_startup) {
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

void LinkTracker::on_link_gone(int ifindex) {
  auto it = links_.find(ifindex);
  if (it == links_.end()) return;
  spdlog::info("interface '{}' disappeared", it->second.name);
  unwatch(it->second);
  links_.erase(it);
}

void LinkTracker::sync_all_links(bool at_startup) {
  std::vector<Link> present = feed_.dump();
  std::map<int, const Link*> by_index;
  for (const Link& link : present) by_index[link.ifindex] = &link;
  std::vector<int> gone;
  for (const auto& [ifindex, link] : links_)
    if (!by_index.count(ifindex)) gone.push_back(ifindex);
  for (int ifindex : gone) on_link_gone(ifindex);
  for (const Link& link : present) on_link_seen(link, at_startup);
}

void LinkTracker::process_events() {
  auto events = feed_.drain();
  if (!events) {
    spdlog::warn("rtnetlink events were lost; re-reading all interfaces");
    sync_all_links(false);
    return;
  }
  for (const LinkEvent& event : *events) {
    if (event.deleted)
      on_link_gone(event.link.ifindex);
    else
      on_link_seen(event.link, false);
  }
}

}  // namespace netmon
