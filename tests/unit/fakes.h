// Test-input stand-ins for the agent's kernel-facing interfaces: a link feed
// that replays scripted link events and a source that records what it is
// told and reads back counters the test sets, so the link tracker and the
// reporters run without root, sockets or sleeps.
#pragma once

#include <map>
#include <optional>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "core/link_tracker.h"
#include "core/source.h"
#include "sys/error.h"

namespace netmon::test {

class FakeLinkFeed : public LinkFeed {
 public:
  // The kernel's links now: what dump() returns.
  std::map<int, Link> present;
  // What the next drain() returns; std::nullopt: "events were lost".
  std::optional<std::vector<LinkEvent>> pending = std::vector<LinkEvent>{};
  int dumps = 0;

  void add(const Link& link) {
    present[link.ifindex] = link;
    pending->push_back({false, link});
  }
  void rename(int ifindex, const std::string& name) {
    present[ifindex].name = name;
    pending->push_back({false, present[ifindex]});
  }
  void remove(int ifindex) {
    pending->push_back({true, present[ifindex]});
    present.erase(ifindex);
  }

  std::vector<Link> dump() override {
    ++dumps;
    std::vector<Link> out;
    for (const auto& [ifindex, link] : present) out.push_back(link);
    return out;
  }
  std::optional<std::vector<LinkEvent>> drain() override {
    auto out = std::move(pending);
    pending = std::vector<LinkEvent>{};
    return out;
  }
  int fd() const override { return -1; }
};

class FakeSource : public Source {
 public:
  std::vector<std::string> log;  // "watch eth0", "unwatch eth0", in order
  std::set<std::string> refuse;  // names whose watch() throws
  CounterMap counters;           // what read() returns, for links asked
  std::map<int, Link> watched;

  const char* kind() const override { return "fake"; }
  void watch(const Link& link) override {
    if (refuse.count(link.name)) throw Error("failed to attach to '" + link.name + "' (fake)");
    log.push_back("watch " + link.name);
    watched[link.ifindex] = link;
  }
  void unwatch(const Link& link) override {
    log.push_back("unwatch " + link.name);
    watched.erase(link.ifindex);
  }
  CounterMap read(const std::vector<Link>& links) override {
    CounterMap out;
    for (const Link& link : links)
      if (auto it = counters.find(link.ifindex); it != counters.end()) out.insert(*it);
    return out;
  }
};

}  // namespace netmon::test
