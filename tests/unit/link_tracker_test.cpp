// The hotplug and rename rules of the link tracker, driven by a scripted link
// feed: what the root integration tests check over real veths, here without
// root, sockets or sleeps.
#include "core/link_tracker.h"

#include <fnmatch.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <spdlog/sinks/ostream_sink.h>
#include <spdlog/spdlog.h>
#include <sys/signalfd.h>
#include <unistd.h>

#include <sstream>

#include "fakes.h"
#include "sys/stop.h"
#include "test_util.h"

using netmon::Link;
using netmon::LinkTracker;
using netmon::LinkTrackerConfig;
using netmon::test::error_of;
using netmon::test::FakeLinkFeed;
using netmon::test::FakeSource;
using testing::ElementsAre;
using testing::HasSubstr;
using testing::IsEmpty;

namespace {

LinkTrackerConfig glob(const char* pattern) {
  LinkTrackerConfig config;
  config.selects = [pattern](const std::string& name) {
    return fnmatch(pattern, name.c_str(), 0) == 0;
  };
  return config;
}

std::vector<std::string> names(const LinkTracker& tracker) {
  std::vector<std::string> out;
  for (const Link& link : tracker.link_list()) out.push_back(link.name);
  return out;
}

}  // namespace

TEST(LinkTracker, WatchesTheSelectedLinksPresentAtStart) {
  FakeLinkFeed feed;
  feed.present = {{1, {1, "lo"}}, {2, {2, "veth0"}}, {3, {3, "veth1"}}};
  FakeSource source;
  LinkTracker tracker(glob("veth*"), {&source}, feed);
  EXPECT_THAT(names(tracker), ElementsAre("veth0", "veth1"));
  EXPECT_THAT(source.log, ElementsAre("watch veth0", "watch veth1"));
}

TEST(LinkTracker, NewLinkIsWatchedAndDeletedOneUnwatched) {
  FakeLinkFeed feed;
  FakeSource source;
  LinkTracker tracker(glob("veth*"), {&source}, feed);
  EXPECT_THAT(names(tracker), IsEmpty());
  feed.add({7, "veth7"});
  feed.add({8, "eth8"});  // not selected
  tracker.process_events();
  EXPECT_THAT(names(tracker), ElementsAre("veth7"));
  feed.remove(7);
  tracker.process_events();
  EXPECT_THAT(names(tracker), IsEmpty());
  EXPECT_THAT(source.log, ElementsAre("watch veth7", "unwatch veth7"));
}

TEST(LinkTracker, RenameWithinTheSelectionKeepsTheLinkWithoutReattaching) {
  FakeLinkFeed feed;
  feed.present = {{4, {4, "veth4"}}};
  FakeSource source;
  LinkTracker tracker(glob("veth*"), {&source}, feed);
  feed.rename(4, "vethX");
  tracker.process_events();
  EXPECT_THAT(names(tracker), ElementsAre("vethX"));
  EXPECT_EQ(tracker.links().at(4).name, "vethX");
  EXPECT_THAT(source.log, ElementsAre("watch veth4"));  // counts go on under the new name
}

TEST(LinkTracker, RenameOutOfTheSelectionUnwatchesAndBackInWatchesAgain) {
  FakeLinkFeed feed;
  feed.present = {{4, {4, "veth4"}}};
  FakeSource source;
  LinkTracker tracker(glob("veth*"), {&source}, feed);
  feed.rename(4, "eth4");
  tracker.process_events();
  EXPECT_THAT(names(tracker), IsEmpty());
  feed.rename(4, "veth4");
  tracker.process_events();
  EXPECT_THAT(names(tracker), ElementsAre("veth4"));
  EXPECT_THAT(source.log, ElementsAre("watch veth4", "unwatch veth4", "watch veth4"));
}

TEST(LinkTracker, LostEventsReDumpAndReconcile) {
  FakeLinkFeed feed;
  feed.present = {{2, {2, "veth2"}}, {3, {3, "veth3"}}};
  FakeSource source;
  LinkTracker tracker(glob("veth*"), {&source}, feed);
  // Behind the tracker's back: 2 gone, 3 renamed, 5 new; the events lost.
  feed.present = {{3, {3, "veth3b"}}, {5, {5, "veth5"}}};
  feed.pending = std::nullopt;
  const int dumps = feed.dumps;
  tracker.process_events();
  EXPECT_EQ(feed.dumps, dumps + 1);
  EXPECT_THAT(names(tracker), ElementsAre("veth3b", "veth5"));
  EXPECT_THAT(source.log,
              ElementsAre("watch veth2", "watch veth3", "unwatch veth2", "watch veth5"));
}

TEST(LinkTracker, RequiredNameMissingAtStartIsAnError) {
  FakeLinkFeed feed;
  feed.present = {{1, {1, "lo"}}};
  FakeSource source;
  LinkTrackerConfig config = glob("*");
  config.required_names = {"wwan0"};
  EXPECT_EQ(error_of([&] { LinkTracker tracker(config, {&source}, feed); }),
            "no such interface 'wwan0'");
}

TEST(LinkTracker, ARequiredLinkThatCannotBeWatchedIsFatalAnOptionalOneSkipped) {
  FakeLinkFeed feed;
  feed.present = {{2, {2, "veth2"}}, {3, {3, "veth3"}}};
  FakeSource first, second;
  second.refuse = {"veth2"};
  std::vector<std::string> failures;
  LinkTrackerConfig config = glob("veth*");
  config.on_watch_failure = [&](const Link& link, const netmon::Error&) {
    failures.push_back(link.name);
  };
  {
    LinkTracker tracker(config, {&first, &second}, feed);
    EXPECT_THAT(names(tracker), ElementsAre("veth3"));
    // No half-watched link: the first source let go of veth2 again.
    EXPECT_THAT(first.log, ElementsAre("watch veth2", "unwatch veth2", "watch veth3"));
    EXPECT_THAT(failures, ElementsAre("veth2"));
  }
  config.required_names = {"veth2"};
  EXPECT_EQ(error_of([&] {
              LinkTracker tracker(config, {&first, &second}, feed);
            }),
            "failed to attach to 'veth2' (fake)");
  EXPECT_THAT(failures, ElementsAre("veth2", "veth2"));
}

TEST(LinkTracker, AFailedWatchOfALaterLinkIsSkippedAndCounted) {
  FakeLinkFeed feed;
  FakeSource source;
  source.refuse = {"veth9"};
  int failures = 0;
  LinkTrackerConfig config = glob("veth*");
  config.required_names = {};  // a glob: nothing required
  config.on_watch_failure = [&](const Link&, const netmon::Error&) { ++failures; };
  LinkTracker tracker(config, {&source}, feed);
  feed.add({9, "veth9"});
  feed.add({10, "veth10"});
  tracker.process_events();
  EXPECT_THAT(names(tracker), ElementsAre("veth10"));
  EXPECT_EQ(failures, 1);
}

TEST(LinkTracker, DestructionUnwatchesEverything) {
  FakeLinkFeed feed;
  feed.present = {{2, {2, "veth2"}}, {3, {3, "veth3"}}};
  FakeSource source;
  { LinkTracker tracker(glob("veth*"), {&source}, feed); }
  EXPECT_THAT(source.watched, IsEmpty());
  EXPECT_THAT(source.log,
              ElementsAre("watch veth2", "watch veth3", "unwatch veth2", "unwatch veth3"));
}

// Issue 13, 2.11: every selected interface failing to attach is not "no
// interface matches".
TEST(LinkTracker, AllAttachesFailingIsSaidAsSuch) {
  std::ostringstream log;
  auto saved = spdlog::default_logger();
  spdlog::set_default_logger(std::make_shared<spdlog::logger>(
      "test", std::make_shared<spdlog::sinks::ostream_sink_mt>(log)));
  FakeLinkFeed feed;
  feed.present = {{2, {2, "veth2"}}, {3, {3, "veth3"}}};
  FakeSource source;
  source.refuse = {"veth2", "veth3"};
  { LinkTracker tracker(glob("veth*"), {&source}, feed); }
  { LinkTracker tracker(glob("wlan*"), {&source}, feed); }
  spdlog::set_default_logger(saved);
  EXPECT_THAT(log.str(), HasSubstr("every interface the selection matches (2) failed to attach"));
  EXPECT_EQ(log.str().find("no interface matches"), log.str().rfind("no interface matches"))
      << "said once, for wlan* only:\n"
      << log.str();
  EXPECT_NE(log.str().find("no interface matches"), std::string::npos);
}

// Issue 13, 2.5: a stop signal during start-up ends it before the next
// attach (the signalfd stands in as a pipe holding one signalfd_siginfo).
TEST(LinkTracker, StopRequestDuringStartUpEndsItBeforeTheNextAttach) {
  int fds[2];
  ASSERT_EQ(pipe(fds), 0);
  signalfd_siginfo info{};
  info.ssi_signo = SIGTERM;
  ASSERT_EQ(write(fds[1], &info, sizeof(info)), static_cast<ssize_t>(sizeof(info)));
  netmon::set_stop_fd(fds[0]);
  FakeLinkFeed feed;
  feed.present = {{2, {2, "veth2"}}, {3, {3, "veth3"}}};
  FakeSource source;
  try {
    LinkTracker tracker(glob("veth*"), {&source}, feed);
    ADD_FAILURE() << "start-up went on";
  } catch (const netmon::StopRequested& e) {
    EXPECT_STREQ(e.what(), "stopped by SIGTERM during start-up");
    EXPECT_EQ(e.exit_code(), 0);
  }
  netmon::set_stop_fd(-1);
  close(fds[0]);
  close(fds[1]);
  EXPECT_THAT(source.watched, IsEmpty());
}
