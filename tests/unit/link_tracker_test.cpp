// The hotplug and rename rules of the link tracker, driven by a scripted link
// feed: what the root integration tests check over real veths, here without
// root, sockets or sleeps.
#include "core/link_tracker.h"

#include <fnmatch.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "fakes.h"
#include "test_util.h"

using netmon::Link;
using netmon::LinkTracker;
using netmon::LinkTrackerConfig;
using netmon::test::error_of;
using netmon::test::FakeLinkFeed;
using netmon::test::FakeSource;
using testing::ElementsAre;
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
