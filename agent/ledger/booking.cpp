#include "ledger/booking.h"

#include <algorithm>
#include <ctime>
#include <utility>

#include "ledger/period.h"

namespace netmon::ledger {
namespace {

constexpr uint64_t k2p32 = uint64_t{1} << 32;
constexpr uint64_t k2p31 = uint64_t{1} << 31;
// Wall-clock times in the clock notes: ISO 8601, UTC.
constexpr const char* kUtcTime = "%Y-%m-%dT%H:%M:%SZ";
constexpr int64_t kSlotNs = int64_t{300} * 1'000'000'000;

uint64_t& at(Counts& c, int i) {
  switch (i) {
    case 0:
      return c.rx_bytes;
    case 1:
      return c.rx_packets;
    case 2:
      return c.tx_bytes;
    default:
      return c.tx_packets;
  }
}
uint64_t at(const Counts& c, int i) { return at(const_cast<Counts&>(c), i); }

const char* counter_name(int i) {
  static const char* const names[] = {"rx_bytes", "rx_packets", "tx_bytes", "tx_packets"};
  return names[i];
}

bool not_lower(const Counts& cur, const Counts& prev) {
  for (int i = 0; i < 4; ++i)
    if (at(cur, i) < at(prev, i)) return false;
  return true;
}

Counts minus(const Counts& a, const Counts& b) {
  Counts d;
  for (int i = 0; i < 4; ++i) at(d, i) = at(a, i) - at(b, i);
  return d;
}

}  // namespace

Step classify_counter(uint64_t prev, uint64_t cur, bool wide, uint64_t max_wrap, uint64_t* delta) {
  if (cur >= prev) {
    *delta = cur - prev;
    return Step::kForward;
  }
  if (!wide && prev < k2p32) {
    uint64_t wrapped = k2p32 - prev + cur;
    if (wrapped < k2p31 && wrapped <= max_wrap) {
      *delta = wrapped;
      return Step::kWrap;
    }
  }
  // Counted from zero since the reset: the new value is the increase.
  *delta = cur;
  return Step::kReset;
}

Booker::Booker(BookingOptions opts, std::string boot_id)
    : opts_(opts), boot_id_(std::move(boot_id)) {}

void Booker::restore(const std::vector<Identity>& identities) {
  for (const auto& id : identities) restored_[id.name] = id;
}

Counts Booker::first_sight(const Reading& r, std::vector<Note>& notes) const {
  auto it = restored_.find(r.name);
  if (it == restored_.end()) {
    // Nothing says when these counts were made: they may be years of
    // traffic from before netmon was installed. Start from here.
    notes.push_back({NoteKind::kBaseline, r.name, "first sight, counting from now"});
    return {};
  }
  const Identity& id = it->second;
  if (id.boot_id == boot_id_ && id.ifindex == r.ifindex && not_lower(r.counts, id.counts)) {
    notes.push_back({NoteKind::kRestartCredit, r.name, "same counter since the last save"});
    return minus(r.counts, id.counts);
  }
  if (id.boot_id != boot_id_) {
    notes.push_back({NoteKind::kRebootCredit, r.name, "rebooted: counted since boot"});
    return r.counts;
  }
  // Same boot but a new ifindex or lower counters: the interface was
  // recreated or reset while the agent was down; its counts are all new.
  notes.push_back({id.ifindex != r.ifindex ? NoteKind::kRecreated : NoteKind::kReset, r.name,
                   "changed while the agent was down: counted since then"});
  return r.counts;
}

Counts Booker::step(State& st, const Reading& r, int64_t mono_ns, std::vector<Note>& notes) const {
  const std::string& name = st.name;
  if (r.ifindex != st.ifindex) {
    notes.push_back({NoteKind::kRecreated, name,
                     "ifindex " + std::to_string(st.ifindex) + " -> " + std::to_string(r.ifindex)});
    return r.counts;
  }
  // Every counter forward, the usual case: nothing to classify (and no
  // divisions for the wrap rule).
  if (not_lower(r.counts, st.last)) return minus(r.counts, st.last);
  int lower = 0, nonzero = 0;
  for (int i = 0; i < 4; ++i) {
    if (at(st.last, i) != 0) ++nonzero;
    if (at(r.counts, i) < at(st.last, i)) ++lower;
  }
  // All counters backwards at once is a reset (a driver or module reload):
  // four 32-bit counters do not wrap in the same interval.
  if (lower >= 2 && lower == nonzero) {
    notes.push_back({NoteKind::kReset, name, "all counters went backwards"});
    return r.counts;
  }
  int64_t elapsed_ns = mono_ns - st.last_mono;
  uint64_t secs =
      elapsed_ns > 0 ? static_cast<uint64_t>((elapsed_ns + 999'999'999) / 1'000'000'000) : 1;
  Counts d;
  for (int i = 0; i < 4; ++i) {
    uint64_t rate = (i % 2 == 0) ? opts_.wrap_max_bytes_per_sec : opts_.wrap_max_packets_per_sec;
    uint64_t max_wrap = rate > k2p32 / secs ? k2p32 : rate * secs;
    Step s = classify_counter(at(st.last, i), at(r.counts, i), st.wide[i], max_wrap, &at(d, i));
    if (s == Step::kWrap)
      notes.push_back({NoteKind::kWrap, name, std::string(counter_name(i)) + " wrapped at 2^32"});
    else if (s == Step::kReset)
      notes.push_back({NoteKind::kReset, name, std::string(counter_name(i)) + " went backwards"});
  }
  return d;
}

void Booker::hold(int64_t mono_ns, uint32_t interface, const Counts& delta) {
  HeldSlot& slot = held_[mono_ns / kSlotNs];
  slot.mono_ns = std::max(slot.mono_ns, mono_ns);
  slot.by_interface[interface] += delta;
  while (held_.size() > opts_.max_held_slots && held_.size() >= 2) {
    auto oldest = held_.begin();
    auto next = std::next(oldest);
    for (auto& [i, c] : oldest->second.by_interface) next->second.by_interface[i] += c;
    held_.erase(oldest);
  }
}

void Booker::release(int64_t wall, int64_t mono_ns, std::vector<Booking>& out) {
  int64_t floor = std::max(opts_.min_plausible_time, clock_floor_);
  for (auto& [slot, held] : held_) {
    // Monotonic time does not jump with the wall clock: the slot's age
    // before this first plausible reading places it in wall-clock time.
    int64_t t = wall - (mono_ns - held.mono_ns) / 1'000'000'000;
    t = std::max(t, floor);
    for (auto& [i, c] : held.by_interface)
      if (!c.zero()) push(out, i, t, c);
  }
  held_.clear();
  for (State& st : states_) {
    st.booked_through = st.last;
    st.unbooked_first = false;
  }
}

const TickResult& Booker::tick(int64_t wall, int64_t mono_ns,
                               const std::vector<Reading>& readings) {
  TickResult& res = result_;
  res.bookings.clear();
  res.notes.clear();
  // The first tick notes every interface once (a baseline or a credit);
  // later ones note a reset now and then. Hold no room for the first burst.
  if (res.notes.capacity() > 64) res.notes.shrink_to_fit();
  // The first tick meets every interface at once: room for all of them, not
  // growth by doubling, which holds the old and the new array together.
  if (states_.empty()) {
    states_.reserve(readings.size());
    by_name_.reserve(readings.size());
  }
  bool ok = plausible(wall);
  if (!ok && wall >= opts_.min_plausible_time) {
    // Only the newest booked period says no: the clock went back. If it
    // stays back, the earlier clock was the wrong one (a bad RTC or NTP
    // server ran it ahead); trust this one rather than hold for as long as
    // the error was. Counts are never booked twice either way.
    if (back_since_ns_ < 0) back_since_ns_ = mono_ns;
    if (mono_ns - back_since_ns_ >= opts_.trust_backwards_after_s * 1'000'000'000) {
      res.notes.push_back({NoteKind::kClockReleased, "",
                           "wall clock " + utc_text(wall, kUtcTime) +
                               " has stayed behind the newest booked " +
                               "period; trusting it from now on"});
      clock_floor_ = opts_.min_plausible_time;
      ok = true;
    }
  }
  if (ok || wall < opts_.min_plausible_time) back_since_ns_ = -1;
  if (ok && clock_bad_) {
    res.notes.push_back(
        {NoteKind::kClockReleased, "",
         "wall clock plausible again at " + utc_text(wall, kUtcTime) + ": booking held traffic"});
    release(wall, mono_ns, res.bookings);
  } else if (!ok && !clock_bad_) {
    res.notes.push_back({NoteKind::kClockHeld, "",
                         "wall clock " + utc_text(wall, kUtcTime) +
                             " is before the build day or the newest booked period: holding "
                             "traffic until it is plausible"});
  }
  clock_bad_ = !ok;
  // Sources list the same interfaces in the same order tick after tick:
  // the previous tick's entry at the same position is found without hashing
  // the name.
  if (order_.size() < readings.size()) order_.resize(readings.size(), kUnknown);
  for (size_t i = 0; i < readings.size(); ++i) {
    const Reading& r = readings[i];
    uint32_t index = order_[i];
    if (index == kUnknown || states_[index].name != r.name) {
      auto found = by_name_.find(r.name);
      index = found == by_name_.end() ? kUnknown : found->second;
    }
    Counts delta;
    if (index == kUnknown) {
      delta = first_sight(r, res.notes);
      index = static_cast<uint32_t>(states_.size());
      by_name_.emplace(r.name, index);
      State& st = states_.emplace_back();
      st.name = r.name;
      st.ifindex = r.ifindex;
      // Held first-sight credit is not booked yet: until it is, the store
      // keeps the old identity so a restart derives the same credit again.
      st.unbooked_first = !ok && restored_.count(r.name);
      st.booked_through = r.counts;  // a baseline books nothing; otherwise set below
    } else if (State& known = states_[index];
               known.ifindex == r.ifindex && known.last == r.counts) {
      // Idle, the usual case: nothing moved, nothing to classify, and
      // nothing else to write (booked_through is `last` unless held, and
      // stays where it is while held).
      order_[i] = index;
      known.last_mono = mono_ns;
      continue;
    } else {
      delta = step(known, r, mono_ns, res.notes);
    }
    order_[i] = index;
    State& st = states_[index];
    st.ifindex = r.ifindex;
    st.last = r.counts;
    st.last_mono = mono_ns;
    for (int k = 0; k < 4; ++k) st.wide[k] = st.wide[k] || at(r.counts, k) >= k2p32;
    if (ok) {
      st.booked_through = r.counts;
      if (!delta.zero()) res.bookings.push_back({{}, wall, delta, index});
    } else if (!delta.zero()) {
      hold(mono_ns, index, delta);
    }
  }
  last_tick_size_ = readings.size();
  // Named once every state of the tick is in place: states_ may have grown.
  for (Booking& b : res.bookings) b.name = states_[b.interface].name;
  if (ok) {
    // Booked up to now: a later wall clock before this period has gone back.
    int64_t slot_start = wall - (wall % 300 + 300) % 300;
    set_clock_floor(slot_start);
  }
  return res;
}

std::vector<Booking> Booker::flush_held() {
  std::vector<Booking> out;
  if (held_.empty()) return out;
  int64_t t = std::max(opts_.min_plausible_time, clock_floor_);
  std::map<uint32_t, Counts> sum;
  for (auto& [slot, held] : held_)
    for (auto& [i, c] : held.by_interface) sum[i] += c;
  for (auto& [i, c] : sum)
    if (!c.zero()) push(out, i, t, c);
  held_.clear();
  for (State& st : states_) {
    st.booked_through = st.last;
    st.unbooked_first = false;
  }
  return out;
}

std::vector<Identity> Booker::identities(bool changed_only) const {
  std::vector<Identity> out;
  visit_identities(changed_only, [&](const Identity& id) {
    out.push_back(id);
    return true;
  });
  return out;
}

void Booker::visit_identities(bool changed_only,
                              const std::function<bool(const Identity&)>& each) const {
  for (const State& st : states_) {
    if (st.unbooked_first) {
      // The store keeps the restored identity until the credit is booked.
      if (!changed_only && !each(restored_.at(st.name))) return;
      continue;
    }
    if (changed_only && st.saved && st.saved_through == st.booked_through &&
        st.saved_ifindex == st.ifindex)
      continue;
    if (!each({st.name, st.ifindex, boot_id_, st.booked_through})) return;
  }
  // Interfaces not seen this run keep what the store had.
  if (!changed_only)
    for (const auto& [n, id] : restored_)
      if (!by_name_.count(n) && !each(id)) return;
}

void Booker::mark_saved() {
  for (State& st : states_) {
    if (st.unbooked_first) continue;
    st.saved = true;
    st.saved_through = st.booked_through;
    st.saved_ifindex = st.ifindex;
  }
}

}  // namespace netmon::ledger
