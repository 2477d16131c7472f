// Booking: from successive counter readings, the traffic to add to the books.
// Pure (no I/O, no clock reads): every input, including both clocks, is an
// argument, so each case a router goes through is a unit test.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <map>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

namespace netmon::ledger {

struct Counts {
  uint64_t rx_bytes = 0;
  uint64_t rx_packets = 0;
  uint64_t tx_bytes = 0;
  uint64_t tx_packets = 0;

  Counts& operator+=(const Counts& o) {
    rx_bytes += o.rx_bytes;
    rx_packets += o.rx_packets;
    tx_bytes += o.tx_bytes;
    tx_packets += o.tx_packets;
    return *this;
  }
  bool zero() const { return (rx_bytes | rx_packets | tx_bytes | tx_packets) == 0; }
  bool operator==(const Counts& o) const {
    return rx_bytes == o.rx_bytes && rx_packets == o.rx_packets && tx_bytes == o.tx_bytes &&
           tx_packets == o.tx_packets;
  }
  bool operator!=(const Counts& o) const { return !(*this == o); }
};

// One interface's cumulative counters as a source reported them.
struct Reading {
  std::string name;
  uint32_t ifindex = 0;
  Counts counts;
};

// What the books hold about an interface's counters: everything up to these
// values is booked. Saved with the totals in one transaction, so after a
// crash the store's totals and this point agree and a restart credits exactly
// what was not saved.
struct Identity {
  std::string name;
  uint32_t ifindex = 0;
  std::string boot_id;
  Counts counts;
};

// Traffic to add to the periods that contain `wall`.
struct Booking {
  // The Booker's own copy of the name: valid while the Booker lives and
  // sees no new interface (a tick's bookings are used before the next).
  std::string_view name;
  int64_t wall = 0;
  Counts delta;
  // The Booker's number for the interface (Booker::interface_at), the same
  // for the Booker's life: the books can keep their own state by it
  // instead of by name.
  uint32_t interface = 0;
};

enum class NoteKind {
  kBaseline,       // first sight of an unknown interface: nothing is known before it
  kRestartCredit,  // same boot, same ifindex, counters not lower: credited the downtime
  kRebootCredit,   // other boot: credited everything counted since boot
  kRecreated,      // ifindex changed: a new interface under the old name
  kReset,          // counters went backwards: counted from zero again
  kWrap,           // a 32-bit counter wrapped
  kClockHeld,      // wall clock implausible: traffic held until it is
  kClockReleased,  // wall clock plausible again: held traffic booked
};

struct Note {
  NoteKind kind;
  std::string name;  // empty for clock notes
  std::string detail;
};

struct BookingOptions {
  // Wall-clock times before this are implausible (a router without a
  // real-time clock booting in 1970 or at its last saved time). Defaults to
  // the build day.
  int64_t min_plausible_time = 0;
  // A decrease of a counter that has only ever held 32-bit values is a wrap
  // when the wrapped increase (2^32 - previous + current) is below 2^31 (a
  // counter polled often enough wraps at most once between readings, the
  // usual rule for 32-bit SNMP counters) and no more than these rates allow
  // over the time since the previous reading (at least one second). Anything
  // else is a reset.
  uint64_t wrap_max_bytes_per_sec = 1'250'000'000;  // 10 Gbit/s
  uint64_t wrap_max_packets_per_sec = 15'000'000;   // 10 Gbit/s of minimum frames
  // Held traffic is kept per interface in five-minute slots of monotonic
  // time; beyond this many slots the oldest two merge (memory stays bounded
  // while the clock stays wrong).
  size_t max_held_slots = 576;
  // A clock after the build day but behind the newest booked period is
  // trusted once it has stayed so for this long (monotonic time).
  int64_t trust_backwards_after_s = 3600;
};

struct TickResult {
  std::vector<Booking> bookings;
  std::vector<Note> notes;
};

class Booker {
 public:
  Booker(BookingOptions opts, std::string boot_id);

  // Before the first tick: what the store says was booked last time.
  void restore(const std::vector<Identity>& identities);
  // Start of the newest period the store holds traffic for; a wall clock
  // before it has moved backwards and is not trusted.
  // The floor only rises here; it falls only when a clock that went back
  // is trusted (BookingOptions::trust_backwards_after_s).
  void set_clock_floor(int64_t t) {
    if (t > clock_floor_) clock_floor_ = t;
  }
  int64_t clock_floor() const { return clock_floor_; }

  // One reading of every interface at wall-clock `wall` (seconds) and
  // monotonic `mono_ns` (CLOCK_BOOTTIME: it keeps counting in suspend).
  // Interfaces missing from `readings` keep their state.
  // The result is valid until the next tick (its buffers are reused).
  const TickResult& tick(int64_t wall, int64_t mono_ns, const std::vector<Reading>& readings);

  // At exit: held traffic (the clock never became plausible) is booked to
  // the newest period rather than lost; it is counted once either way.
  std::vector<Booking> flush_held();

  // The booked-through point of every interface, for the store, one at a
  // time so a save writes each as it goes; stops when `each` returns false.
  // With `changed_only`, only those that moved since mark_saved() (idle
  // interfaces cost nothing to save).
  void visit_identities(bool changed_only, const std::function<bool(const Identity&)>& each) const;
  // The same, listed (what tests compare).
  std::vector<Identity> identities(bool changed_only = false) const;
  // The identities last visited are in the store.
  void mark_saved();
  // The clock was implausible at the last tick, or traffic is still held.
  bool holding() const { return clock_bad_ || !held_.empty(); }

  // The interface (Booking::interface) of each reading of the last tick, by
  // its position there, and its name.
  static constexpr uint32_t kUnknown = UINT32_MAX;
  uint32_t interface_at(size_t position) const {
    return position < last_tick_size_ ? order_[position] : kUnknown;
  }
  const std::string& name_of(uint32_t interface) const { return states_[interface].name; }

 private:
  struct State {
    // What an idle tick reads (and writes: last_mono alone) first, together.
    uint32_t ifindex = 0;
    bool wide[4] = {};  // the counter has held a value >= 2^32: never a 32-bit wrap
    int64_t last_mono = 0;
    Counts last;  // the latest reading
    std::string name;
    Counts booked_through;        // equals `last` except while traffic is held
    bool unbooked_first = false;  // first seen while holding, with a stored identity
    bool saved = false;           // saved_through/saved_ifindex are in the store
    Counts saved_through;
    uint32_t saved_ifindex = 0;
  };

  Counts step(State& st, const Reading& r, int64_t mono_ns, std::vector<Note>& notes) const;
  Counts first_sight(const Reading& r, std::vector<Note>& notes) const;
  bool plausible(int64_t wall) const {
    return wall >= opts_.min_plausible_time && wall >= clock_floor_;
  }
  void hold(int64_t mono_ns, uint32_t interface, const Counts& delta);
  void push(std::vector<Booking>& out, uint32_t interface, int64_t wall,
            const Counts& delta) const {
    out.push_back({states_[interface].name, wall, delta, interface});
  }
  void release(int64_t wall, int64_t mono_ns, std::vector<Booking>& out);

  BookingOptions opts_;
  std::string boot_id_;
  int64_t clock_floor_ = 0;
  bool clock_bad_ = false;
  int64_t back_since_ns_ = -1;  // monotonic time the clock was first seen behind
  std::unordered_map<std::string, Identity> restored_;
  // In order of first sight, which is the readings' order: a tick walks
  // them front to back, in step with the readings (entries are never
  // erased).
  std::vector<State> states_;
  std::unordered_map<std::string, uint32_t> by_name_;  // index in states_
  std::vector<uint32_t> order_;  // index in states_ by position in the last tick's readings
  size_t last_tick_size_ = 0;    // how many of order_ the last tick set
  struct HeldSlot {
    int64_t mono_ns = 0;  // the latest reading that went into the slot
    std::map<uint32_t, Counts> by_interface;
  };
  std::map<int64_t, HeldSlot> held_;  // by monotonic five-minute slot
  TickResult result_;
};

// The increment of one counter from `prev` to `cur` (pure; exposed for tests).
enum class Step { kForward, kWrap, kReset };
Step classify_counter(uint64_t prev, uint64_t cur, bool wide, uint64_t max_wrap, uint64_t* delta);

}  // namespace netmon::ledger
