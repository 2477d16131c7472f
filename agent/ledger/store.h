// The ledger's SQLite file: per-interface totals for five minutes, hours,
// days, months and years, the booked-through identity of each interface and
// the quota alerts already given. WAL mode, one transaction per save, so a
// crash at any point leaves the last committed save.
#pragma once

#include <sqlite3.h>

#include <cstdint>
#include <functional>
#include <memory>
#include <set>
#include <stdexcept>
#include <string>
#include <string_view>
#include <tuple>
#include <vector>

#include "ledger/booking.h"
#include "ledger/period.h"

namespace netmon::ledger {

// A database that cannot be used (read-only, unopenable). Fatal at setup.
class LedgerError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// Retention in days; 0 keeps everything. Like vnStat's defaults, with more
// five-minute and hourly history since a router's database is small anyway.
struct Retention {
  int fivemin_days = 2;
  int hour_days = 14;
  int day_days = 732;  // about two years
  int month_days = 0;
  int year_days = 0;
};

struct StoreOptions {
  Retention retention;
  // Page size of a new file (an existing file keeps its own). Every save
  // rewrites whole pages into the log; small pages write less per save.
  int page_size = 1024;
  // SQLite's page cache, in KiB. Its default (2,000 KiB) fills as the file
  // grows past it (a year of 1,000 interfaces is tens of MiB), a resident
  // cost the agent's budget cannot carry; a save touches the right-hand edge
  // of each table's index (the newest periods) and a few interior pages, and
  // the rest is in the kernel's page cache anyway. 128 KiB holds what a save
  // of tens of interfaces touches; at 1,000 a save spills some pages to the
  // log early instead of keeping 150 KB more resident.
  int cache_kib = 128;
  // Test hook: caps the file at this many pages so a "disk full" is
  // reproducible without filling a real file system (0: no cap).
  int max_page_count = 0;
};

// One total to add to a period's row. Views: whoever fills a batch keeps its
// names and labels alive through save(). At 1,000 interfaces a save carries
// 5,000 deltas; owned strings made each a third larger, and every five-minute
// label a heap block of its own.
struct PeriodDelta {
  PeriodKind kind;
  std::string_view name;
  std::string_view label;
  Counts delta;
};

struct QuotaMark {
  std::string name;
  std::string quota;   // canonical quota, e.g. "21474836480/month:total"
  std::string period;  // the period label it was given in
  int threshold = 0;
  bool operator<(const QuotaMark& o) const {
    return std::tie(name, quota, period, threshold) <
           std::tie(o.name, o.quota, o.period, o.threshold);
  }
};

// Hands a batch's items to `each` one at a time; stops when `each` returns
// false.
template <typename T>
using Source = std::function<void(const std::function<bool(const T&)>& each)>;

struct SaveBatch {
  // Both generated as the store writes them: at 1,000 interfaces a save is
  // 5,000 deltas and 1,000 identities, half a megabyte held at once had they
  // been listed first.
  Source<PeriodDelta> deltas;
  Source<Identity> identities;
  std::vector<QuotaMark> marks;
  int64_t now = 0;          // for retention
  int64_t newest_slot = 0;  // clock floor to remember
  // Retention and the clock floor. Each touches pages of its own, so the
  // ledger does them hourly rather than in every save (fewer flash writes).
  bool housekeeping = true;
};

enum class SaveStatus { kOk, kFull, kError };

struct Row {
  std::string period;
  Counts counts;
};

class Store {
 public:
  // Opens or creates the database read-write. A file that is not a database
  // or fails `PRAGMA quick_check` is renamed to `<path>.corrupt-<time>` (with
  // its -wal) and a new one started. Throws LedgerError when the file or its
  // directory is read-only or cannot be opened.
  static Store open(const std::string& path, const StoreOptions& opts, int64_t now);
  // Opens an existing database for reading only (beside a running writer).
  static Store open_read_only(const std::string& path);

  std::vector<Identity> identities() const;
  int64_t clock_floor() const;  // newest five-minute start booked, 0 if none
  Counts total(PeriodKind kind, const std::string& name, const std::string& label) const;
  std::vector<Row> rows(PeriodKind kind, const std::string& name) const;  // oldest first
  std::vector<std::string> interfaces() const;                            // sorted
  std::set<QuotaMark> quota_marks() const;

  // One transaction. kFull: the disk (or the page cap) is full; kError: any
  // other failure (message in *error). Nothing is applied unless kOk.
  SaveStatus save(const SaveBatch& batch, std::string* error);
  // Bytes SQLite's page cache holds for this file now.
  int64_t cache_bytes() const;

  // Caps the file at `pages` pages (0 lifts the cap): how tests make and
  // then clear a full disk.
  void set_max_page_count(int pages);

  const std::string& path() const { return path_; }
  std::string corrupt_moved_to() const { return moved_to_; }

 private:
  struct Closer {
    void operator()(sqlite3* db) const { sqlite3_close_v2(db); }
  };
  Store(std::string path, sqlite3* db) : path_(std::move(path)), db_(db) {}
  void create_schema();
  SaveStatus save_batch(const SaveBatch& batch, std::string* error);

  std::string path_;
  std::unique_ptr<sqlite3, Closer> db_;
  StoreOptions opts_;
  std::string moved_to_;
};

}  // namespace netmon::ledger
