#include "ledger/store.h"

#include <spdlog/spdlog.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <ctime>
#include <optional>

namespace netmon::ledger {
namespace {

constexpr int kSchemaVersion = 1;
constexpr PeriodKind kTables[] = {PeriodKind::kFiveMin, PeriodKind::kHour, PeriodKind::kDay,
                                  PeriodKind::kMonth, PeriodKind::kYear};

struct Finalizer {
  void operator()(sqlite3_stmt* s) const { sqlite3_finalize(s); }
};
using Stmt = std::unique_ptr<sqlite3_stmt, Finalizer>;

std::string table(PeriodKind kind) { return std::string("\"") + period_name(kind) + "\""; }

// Runs SQL that returns no rows we need; on failure the code and message.
int exec(sqlite3* db, const std::string& sql, std::string* error) {
  char* msg = nullptr;
  int rc = sqlite3_exec(db, sql.c_str(), nullptr, nullptr, &msg);
  if (rc != SQLITE_OK && error) *error = msg ? msg : sqlite3_errstr(rc);
  sqlite3_free(msg);
  return rc;
}

Stmt prepare(sqlite3* db, const std::string& sql) {
  sqlite3_stmt* s = nullptr;
  int rc = sqlite3_prepare_v2(db, sql.c_str(), -1, &s, nullptr);
  if (rc != SQLITE_OK) {
    sqlite3_finalize(s);
    throw LedgerError("ledger database: " + std::string(sqlite3_errmsg(db)) + " in '" + sql + "'");
  }
  return Stmt(s);
}

void bind_counts(sqlite3_stmt* s, int first, const Counts& c) {
  // Unsigned counters are stored bit for bit in SQLite's signed 64-bit
  // integers; totals stay exact below 2^63 bytes.
  sqlite3_bind_int64(s, first, static_cast<sqlite3_int64>(c.rx_bytes));
  sqlite3_bind_int64(s, first + 1, static_cast<sqlite3_int64>(c.rx_packets));
  sqlite3_bind_int64(s, first + 2, static_cast<sqlite3_int64>(c.tx_bytes));
  sqlite3_bind_int64(s, first + 3, static_cast<sqlite3_int64>(c.tx_packets));
}

Counts column_counts(sqlite3_stmt* s, int first) {
  Counts c;
  c.rx_bytes = static_cast<uint64_t>(sqlite3_column_int64(s, first));
  c.rx_packets = static_cast<uint64_t>(sqlite3_column_int64(s, first + 1));
  c.tx_bytes = static_cast<uint64_t>(sqlite3_column_int64(s, first + 2));
  c.tx_packets = static_cast<uint64_t>(sqlite3_column_int64(s, first + 3));
  return c;
}

std::string text(sqlite3_stmt* s, int col) {
  const unsigned char* t = sqlite3_column_text(s, col);
  return t ? reinterpret_cast<const char*>(t) : "";
}

// Why the file is unusable as a database, or nothing. Other failures
// (permissions, I/O) are not corruption and must not move the file.
std::optional<std::string> corruption(sqlite3* db, int* other_rc, std::string* other_msg) {
  std::string first;
  char* msg = nullptr;
  int rc = sqlite3_exec(
      db, "PRAGMA quick_check(1)",
      [](void* arg, int, char** values, char**) {
        auto* out = static_cast<std::string*>(arg);
        if (out->empty() && values[0]) *out = values[0];
        return 0;
      },
      &first, &msg);
  std::string m = msg ? msg : sqlite3_errstr(rc);
  sqlite3_free(msg);
  int base = rc & 0xff;
  if (base == SQLITE_NOTADB || base == SQLITE_CORRUPT) return m;
  if (rc != SQLITE_OK) {
    *other_rc = rc;
    *other_msg = m;
    return std::nullopt;
  }
  if (first != "ok") {
    // quick_check reports over several lines; the log gets one.
    std::replace(first.begin(), first.end(), '\n', ' ');
    return "quick_check: " + first;
  }
  return std::nullopt;
}

bool exists(const std::string& p) {
  struct stat st;
  return ::stat(p.c_str(), &st) == 0;
}

std::string move_aside(const std::string& path, int64_t now) {
  std::string base = path + ".corrupt-" + utc_text(now, "%Y%m%dT%H%M%SZ");
  std::string to = base;
  for (int n = 1; exists(to); ++n) to = base + "-" + std::to_string(n);
  if (::rename(path.c_str(), to.c_str()) != 0)
    throw LedgerError("ledger database '" + path +
                      "' is corrupt and could not be moved aside to '" + to +
                      "': " + std::strerror(errno));
  // The log belongs to the corrupt file; replaying it into a new one would
  // be wrong. The shared-memory index is rebuilt from the log, so it goes.
  if (exists(path + "-wal")) ::rename((path + "-wal").c_str(), (to + "-wal").c_str());
  ::unlink((path + "-shm").c_str());
  return to;
}

// SQLite's page cache starts with a slab of 20 pages sized before the
// file's 1 KiB pages are known (4 KiB each: 113 KB), kept while the file is
// open. Pages one at a time instead: the cache stays bounded by cache_size.
// Only before SQLite initialises; later calls change nothing.
void no_page_cache_slab() {
  static const int configured = sqlite3_config(SQLITE_CONFIG_PAGECACHE, nullptr, 0, 0);
  (void)configured;
}

sqlite3* open_raw(const std::string& path, int flags) {
  no_page_cache_slab();
  sqlite3* db = nullptr;
  int rc = sqlite3_open_v2(path.c_str(), &db, flags, nullptr);
  if (rc != SQLITE_OK) {
    std::string m = db ? sqlite3_errmsg(db) : sqlite3_errstr(rc);
    sqlite3_close_v2(db);
    throw LedgerError("cannot open ledger database '" + path + "': " + m);
  }
  sqlite3_extended_result_codes(db, 1);
  sqlite3_busy_timeout(db, 2000);
  return db;
}

[[noreturn]] void read_only(const std::string& path, const std::string& why) {
  throw LedgerError("ledger database '" + path + "' is read-only (" + why +
                    "): the ledger needs to write the file and its directory");
}

}  // namespace

Store Store::open(const std::string& path, const StoreOptions& opts, int64_t now) {
  Store s(path, open_raw(path, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE));
  s.opts_ = opts;
  if (sqlite3_db_readonly(s.db_.get(), "main") == 1) read_only(path, "no write permission");
  int other_rc = SQLITE_OK;
  std::string other_msg;
  if (auto why = corruption(s.db_.get(), &other_rc, &other_msg)) {
    s.db_.reset();
    std::string to = move_aside(path, now);
    spdlog::error("ledger database '{}' is corrupt ({}): moved it to '{}' and started a new one",
                  path, *why, to);
    s.db_.reset(open_raw(path, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE));
    s.moved_to_ = to;
  } else if (other_rc != SQLITE_OK) {
    if ((other_rc & 0xff) == SQLITE_READONLY) read_only(path, other_msg);
    throw LedgerError("cannot read ledger database '" + path + "': " + other_msg);
  }
  s.create_schema();
  return s;
}

void Store::create_schema() {
  sqlite3* db = db_.get();
  std::string err;
  // WAL: readers (the report) never block the writer, a commit appends to
  // the log instead of rewriting pages in place twice, and a crash keeps the
  // last commit. synchronous=NORMAL: no fsync per commit, only at
  // checkpoints; a power cut may lose the last saves but never consistency.
  // Only takes effect on a new, empty file, and only before WAL is on.
  exec(db, "PRAGMA page_size=" + std::to_string(opts_.page_size), nullptr);
  std::string mode;
  int rc = sqlite3_exec(
      db, "PRAGMA journal_mode=WAL",
      [](void* arg, int, char** v, char**) {
        *static_cast<std::string*>(arg) = v[0] ? v[0] : "";
        return 0;
      },
      &mode, nullptr);
  if ((rc & 0xff) == SQLITE_READONLY) read_only(path_, sqlite3_errmsg(db));
  if (rc != SQLITE_OK || mode != "wal")
    throw LedgerError("ledger database '" + path_ + "': cannot use WAL mode: " +
                      (rc != SQLITE_OK ? std::string(sqlite3_errmsg(db)) : "journal mode " + mode) +
                      " (is the directory writable?)");
  exec(db, "PRAGMA synchronous=NORMAL", nullptr);
  exec(db, "PRAGMA cache_size=-" + std::to_string(opts_.cache_kib), nullptr);
  if (opts_.max_page_count > 0)
    exec(db, "PRAGMA max_page_count=" + std::to_string(opts_.max_page_count), nullptr);

  std::string sql = "BEGIN;";
  for (PeriodKind k : kTables)
    sql += "CREATE TABLE IF NOT EXISTS " + table(k) +
           "(period TEXT NOT NULL, interface TEXT NOT NULL,"
           " rx_bytes INTEGER NOT NULL, rx_packets INTEGER NOT NULL,"
           " tx_bytes INTEGER NOT NULL, tx_packets INTEGER NOT NULL,"
           " PRIMARY KEY(period, interface)) WITHOUT ROWID;";
  sql +=
      "CREATE TABLE IF NOT EXISTS interface(name TEXT PRIMARY KEY, ifindex INTEGER NOT NULL,"
      " boot_id TEXT NOT NULL, rx_bytes INTEGER NOT NULL, rx_packets INTEGER NOT NULL,"
      " tx_bytes INTEGER NOT NULL, tx_packets INTEGER NOT NULL) WITHOUT ROWID;"
      "CREATE TABLE IF NOT EXISTS quota_alert(interface TEXT NOT NULL, quota TEXT NOT NULL,"
      " period TEXT NOT NULL, threshold INTEGER NOT NULL, given INTEGER NOT NULL,"
      " PRIMARY KEY(interface, quota, period, threshold)) WITHOUT ROWID;"
      "CREATE TABLE IF NOT EXISTS meta(key TEXT PRIMARY KEY, value INTEGER NOT NULL) WITHOUT ROWID;"
      "PRAGMA user_version=" +
      std::to_string(kSchemaVersion) + ";COMMIT;";
  rc = exec(db, sql, &err);
  if (rc != SQLITE_OK) {
    exec(db, "ROLLBACK", nullptr);
    if ((rc & 0xff) == SQLITE_READONLY) read_only(path_, err);
    throw LedgerError("ledger database '" + path_ + "': cannot create tables: " + err);
  }
}

Store Store::open_read_only(const std::string& path) {
  Store s(path, open_raw(path, SQLITE_OPEN_READONLY));
  Stmt st = [&] {
    sqlite3_stmt* raw = nullptr;
    int rc = sqlite3_prepare_v2(s.db_.get(), "PRAGMA user_version", -1, &raw, nullptr);
    if (rc != SQLITE_OK) {
      sqlite3_finalize(raw);
      throw LedgerError("cannot read ledger database '" + path +
                        "': " + sqlite3_errmsg(s.db_.get()));
    }
    return Stmt(raw);
  }();
  int rc = sqlite3_step(st.get());
  if (rc != SQLITE_ROW)
    throw LedgerError("cannot read ledger database '" + path + "': " + sqlite3_errmsg(s.db_.get()));
  if (sqlite3_column_int(st.get(), 0) != kSchemaVersion)
    throw LedgerError("'" + path + "' is not a netmon ledger (schema version " +
                      std::to_string(sqlite3_column_int(st.get(), 0)) + ")");
  return s;
}

std::vector<Identity> Store::identities() const {
  Stmt s = prepare(db_.get(),
                   "SELECT name, ifindex, boot_id, rx_bytes, rx_packets, tx_bytes, tx_packets "
                   "FROM interface ORDER BY name");
  std::vector<Identity> out;
  while (sqlite3_step(s.get()) == SQLITE_ROW)
    out.push_back({text(s.get(), 0), static_cast<uint32_t>(sqlite3_column_int64(s.get(), 1)),
                   text(s.get(), 2), column_counts(s.get(), 3)});
  return out;
}

int64_t Store::clock_floor() const {
  Stmt s = prepare(db_.get(), "SELECT value FROM meta WHERE key = 'clock_floor'");
  return sqlite3_step(s.get()) == SQLITE_ROW ? sqlite3_column_int64(s.get(), 0) : 0;
}

Counts Store::total(PeriodKind kind, const std::string& name, const std::string& label) const {
  Stmt s = prepare(db_.get(), "SELECT rx_bytes, rx_packets, tx_bytes, tx_packets FROM " +
                                  table(kind) + " WHERE period = ? AND interface = ?");
  sqlite3_bind_text(s.get(), 1, label.c_str(), -1, SQLITE_TRANSIENT);
  sqlite3_bind_text(s.get(), 2, name.c_str(), -1, SQLITE_TRANSIENT);
  return sqlite3_step(s.get()) == SQLITE_ROW ? column_counts(s.get(), 0) : Counts{};
}

std::vector<Row> Store::rows(PeriodKind kind, const std::string& name) const {
  Stmt s = prepare(db_.get(), "SELECT period, rx_bytes, rx_packets, tx_bytes, tx_packets FROM " +
                                  table(kind) + " WHERE interface = ? ORDER BY period");
  sqlite3_bind_text(s.get(), 1, name.c_str(), -1, SQLITE_TRANSIENT);
  std::vector<Row> out;
  while (sqlite3_step(s.get()) == SQLITE_ROW)
    out.push_back({text(s.get(), 0), column_counts(s.get(), 1)});
  return out;
}

std::vector<std::string> Store::interfaces() const {
  std::string sql = "SELECT name FROM interface";
  for (PeriodKind k : kTables) sql += " UNION SELECT interface FROM " + table(k);
  Stmt s = prepare(db_.get(), sql + " ORDER BY 1");
  std::vector<std::string> out;
  while (sqlite3_step(s.get()) == SQLITE_ROW) out.push_back(text(s.get(), 0));
  return out;
}

std::set<QuotaMark> Store::quota_marks() const {
  Stmt s = prepare(db_.get(), "SELECT interface, quota, period, threshold FROM quota_alert");
  std::set<QuotaMark> out;
  while (sqlite3_step(s.get()) == SQLITE_ROW)
    out.insert(
        {text(s.get(), 0), text(s.get(), 1), text(s.get(), 2), sqlite3_column_int(s.get(), 3)});
  return out;
}

void Store::set_max_page_count(int pages) {
  // SQLite's own maximum when lifting the cap.
  exec(db_.get(), "PRAGMA max_page_count=" + std::to_string(pages > 0 ? pages : 1073741823),
       nullptr);
}

SaveStatus Store::save(const SaveBatch& batch, std::string* error) {
  try {
    return save_batch(batch, error);
  } catch (const LedgerError& e) {
    // A statement that would not prepare: nothing of the batch is kept.
    if (!sqlite3_get_autocommit(db_.get())) exec(db_.get(), "ROLLBACK", nullptr);
    if (error) *error = e.what();
    return SaveStatus::kError;
  }
}

SaveStatus Store::save_batch(const SaveBatch& batch, std::string* error) {
  sqlite3* db = db_.get();
  std::string err;
  auto fail = [&](int rc, const std::string& what) {
    if (!sqlite3_get_autocommit(db)) exec(db, "ROLLBACK", nullptr);
    if (error) *error = what;
    return (rc & 0xff) == SQLITE_FULL ? SaveStatus::kFull : SaveStatus::kError;
  };
  int rc = exec(db, "BEGIN IMMEDIATE", &err);
  if (rc != SQLITE_OK) return fail(rc, err);

  auto run = [&](sqlite3_stmt* s) {
    int r = sqlite3_step(s);
    sqlite3_reset(s);
    return r == SQLITE_DONE ? SQLITE_OK : sqlite3_extended_errcode(db);
  };

  Stmt upsert[5];
  for (int i = 0; i < 5; ++i)
    upsert[i] = prepare(db, "INSERT INTO " + table(kTables[i]) +
                                "(period, interface, rx_bytes, rx_packets, tx_bytes, tx_packets)"
                                " VALUES(?, ?, ?, ?, ?, ?) ON CONFLICT(period, interface) DO UPDATE"
                                " SET rx_bytes = rx_bytes + excluded.rx_bytes,"
                                " rx_packets = rx_packets + excluded.rx_packets,"
                                " tx_bytes = tx_bytes + excluded.tx_bytes,"
                                " tx_packets = tx_packets + excluded.tx_packets");
  if (batch.deltas)
    batch.deltas([&](const PeriodDelta& d) {
      int i = static_cast<int>(std::find(std::begin(kTables), std::end(kTables), d.kind) -
                               std::begin(kTables));
      if (i >= 5) return true;  // weeks are not stored: they are sums of days
      sqlite3_stmt* s = upsert[i].get();
      sqlite3_bind_text(s, 1, d.label.data(), static_cast<int>(d.label.size()), SQLITE_STATIC);
      sqlite3_bind_text(s, 2, d.name.data(), static_cast<int>(d.name.size()), SQLITE_STATIC);
      bind_counts(s, 3, d.delta);
      return (rc = run(s)) == SQLITE_OK;
    });
  if (rc != SQLITE_OK) return fail(rc, sqlite3_errmsg(db));

  Stmt ident = prepare(db,
                       "INSERT OR REPLACE INTO interface(name, ifindex, boot_id, rx_bytes,"
                       " rx_packets, tx_bytes, tx_packets) VALUES(?, ?, ?, ?, ?, ?, ?)");
  if (batch.identities)
    batch.identities([&](const Identity& id) {
      sqlite3_bind_text(ident.get(), 1, id.name.c_str(), -1, SQLITE_TRANSIENT);
      sqlite3_bind_int64(ident.get(), 2, id.ifindex);
      sqlite3_bind_text(ident.get(), 3, id.boot_id.c_str(), -1, SQLITE_TRANSIENT);
      bind_counts(ident.get(), 4, id.counts);
      return (rc = run(ident.get())) == SQLITE_OK;
    });
  if (rc != SQLITE_OK) return fail(rc, sqlite3_errmsg(db));

  Stmt mark =
      prepare(db,
              "INSERT OR IGNORE INTO quota_alert(interface, quota, period, threshold, given)"
              " VALUES(?, ?, ?, ?, ?)");
  for (const QuotaMark& m : batch.marks) {
    sqlite3_bind_text(mark.get(), 1, m.name.c_str(), -1, SQLITE_TRANSIENT);
    sqlite3_bind_text(mark.get(), 2, m.quota.c_str(), -1, SQLITE_TRANSIENT);
    sqlite3_bind_text(mark.get(), 3, m.period.c_str(), -1, SQLITE_TRANSIENT);
    sqlite3_bind_int(mark.get(), 4, m.threshold);
    sqlite3_bind_int64(mark.get(), 5, batch.now);
    if ((rc = run(mark.get())) != SQLITE_OK) return fail(rc, sqlite3_errmsg(db));
  }

  if (batch.housekeeping && batch.newest_slot > 0) {
    Stmt floor = prepare(db,
                         "INSERT INTO meta(key, value) VALUES('clock_floor', ?) ON CONFLICT(key)"
                         " DO UPDATE SET value = excluded.value");
    sqlite3_bind_int64(floor.get(), 1, batch.newest_slot);
    if ((rc = run(floor.get())) != SQLITE_OK) return fail(rc, sqlite3_errmsg(db));
  }

  // Retention: labels of one kind sort chronologically, and the period is
  // the first key column, so each delete is a range on the primary key.
  const int days[5] = {opts_.retention.fivemin_days, opts_.retention.hour_days,
                       opts_.retention.day_days, opts_.retention.month_days,
                       opts_.retention.year_days};
  Calendar cal;  // month retention (if any) compares labels of either shape alike
  for (int i = 0; i < 5; ++i) {
    if (!batch.housekeeping || days[i] <= 0 || batch.now <= 0) continue;
    int64_t cut = period_start(kTables[i], batch.now - int64_t{days[i]} * 86400, cal);
    Stmt del = prepare(db, "DELETE FROM " + table(kTables[i]) + " WHERE period < ?");
    std::string label = period_label(kTables[i], cut, cal);
    sqlite3_bind_text(del.get(), 1, label.c_str(), -1, SQLITE_TRANSIENT);
    if ((rc = run(del.get())) != SQLITE_OK) return fail(rc, sqlite3_errmsg(db));
  }
  if (batch.housekeeping && batch.now > 0) {
    Stmt del = prepare(db, "DELETE FROM quota_alert WHERE given < ?");
    sqlite3_bind_int64(del.get(), 1, batch.now - int64_t{400} * 86400);
    if ((rc = run(del.get())) != SQLITE_OK) return fail(rc, sqlite3_errmsg(db));
  }

  rc = exec(db, "COMMIT", &err);
  if (rc != SQLITE_OK) return fail(rc, err);
  return SaveStatus::kOk;
}

int64_t Store::cache_bytes() const {
  int used = 0, highest = 0;
  sqlite3_db_status(db_.get(), SQLITE_DBSTATUS_CACHE_USED, &used, &highest, 0);
  return used;
}

}  // namespace netmon::ledger
