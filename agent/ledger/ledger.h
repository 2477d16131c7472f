// The usage ledger (issue 14): books every tick's counter increments per
// interface into five-minute, hourly, daily, monthly and yearly totals in a
// SQLite file, across restarts, reboots, counter resets, 32-bit wraps and
// wrong clocks, and evaluates quotas.
//
// Wiring (output/ledger_reporter.*, app/agent.cpp):
//   start   `--ledger PATH`: a LedgerError is fatal (one line, exit 1).
//   tick    after each source read: tick(time(nullptr), CLOCK_BOOTTIME ns, the
//           readings in the snapshot's order), then maybe_save(); snapshots take
//           usage_at() (by position in those readings) and quota_status().
//   exit    close() on SIGINT/SIGTERM (books held traffic, saves).
//   report  `--report PERIOD [--json] [IFACE...]`: Store::open_read_only(PATH) and
//           write_report(...) from report.h.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <unordered_map>
#include <utility>
#include <vector>

#include "ledger/booking.h"
#include "ledger/period.h"
#include "ledger/quota.h"
#include "ledger/store.h"

namespace netmon::ledger {

#ifndef NETMON_LEDGER_BUILD_TIME
#define NETMON_LEDGER_BUILD_TIME 0
#endif
// Start of the build day (UTC): a wall clock before it is certainly wrong.
constexpr int64_t kBuildTime = NETMON_LEDGER_BUILD_TIME;

struct LedgerOptions {
  std::string path;
  Calendar calendar;
  int64_t save_interval_s = 300;
  StoreOptions store;
  BookingOptions booking{kBuildTime};
  std::vector<Quota> quotas;
  std::vector<int> thresholds{80, 90, 100};
};

struct QuotaAlert {
  std::string name;
  Quota quota;
  int threshold = 0;
  QuotaStatus status;
};

// Called from tick(); the default ignores everything.
class LedgerEvents {
 public:
  virtual ~LedgerEvents() = default;
  virtual void on_quota(const QuotaAlert& /*alert*/) {}
  virtual void on_note(const Note& /*note*/) {}
};

struct LedgerStats {
  uint64_t saves = 0;         // committed transactions
  uint64_t failed_saves = 0;  // full disk or other write errors (data kept)
};

class Ledger {
 public:
  // Opens (creating) the store and restores what it knows. Throws
  // LedgerError for a bad calendar, a read-only or unopenable file.
  Ledger(LedgerOptions opts, std::string boot_id, int64_t now);
  ~Ledger();
  Ledger(const Ledger&) = delete;
  Ledger& operator=(const Ledger&) = delete;

  // Books one reading of the interfaces; quota crossings are reported
  // through `events` (once per quota, threshold and period, across restarts)
  // and saved at once.
  void tick(int64_t wall, int64_t mono_ns, const std::vector<Reading>& readings,
            LedgerEvents* events = nullptr);
  // Saves when save_interval_s has passed since the last save (or the first
  // tick). Returns whether a save was attempted.
  bool maybe_save(int64_t mono_ns);
  // Writes everything booked so far in one transaction. On a full disk: a
  // warning, and the data stays in memory for the next try.
  SaveStatus save();
  // At exit: books held traffic and saves.
  SaveStatus close();

  // Usage of the period of `kind` (kDay or kMonth) containing `now`.
  Counts usage(const std::string& name, PeriodKind kind, int64_t now);
  static constexpr size_t kNoPosition = SIZE_MAX;
  // Both at once, as snapshots show them; `position` (in the last tick's
  // readings) finds the interface without hashing its name when it is there.
  void usage(const std::string& name, int64_t now, Counts* day, Counts* month,
             size_t position = kNoPosition);
  // The same for the interface of the reading at `position` in the last
  // tick's readings (nothing past their end), without comparing its name:
  // for the snapshot of exactly those readings.
  void usage_at(size_t position, int64_t now, Counts* day, Counts* month);
  std::optional<QuotaStatus> quota_status(const std::string& name, int64_t now);
  // Starts of the day and the billing month containing `now`, as usage()
  // counts them.
  std::pair<int64_t, int64_t> day_and_month(int64_t now);
  const LedgerStats& stats() const { return stats_; }
  const Store& store() const { return store_; }
  Store& mutable_store() { return store_; }  // tests: simulate a full disk
  size_t pending_rows() const;

 private:
  struct Slot {
    int64_t start = 0;
    Counts counts;
  };
  // The five stored periods (five minutes to year) that a booking's time
  // falls in. Every interface booked in the same tick shares one: an
  // interface keeps one running sum per epoch, not one per period, and the
  // periods' totals are made from the sums when they are saved.
  struct Epoch {
    int64_t start[5] = {};
  };
  struct Pending {
    // What every tick reads, together: the day and month totals of the
    // current periods (store + unsaved), as snapshots show them...
    bool current_valid[2] = {};
    // ...and the unsaved increments of the newest epoch: in place, the only
    // epoch between most saves, so booking touches no other memory.
    bool open_used = false;
    uint32_t open_epoch = 0;
    Counts open;
    Slot current[2];
    std::vector<std::pair<uint32_t, Counts>> older;  // (epoch, increments) of other epochs
    std::string name;
  };
  struct Starts {
    int64_t wall = -1;
    int64_t start[5] = {};
    bool has_epoch = false;
    uint32_t epoch = 0;  // index of start in epochs_, when has_epoch
  };
  // A stored row: the unsaved increments of one interface in one period.
  struct Row {
    int kind;  // index in the stored kinds, five minutes to year
    int64_t start;
    Counts counts;
  };

  void book(const Booking& b);
  void add_unsaved(Pending& p, uint32_t epoch, const Counts& delta);
  Counts unsaved(const Pending& p, int kind, int64_t start) const;
  // The rows a save writes for `p`, one per period (epochs that share a
  // period summed), into `rows` (cleared first).
  void rows(const Pending& p, std::vector<Row>& rows) const;
  uint32_t epoch_of(const int64_t (&start)[5]);
  Pending& pending(const std::string& name, size_t position);
  // The entry of the Booker's interface `interface`.
  Pending& pending_of(uint32_t interface);
  void day_and_month_usage(Pending& p, int64_t now, Counts* day, Counts* month);
  Counts& current(const std::string& name, int which, int64_t start);
  Counts& current(Pending& p, const std::string& name, int which, int64_t start);
  const Starts& starts_of(int64_t wall);
  void check_quotas(int64_t now, LedgerEvents* events);

  LedgerOptions opts_;
  Store store_;
  Booker booker_;
  // In order of first sight, which is the readings' order: a tick walks
  // them front to back, in step with the readings, instead of hopping
  // between hash nodes all over the heap.
  std::vector<Pending> pending_;
  std::unordered_map<std::string, uint32_t> by_name_;  // index in pending_
  std::set<QuotaMark> marks_;
  std::vector<QuotaMark> unsaved_marks_;
  // Index in pending_ (entries are never erased) by the Booker's interface
  // number (Booking::interface), which also knows each position's interface.
  static constexpr uint32_t kUnknown = UINT32_MAX;
  std::vector<uint32_t> of_interface_;
  std::vector<Epoch> epochs_;  // of the unsaved increments; a save empties it
  Starts starts_;  // of the last wall asked about (a tick's bookings and snapshots share it)
  int64_t last_save_mono_ = -1;
  int64_t last_wall_ = 0;
  int64_t last_housekeeping_ = -1;
  bool closed_ = false;
  LedgerStats stats_;
};

}  // namespace netmon::ledger
