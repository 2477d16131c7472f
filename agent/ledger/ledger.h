// The usage ledger (issue 14): books every tick's counter increments per
// interface into five-minute, hourly, daily, monthly and yearly totals in a
// SQLite file, across restarts, reboots, counter resets, 32-bit wraps and
// wrong clocks, and evaluates quotas.
//
// Wiring (output/ledger_reporter.*, app/agent.cpp):
//   start   `--ledger PATH`: a LedgerError is fatal (one line, exit 1).
//   tick    after each source read: tick(time(nullptr), CLOCK_BOOTTIME ns, the
//           readings in the snapshot's order), then maybe_save(); snapshots take
//           usage() and quota_status() of what moved() (the rest stands still).
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
  // Both at once, as snapshots show them; `position` (in the last tick's
  // readings) finds the interface without hashing its name when it is there.
  void usage(const std::string& name, int64_t now, Counts* day, Counts* month,
             size_t position = Booking::kNoPosition);
  std::optional<QuotaStatus> quota_status(const std::string& name, int64_t now);
  // What the last tick() moved, for a caller that keeps what it showed and
  // redoes only that: the positions in its readings whose usage changed, and
  // whether other interfaces' did too (held traffic booked once the clock
  // became plausible).
  const std::vector<size_t>& moved() const { return moved_; }
  bool moved_others() const { return moved_others_; }

  const LedgerStats& stats() const { return stats_; }
  const Store& store() const { return store_; }
  Store& mutable_store() { return store_; }  // tests: simulate a full disk
  size_t pending_rows() const;

 private:
  struct Slot {
    int64_t start = 0;
    Counts counts;
  };
  struct Pending {
    // Unsaved increments by stored kind: the newest period's in place (the
    // only one between most saves; booking it touches no other memory), a
    // period that ended before the save in `older`.
    Slot open[5];
    bool open_used[5] = {};
    std::vector<std::pair<int, Slot>> older;  // (stored kind, slot)
    Slot current[2];  // day and month totals of the current periods (store + pending)
    bool current_valid[2] = {};
  };
  struct Starts {
    int64_t wall = -1;
    int64_t start[5] = {};
  };

  void book(const Booking& b);
  static void add_unsaved(Pending& p, int kind, int64_t start, const Counts& delta);
  static Counts unsaved(const Pending& p, int kind, int64_t start);
  Pending& pending(const std::string& name, size_t position);
  Counts& current(const std::string& name, int which, int64_t start);
  Counts& current(Pending& p, const std::string& name, int which, int64_t start);
  void usage_periods(int64_t now);  // fills usage_starts_
  void check_quotas(int64_t now, LedgerEvents* events);

  LedgerOptions opts_;
  Store store_;
  Booker booker_;
  std::unordered_map<std::string, Pending> pending_;
  std::set<QuotaMark> marks_;
  std::vector<QuotaMark> unsaved_marks_;
  // Entries of pending_ (never erased) by position in the readings, as
  // last looked up: sources list the same interfaces in the same order.
  std::vector<std::pair<const std::string*, Pending*>> at_position_;
  std::vector<size_t> moved_;
  bool moved_others_ = false;
  Starts starts_;
  Starts usage_starts_;  // start[0]: day, start[1]: month of usage()'s `now`
  int64_t last_save_mono_ = -1;
  int64_t last_wall_ = 0;
  int64_t last_housekeeping_ = -1;
  bool closed_ = false;
  LedgerStats stats_;
};

}  // namespace netmon::ledger
