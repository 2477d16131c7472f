#include "ledger/booking.h"

#include <gtest/gtest.h>

#include <algorithm>

namespace netmon::ledger {
namespace {

constexpr int64_t kNow = 1796040000;  // 2026-11-30 12:00:00 UTC
constexpr int64_t kSec = 1'000'000'000;
constexpr uint64_t k2p32 = uint64_t{1} << 32;

BookingOptions opts() {
  BookingOptions o;
  o.min_plausible_time = 1764547200;  // 2025-12-01
  return o;
}

Reading rd(uint32_t ifindex, uint64_t rxb, uint64_t rxp, uint64_t txb, uint64_t txp,
           const char* name = "wwan0") {
  return {name, ifindex, {rxb, rxp, txb, txp}};
}

Counts sum(const std::vector<Booking>& b, const std::string& name = "wwan0") {
  Counts c;
  for (const auto& x : b)
    if (x.name == name) c += x.delta;
  return c;
}

bool has_note(const TickResult& r, NoteKind k) {
  return std::any_of(r.notes.begin(), r.notes.end(), [k](const Note& n) { return n.kind == k; });
}

TEST(ClassifyCounter, ForwardWrapReset) {
  uint64_t d = 0;
  EXPECT_EQ(classify_counter(100, 350, false, k2p32, &d), Step::kForward);
  EXPECT_EQ(d, 250u);
  EXPECT_EQ(classify_counter(4294967000u, 500, false, k2p32, &d), Step::kWrap);
  EXPECT_EQ(d, 796u);
  // A counter that has held a 64-bit value does not wrap at 2^32.
  EXPECT_EQ(classify_counter(4294967000u, 500, true, k2p32, &d), Step::kReset);
  EXPECT_EQ(d, 500u);
  // Wrapped increase of 2^31 or more: not told apart from a reset, so a reset.
  EXPECT_EQ(classify_counter(k2p32 - (uint64_t{1} << 31), 0, false, k2p32, &d), Step::kReset);
  EXPECT_EQ(d, 0u);
  EXPECT_EQ(classify_counter(k2p32 - (uint64_t{1} << 31) + 1, 0, false, k2p32, &d), Step::kWrap);
  EXPECT_EQ(d, (uint64_t{1} << 31) - 1);
  // Faster than the rate allows: a reset.
  EXPECT_EQ(classify_counter(4294967000u, 500, false, 795, &d), Step::kReset);
  EXPECT_EQ(d, 500u);
  // Previous value above 32 bits: a reset whatever the new value.
  EXPECT_EQ(classify_counter(k2p32 + 5, 3, false, k2p32, &d), Step::kReset);
  EXPECT_EQ(d, 3u);
}

TEST(Booker, UnknownInterfaceIsABaselineThenIncrements) {
  Booker b(opts(), "boot-a");
  TickResult r = b.tick(kNow, 10 * kSec, {rd(3, 1000, 10, 2000, 20)});
  EXPECT_TRUE(r.bookings.empty());
  EXPECT_TRUE(has_note(r, NoteKind::kBaseline));
  r = b.tick(kNow + 1, 11 * kSec, {rd(3, 1500, 15, 2100, 21)});
  ASSERT_EQ(r.bookings.size(), 1u);
  EXPECT_EQ(r.bookings[0].wall, kNow + 1);
  EXPECT_EQ(r.bookings[0].delta, (Counts{500, 5, 100, 1}));
}

TEST(Booker, ResetOfAllCountersCountsFromZero) {
  Booker b(opts(), "boot-a");
  b.tick(kNow, 10 * kSec, {rd(3, 5'000'000'000, 4'000'000, 6'000'000'000, 5'000'000)});
  TickResult r = b.tick(kNow + 1, 11 * kSec, {rd(3, 700, 7, 300, 3)});
  EXPECT_TRUE(has_note(r, NoteKind::kReset));
  EXPECT_EQ(sum(r.bookings), (Counts{700, 7, 300, 3}));
}

TEST(Booker, RecreatedInterfaceCountsItsNewCounters) {
  Booker b(opts(), "boot-a");
  b.tick(kNow, 10 * kSec, {rd(3, 1000, 10, 1000, 10)});
  // Higher counters but a new ifindex: not the same counter, all new.
  TickResult r = b.tick(kNow + 1, 11 * kSec, {rd(9, 1200, 12, 1300, 13)});
  EXPECT_TRUE(has_note(r, NoteKind::kRecreated));
  EXPECT_EQ(sum(r.bookings), (Counts{1200, 12, 1300, 13}));
}

TEST(Booker, ThirtyTwoBitWrapIsCountedNotAReset) {
  Booker b(opts(), "boot-a");
  b.tick(kNow, 10 * kSec, {rd(3, 4294967000u, 100, 50, 1)});
  TickResult r = b.tick(kNow + 1, 11 * kSec, {rd(3, 500, 110, 60, 2)});
  EXPECT_TRUE(has_note(r, NoteKind::kWrap));
  EXPECT_FALSE(has_note(r, NoteKind::kReset));
  EXPECT_EQ(sum(r.bookings), (Counts{796, 10, 10, 1}));
}

TEST(Booker, WrapPlausibilityDependsOnElapsedTime) {
  // 1,294,967,396 bytes in one second is above 10 Gbit/s: a reset; in two
  // seconds it is possible: a wrap.
  Booker fast(opts(), "boot-a");
  fast.tick(kNow, 10 * kSec, {rd(3, 3'000'000'000, 100, 50, 1)});
  EXPECT_EQ(sum(fast.tick(kNow + 1, 11 * kSec, {rd(3, 100, 110, 60, 2)}).bookings),
            (Counts{100, 10, 10, 1}));
  Booker slow(opts(), "boot-a");
  slow.tick(kNow, 10 * kSec, {rd(3, 3'000'000'000, 100, 50, 1)});
  EXPECT_EQ(sum(slow.tick(kNow + 2, 12 * kSec, {rd(3, 100, 110, 60, 2)}).bookings),
            (Counts{1'294'967'396, 10, 10, 1}));
}

TEST(Booker, SixtyFourBitCounterNeverWraps) {
  Booker b(opts(), "boot-a");
  b.tick(kNow, 10 * kSec, {rd(3, k2p32 + 10, 100, 50, 1)});
  b.tick(kNow + 1, 11 * kSec, {rd(3, k2p32 + 20, 101, 60, 2)});
  // rx_bytes alone back below 2^32: a reset of that counter (it was wide).
  TickResult r = b.tick(kNow + 2, 12 * kSec, {rd(3, 4294967000u, 102, 70, 3)});
  EXPECT_EQ(sum(r.bookings), (Counts{4294967000u, 1, 10, 1}));
}

TEST(Booker, RestartCreditsTheDowntimeOfTheSameCounter) {
  Booker b(opts(), "boot-a");
  b.restore({{"wwan0", 3, "boot-a", {1000, 10, 2000, 20}}});
  TickResult r = b.tick(kNow, 10 * kSec, {rd(3, 1600, 16, 2500, 25)});
  EXPECT_TRUE(has_note(r, NoteKind::kRestartCredit));
  EXPECT_EQ(sum(r.bookings), (Counts{600, 6, 500, 5}));
}

TEST(Booker, RestartWithALowerCounterCountsSinceTheReset) {
  Booker b(opts(), "boot-a");
  b.restore({{"wwan0", 3, "boot-a", {1000, 10, 2000, 20}}});
  TickResult r = b.tick(kNow, 10 * kSec, {rd(3, 1600, 16, 1500, 25)});
  EXPECT_TRUE(has_note(r, NoteKind::kReset));
  EXPECT_EQ(sum(r.bookings), (Counts{1600, 16, 1500, 25}));
}

TEST(Booker, RestartWithAnotherIfindexCountsSinceCreation) {
  Booker b(opts(), "boot-a");
  b.restore({{"wwan0", 3, "boot-a", {1000, 10, 2000, 20}}});
  TickResult r = b.tick(kNow, 10 * kSec, {rd(4, 1600, 16, 2500, 25)});
  EXPECT_TRUE(has_note(r, NoteKind::kRecreated));
  EXPECT_EQ(sum(r.bookings), (Counts{1600, 16, 2500, 25}));
}

TEST(Booker, RebootCreditsEverythingSinceBoot) {
  Booker b(opts(), "boot-b");
  // Same ifindex and higher counters, but another boot: nothing is proven.
  b.restore({{"wwan0", 3, "boot-a", {1000, 10, 2000, 20}}});
  TickResult r = b.tick(kNow, 10 * kSec, {rd(3, 1600, 16, 2500, 25)});
  EXPECT_TRUE(has_note(r, NoteKind::kRebootCredit));
  EXPECT_EQ(sum(r.bookings), (Counts{1600, 16, 2500, 25}));
  // And the identity saved next carries the new boot.
  auto ids = b.identities();
  ASSERT_EQ(ids.size(), 1u);
  EXPECT_EQ(ids[0].boot_id, "boot-b");
  EXPECT_EQ(ids[0].counts, (Counts{1600, 16, 2500, 25}));
}

TEST(Booker, IdentitiesKeepInterfacesNotSeenThisRun) {
  Booker b(opts(), "boot-a");
  b.restore({{"eth1", 7, "boot-a", {1, 2, 3, 4}}});
  b.tick(kNow, 10 * kSec, {rd(3, 10, 1, 10, 1)});
  auto ids = b.identities();
  ASSERT_EQ(ids.size(), 2u);
  auto eth1 =
      std::find_if(ids.begin(), ids.end(), [](const Identity& i) { return i.name == "eth1"; });
  ASSERT_NE(eth1, ids.end());
  EXPECT_EQ(eth1->counts, (Counts{1, 2, 3, 4}));
}

TEST(Booker, ImplausibleClockHoldsThenBooksWhereMonotonicTimePlacesIt) {
  Booker b(opts(), "boot-a");
  // Boot without a real-time clock: 1970.
  TickResult r = b.tick(100, 10 * kSec, {rd(3, 1000, 10, 1000, 10)});
  EXPECT_TRUE(has_note(r, NoteKind::kClockHeld));
  r = b.tick(160, 70 * kSec, {rd(3, 1500, 15, 1100, 11)});
  EXPECT_TRUE(r.bookings.empty());
  EXPECT_TRUE(b.holding());
  // While held, the saved identity stays at the booked point.
  EXPECT_EQ(b.identities()[0].counts, (Counts{1000, 10, 1000, 10}));
  // NTP sets the clock; 60 s of monotonic time after the held reading.
  r = b.tick(kNow, 130 * kSec, {rd(3, 1800, 18, 1200, 12)});
  EXPECT_TRUE(has_note(r, NoteKind::kClockReleased));
  ASSERT_EQ(r.bookings.size(), 2u);
  EXPECT_EQ(r.bookings[0].wall, kNow - 60);
  EXPECT_EQ(r.bookings[0].delta, (Counts{500, 5, 100, 1}));
  EXPECT_EQ(r.bookings[1].wall, kNow);
  EXPECT_EQ(r.bookings[1].delta, (Counts{300, 3, 100, 1}));
  EXPECT_FALSE(b.holding());
  EXPECT_EQ(b.identities()[0].counts, (Counts{1800, 18, 1200, 12}));
}

TEST(Booker, HeldTimesNeverFallBeforeTheBuildDay) {
  BookingOptions o = opts();
  Booker b(o, "boot-a");
  b.tick(100, 10 * kSec, {rd(3, 1000, 10, 1000, 10)});
  b.tick(160, 1000 * kSec, {rd(3, 1500, 15, 1100, 11)});
  // The clock becomes plausible only just after the build day, with more
  // monotonic time behind it than wall time since the build day.
  TickResult r = b.tick(o.min_plausible_time + 5, 2000 * kSec, {rd(3, 1500, 15, 1100, 11)});
  ASSERT_EQ(r.bookings.size(), 1u);
  EXPECT_EQ(r.bookings[0].wall, o.min_plausible_time);
  EXPECT_EQ(r.bookings[0].delta, (Counts{500, 5, 100, 1}));
}

TEST(Booker, ClockGoingBackwardsNeverBooksTwice) {
  Booker b(opts(), "boot-a");
  Counts total;
  b.tick(kNow, 10 * kSec, {rd(3, 1000, 10, 1000, 10)});
  total += sum(b.tick(kNow + 10, 20 * kSec, {rd(3, 1100, 11, 1100, 11)}).bookings);
  // NTP steps the clock back an hour: held, not booked into the past.
  TickResult r = b.tick(kNow - 3600, 30 * kSec, {rd(3, 1300, 13, 1200, 12)});
  EXPECT_TRUE(r.bookings.empty());
  EXPECT_TRUE(has_note(r, NoteKind::kClockHeld));
  total += sum(r.bookings);
  // A backwards step that stays in the same five minutes is still plausible.
  r = b.tick(kNow + 5, 40 * kSec, {rd(3, 1400, 14, 1300, 13)});
  EXPECT_TRUE(has_note(r, NoteKind::kClockReleased));
  for (const auto& x : r.bookings) EXPECT_GE(x.wall, kNow - kNow % 300);
  total += sum(r.bookings);
  EXPECT_EQ(total, (Counts{400, 4, 300, 3}));
}

TEST(Booker, HeldTrafficIsFlushedAtExitToTheNewestPeriod) {
  Booker b(opts(), "boot-a");
  b.set_clock_floor(kNow);
  b.tick(100, 10 * kSec, {rd(3, 1000, 10, 1000, 10)});
  b.tick(160, 70 * kSec, {rd(3, 1500, 15, 1100, 11)});
  auto out = b.flush_held();
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(out[0].wall, kNow);
  EXPECT_EQ(out[0].delta, (Counts{500, 5, 100, 1}));
  EXPECT_TRUE(b.flush_held().empty());
}

TEST(Booker, HeldSlotsMergeBeyondTheCap) {
  BookingOptions o = opts();
  o.max_held_slots = 2;
  Booker b(o, "boot-a");
  b.tick(100, 0, {rd(3, 0, 0, 0, 0)});
  for (int i = 1; i <= 5; ++i)
    b.tick(100 + i * 300, int64_t{i} * 300 * kSec, {rd(3, 100u * i, i, 0, 0)});
  TickResult r = b.tick(kNow, 1600 * kSec, {rd(3, 500, 5, 0, 0)});
  ASSERT_EQ(r.bookings.size(), 2u);
  EXPECT_EQ(sum(r.bookings), (Counts{500, 5, 0, 0}));
  // The merged slot keeps the newer slot's time: slot 4 (1200 s) and 5 (1500 s).
  EXPECT_EQ(r.bookings[0].wall, kNow - 400);
  EXPECT_EQ(r.bookings[0].delta, (Counts{400, 4, 0, 0}));
  EXPECT_EQ(r.bookings[1].wall, kNow - 100);
}

TEST(Booker, FirstSightWhileHeldKeepsTheStoredIdentity) {
  Booker b(opts(), "boot-b");
  Identity stored{"wwan0", 3, "boot-a", {1000, 10, 2000, 20}};
  b.restore({stored});
  b.tick(100, 10 * kSec, {rd(3, 400, 4, 500, 5)});
  // A crash now must lead to the same reboot credit on restart.
  auto ids = b.identities();
  ASSERT_EQ(ids.size(), 1u);
  EXPECT_EQ(ids[0].boot_id, "boot-a");
  EXPECT_EQ(ids[0].counts, stored.counts);
  TickResult r = b.tick(kNow, 70 * kSec, {rd(3, 600, 6, 700, 7)});
  EXPECT_EQ(sum(r.bookings), (Counts{600, 6, 700, 7}));
  EXPECT_EQ(b.identities()[0].boot_id, "boot-b");
}

TEST(Booker, ClockThatStaysBackIsTrustedAfterAnHour) {
  Booker b(opts(), "boot-a");
  // A bad time server ran the clock a day ahead; traffic was booked there.
  int64_t ahead = kNow + 86400;
  b.tick(ahead, 10 * kSec, {rd(3, 0, 0, 0, 0)});
  EXPECT_EQ(sum(b.tick(ahead + 1, 11 * kSec, {rd(3, 100, 1, 0, 0)}).bookings).rx_bytes, 100u);
  // Corrected a day back: held at first.
  TickResult r = b.tick(kNow, 20 * kSec, {rd(3, 300, 3, 0, 0)});
  EXPECT_TRUE(has_note(r, NoteKind::kClockHeld));
  EXPECT_TRUE(r.bookings.empty());
  r = b.tick(kNow + 3599, (20 + 3599) * kSec, {rd(3, 600, 6, 0, 0)});
  EXPECT_TRUE(r.bookings.empty());
  // An hour of monotonic time behind: trusted, and the held traffic is
  // placed by monotonic time, not at the old (future) floor.
  r = b.tick(kNow + 3600, (20 + 3600) * kSec, {rd(3, 700, 7, 0, 0)});
  EXPECT_TRUE(has_note(r, NoteKind::kClockReleased));
  ASSERT_EQ(r.bookings.size(), 3u);
  EXPECT_EQ(r.bookings[0].wall, kNow);
  EXPECT_EQ(r.bookings[0].delta.rx_bytes, 200u);
  EXPECT_EQ(r.bookings[1].wall, kNow + 3599);
  EXPECT_EQ(r.bookings[1].delta.rx_bytes, 300u);
  EXPECT_EQ(r.bookings[2].wall, kNow + 3600);
  EXPECT_EQ(r.bookings[2].delta.rx_bytes, 100u);
  EXPECT_EQ(b.clock_floor(), kNow + 3600);
  EXPECT_FALSE(b.holding());
}

TEST(Booker, ClockBeforeTheBuildDayIsNeverTrusted) {
  Booker b(opts(), "boot-a");
  b.tick(100, 0, {rd(3, 0, 0, 0, 0)});
  TickResult r = b.tick(100 + 86400, int64_t{86400} * kSec, {rd(3, 100, 1, 0, 0)});
  EXPECT_TRUE(r.bookings.empty());
  EXPECT_TRUE(b.holding());
}

TEST(Booker, ChangedOnlyIdentitiesSkipIdleInterfaces) {
  Booker b(opts(), "boot-a");
  b.tick(kNow, 10 * kSec, {rd(3, 10, 1, 10, 1, "eth0"), rd(4, 20, 2, 20, 2, "eth1")});
  EXPECT_EQ(b.identities(true).size(), 2u);
  b.mark_saved();
  EXPECT_TRUE(b.identities(true).empty());
  b.tick(kNow + 1, 11 * kSec, {rd(3, 10, 1, 10, 1, "eth0"), rd(4, 25, 3, 20, 2, "eth1")});
  auto ids = b.identities(true);
  ASSERT_EQ(ids.size(), 1u);
  EXPECT_EQ(ids[0].name, "eth1");
  EXPECT_EQ(ids[0].counts, (Counts{25, 3, 20, 2}));
  EXPECT_EQ(b.identities().size(), 2u);
}

}  // namespace
}  // namespace netmon::ledger
