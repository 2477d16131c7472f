// Which links are watched: keeps the set of selected interfaces in step with
// the kernel's (creations, deletions, renames) and tells every source to
// start or stop observing each. No sockets here: links and their changes come
// from a LinkFeed (rtnetlink in the agent, a scripted feed in tests), so the
// hotplug and rename rules run in unit tests without root.
#pragma once

#include <functional>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "core/counters.h"
#include "core/source.h"
#include "sys/error.h"

namespace netmon {

struct LinkEvent {
  bool deleted = false;  // else created or changed (renamed)
  Link link;
};

// Where links come from.
class LinkFeed {
 public:
  virtual ~LinkFeed() = default;

  // Every link present now. Throws Error.
  virtual std::vector<Link> dump() = 0;

  // Events since the last call, without blocking. std::nullopt: events were
  // lost (the kernel's queue overran) and the tracker re-dumps. Throws Error.
  virtual std::optional<std::vector<LinkEvent>> drain() = 0;

  // For poll(): readable when events are pending; -1 when there is nothing
  // to poll (a test feed).
  virtual int fd() const = 0;
};

struct LinkTrackerConfig {
  // Whether an interface (by its current name) is selected.
  std::function<bool(const std::string&)> selects;
  // Names that must exist at start-up (typed on the command line): a missing
  // one is an error, not something to wait for.
  std::vector<std::string> required_names;
  // Names expected to appear later (from a config file): warn once if absent.
  std::vector<std::string> expected_names;
  // Told of every link a source failed to start observing (the link is then
  // skipped), e.g. to count attach failures for /metrics.
  std::function<void(const Link&, const Error&)> on_watch_failure;
};

class LinkTracker {
 public:
  // Dumps the feed and watches every selected link on every source, in
  // order. Throws Error when a required name is missing or a source cannot
  // watch a required link. `sources` and `feed` must outlive the tracker.
  LinkTracker(LinkTrackerConfig config, std::vector<Source*> sources, LinkFeed& feed);
  // Unwatches every watched link.
  ~LinkTracker();

  LinkTracker(const LinkTracker&) = delete;
  LinkTracker& operator=(const LinkTracker&) = delete;

  // Applies everything the feed has queued (re-dumping if it lost events).
  void process_events();

  // The watched links, by ifindex.
  const std::map<int, Link>& links() const { return links_; }
  // The same, in ifindex order, as sources and reporters take them.
  std::vector<Link> link_list() const;

 private:
  void sync_all_links(bool at_startup);
  void on_link_seen(const Link& link, bool at_startup);
  void on_link_gone(int ifindex);
  bool watch(const Link& link, bool fatal);
  void unwatch(const Link& link);

  LinkTrackerConfig config_;
  std::vector<Source*> sources_;
  LinkFeed& feed_;
  std::map<int, Link> links_;
};

}  // namespace netmon
