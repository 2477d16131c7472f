#include "ledger/store.h"

#include <gtest/gtest.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <deque>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <memory>
#include <string_view>
#include <utility>

#include "ledger_test_util.h"

namespace netmon::ledger {
namespace {

using test::ScopedTz;
using test::TempDir;

constexpr int64_t kNow = 1796040000;  // 2026-11-30 12:00:00 UTC

std::string slurp(const std::string& p) {
  std::ifstream in(p, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

void write_file(const std::string& p, const std::string& data) {
  std::ofstream out(p, std::ios::binary | std::ios::trunc);
  out << data;
}

// A batch with its deltas listed, and the names and labels they view (in a
// deque, whose strings stay where they are as it grows). Shared, so a copy
// of the batch hands out the same list.
struct TestBatch : SaveBatch {
  std::shared_ptr<std::deque<std::string>> text = std::make_shared<std::deque<std::string>>();
  std::shared_ptr<std::vector<PeriodDelta>> list = std::make_shared<std::vector<PeriodDelta>>();
  std::shared_ptr<std::vector<Identity>> ids = std::make_shared<std::vector<Identity>>();

  TestBatch() {
    deltas = [list = list](const std::function<bool(const PeriodDelta&)>& each) {
      for (const PeriodDelta& d : *list)
        if (!each(d)) return;
    };
    identities = [ids = ids](const std::function<bool(const Identity&)>& each) {
      for (const Identity& id : *ids)
        if (!each(id)) return;
    };
  }

  // `name`'s five periods of `day`, each adding `c`.
  void add(const std::string& name, const Counts& c, const std::string& day = "2026-11-30") {
    const std::string_view n = text->emplace_back(name);
    const std::pair<PeriodKind, std::string> periods[] = {{PeriodKind::kFiveMin, day + "T12:00"},
                                                          {PeriodKind::kHour, day + "T12"},
                                                          {PeriodKind::kDay, day},
                                                          {PeriodKind::kMonth, day.substr(0, 7)},
                                                          {PeriodKind::kYear, day.substr(0, 4)}};
    for (const auto& [kind, label] : periods)
      list->push_back({kind, n, text->emplace_back(label), c});
  }
};

TestBatch one(const std::string& name, const Counts& c, const std::string& day = "2026-11-30") {
  TestBatch b;
  b.add(name, c, day);
  b.now = kNow;
  return b;
}

TEST(Store, SavesAddUpAndReopen) {
  ScopedTz tz("UTC");
  TempDir dir;
  std::string path = dir.file("netmon.db");
  {
    Store s = Store::open(path, {}, kNow);
    std::string err;
    TestBatch b = one("wwan0", {100, 1, 200, 2});
    b.ids->push_back({"wwan0", 3, "boot-a", {1000, 10, 2000, 20}});
    b.newest_slot = kNow;
    ASSERT_EQ(s.save(b, &err), SaveStatus::kOk) << err;
    ASSERT_EQ(s.save(one("wwan0", {5, 1, 7, 1}), &err), SaveStatus::kOk) << err;
    // WAL mode: the log file exists beside the database.
    EXPECT_TRUE(std::filesystem::exists(path + "-wal"));
  }
  Store s = Store::open(path, {}, kNow);
  EXPECT_EQ(s.total(PeriodKind::kDay, "wwan0", "2026-11-30"), (Counts{105, 2, 207, 3}));
  EXPECT_EQ(s.total(PeriodKind::kMonth, "wwan0", "2026-11"), (Counts{105, 2, 207, 3}));
  EXPECT_EQ(s.total(PeriodKind::kDay, "wwan0", "2026-11-29"), Counts{});
  ASSERT_EQ(s.identities().size(), 1u);
  EXPECT_EQ(s.identities()[0].counts, (Counts{1000, 10, 2000, 20}));
  EXPECT_EQ(s.identities()[0].boot_id, "boot-a");
  EXPECT_EQ(s.identities()[0].ifindex, 3u);
  EXPECT_EQ(s.clock_floor(), kNow);
  EXPECT_EQ(s.interfaces(), (std::vector<std::string>{"wwan0"}));
}

// A year of 1,000 interfaces is tens of MiB: SQLite's cache must not hold
// the file in the agent's memory (its default would take 2 MiB of it).
TEST(Store, PageCacheStaysBoundedAsTheFileGrows) {
  ScopedTz tz("UTC");
  TempDir dir;
  auto fill_and_read = [&](const std::string& name, StoreOptions opts) {
    Store s = Store::open(dir.file(name), opts, kNow);
    std::string err;
    TestBatch b;
    for (int i = 0; i < 10000; ++i) b.add("veth" + std::to_string(i), {1, 1, 1, 1});
    b.now = kNow;
    EXPECT_EQ(s.save(b, &err), SaveStatus::kOk) << err;
    Counts sum;
    for (int i = 0; i < 10000; ++i)
      sum += s.total(PeriodKind::kDay, "veth" + std::to_string(i), "2026-11-30");
    EXPECT_EQ(sum, (Counts{10000, 10000, 10000, 10000}));
    EXPECT_GT(std::filesystem::file_size(dir.file(name)) +
                  std::filesystem::file_size(dir.file(name) + "-wal"),
              1u << 20);
    return s.cache_bytes();
  };
  EXPECT_LE(fill_and_read("bounded.db", {}), 160 * 1024);
  StoreOptions roomy;
  roomy.cache_kib = 4096;
  EXPECT_GT(fill_and_read("roomy.db", roomy), 1 << 20);  // what the bound holds back
}

TEST(Store, ExactAboveFiftyThreeBits) {
  ScopedTz tz("UTC");
  TempDir dir;
  Store s = Store::open(dir.file("db"), {}, kNow);
  std::string err;
  Counts big{(uint64_t{1} << 60) + 1, 3, (uint64_t{1} << 62) + 7, 5};
  ASSERT_EQ(s.save(one("eth0", big), &err), SaveStatus::kOk) << err;
  EXPECT_EQ(s.total(PeriodKind::kYear, "eth0", "2026"), big);
}

TEST(Store, RetentionDropsOldFiveMinuteAndHourRows) {
  ScopedTz tz("UTC");
  TempDir dir;
  Store s = Store::open(dir.file("db"), {}, kNow);
  std::string err;
  ASSERT_EQ(s.save(one("eth0", {1, 1, 1, 1}, "2026-11-01"), &err), SaveStatus::kOk);
  ASSERT_EQ(s.save(one("eth0", {1, 1, 1, 1}, "2026-11-29"), &err), SaveStatus::kOk);
  // Defaults: five minutes for 2 days, hours for 14 days, days for 732.
  EXPECT_EQ(s.rows(PeriodKind::kFiveMin, "eth0").size(), 1u);
  EXPECT_EQ(s.rows(PeriodKind::kFiveMin, "eth0")[0].period, "2026-11-29T12:00");
  EXPECT_EQ(s.rows(PeriodKind::kHour, "eth0").size(), 1u);
  EXPECT_EQ(s.rows(PeriodKind::kDay, "eth0").size(), 2u);
  EXPECT_EQ(s.total(PeriodKind::kMonth, "eth0", "2026-11"), (Counts{2, 2, 2, 2}));
}

TEST(Store, GarbageFileIsMovedAsideNotOverwritten) {
  ScopedTz tz("UTC");
  TempDir dir;
  std::string path = dir.file("netmon.db");
  std::string garbage(8192, 'x');
  write_file(path, garbage);
  Store s = Store::open(path, {}, kNow);
  EXPECT_EQ(s.corrupt_moved_to(), path + ".corrupt-20261130T120000Z");
  EXPECT_EQ(slurp(path + ".corrupt-20261130T120000Z"), garbage);
  std::string err;
  EXPECT_EQ(s.save(one("wwan0", {1, 2, 3, 4}), &err), SaveStatus::kOk) << err;
  EXPECT_EQ(s.total(PeriodKind::kDay, "wwan0", "2026-11-30"), (Counts{1, 2, 3, 4}));
}

TEST(Store, DamagedPagesAreMovedAsideToo) {
  ScopedTz tz("UTC");
  TempDir dir;
  std::string path = dir.file("netmon.db");
  {
    Store s = Store::open(path, {}, kNow);
    std::string err;
    for (int i = 0; i < 50; ++i)
      ASSERT_EQ(s.save(one("if" + std::to_string(i), {1, 1, 1, 1}), &err), SaveStatus::kOk);
  }
  // Closing checkpointed the log into the file. Overwrite the second page
  // (a table's b-tree page) with noise, keeping the valid file header.
  std::string data = slurp(path);
  ASSERT_GE(data.size(), 8192u);
  for (size_t i = 4096; i < 8192; ++i) data[i] = static_cast<char>(i * 7 + 3);
  write_file(path, data);
  std::filesystem::remove(path + "-wal");
  Store s = Store::open(path, {}, kNow + 1);
  EXPECT_EQ(s.corrupt_moved_to(), path + ".corrupt-20261130T120001Z");
  EXPECT_EQ(slurp(s.corrupt_moved_to()), data);
  EXPECT_TRUE(s.interfaces().empty());
}

TEST(Store, SecondCorruptFileInTheSameSecondGetsItsOwnName) {
  ScopedTz tz("UTC");
  TempDir dir;
  std::string path = dir.file("netmon.db");
  write_file(path, std::string(4096, 'a'));
  { Store s = Store::open(path, {}, kNow); }
  std::filesystem::remove(path + "-wal");
  std::filesystem::remove(path + "-shm");
  write_file(path, std::string(4096, 'b'));
  Store s = Store::open(path, {}, kNow);
  EXPECT_EQ(s.corrupt_moved_to(), path + ".corrupt-20261130T120000Z-1");
  EXPECT_EQ(slurp(path + ".corrupt-20261130T120000Z"), std::string(4096, 'a'));
}

// Root writes through file permissions, so the read-only case runs in a
// child that has given up root.
TEST(Store, ReadOnlyFileIsAClearError) {
  TempDir dir;
  std::string path = dir.file("netmon.db");
  { Store s = Store::open(path, {}, kNow); }
  ASSERT_EQ(chmod(path.c_str(), 0444), 0);
  ASSERT_EQ(chmod(dir.path().c_str(), 0755), 0);
  int pipefd[2];
  ASSERT_EQ(pipe(pipefd), 0);
  pid_t pid = fork();
  ASSERT_GE(pid, 0);
  if (pid == 0) {
    close(pipefd[0]);
    if (geteuid() == 0 && (setgid(65534) != 0 || setuid(65534) != 0)) _exit(3);
    std::string msg;
    try {
      Store s = Store::open(path, {}, kNow);
    } catch (const LedgerError& e) {
      msg = e.what();
    }
    if (write(pipefd[1], msg.data(), msg.size()) < 0) _exit(4);
    _exit(msg.empty() ? 2 : 0);
  }
  close(pipefd[1]);
  std::string msg;
  char buf[512];
  ssize_t n;
  while ((n = read(pipefd[0], buf, sizeof buf)) > 0) msg.append(buf, static_cast<size_t>(n));
  close(pipefd[0]);
  int status = 0;
  waitpid(pid, &status, 0);
  ASSERT_TRUE(WIFEXITED(status));
  EXPECT_EQ(WEXITSTATUS(status), 0) << msg;
  EXPECT_EQ(msg, "ledger database '" + path +
                     "' is read-only (no write permission): the ledger needs to write the file "
                     "and its directory");
  // And the file is untouched (not moved aside as corrupt).
  EXPECT_FALSE(std::filesystem::exists(path + ".corrupt-20261130T120000Z"));
}

TEST(Store, MissingDirectoryIsAClearError) {
  TempDir dir;
  std::string path = dir.file("no/such/dir/netmon.db");
  try {
    Store::open(path, {}, kNow);
    FAIL() << "opened " << path;
  } catch (const LedgerError& e) {
    EXPECT_EQ(std::string(e.what()),
              "cannot open ledger database '" + path + "': unable to open database file");
  }
}

TEST(Store, FullDiskAppliesNothingAndKeepsWorkingOnceThereIsRoom) {
  ScopedTz tz("UTC");
  TempDir dir;
  Store s = Store::open(dir.file("db"), {}, kNow);
  std::string err;
  ASSERT_EQ(s.save(one("wwan0", {1, 1, 1, 1}), &err), SaveStatus::kOk);
  s.set_max_page_count(1);  // smaller than the file: every write is "full"
  TestBatch big = one("wwan0", {10, 10, 10, 10});
  for (int i = 0; i < 200; ++i) big.add("if" + std::to_string(i), {1, 1, 1, 1});
  EXPECT_EQ(s.save(big, &err), SaveStatus::kFull);
  EXPECT_EQ(err, "database or disk is full");
  EXPECT_EQ(s.total(PeriodKind::kDay, "wwan0", "2026-11-30"), (Counts{1, 1, 1, 1}));
  EXPECT_EQ(s.interfaces().size(), 1u);
  s.set_max_page_count(0);
  ASSERT_EQ(s.save(big, &err), SaveStatus::kOk) << err;
  EXPECT_EQ(s.total(PeriodKind::kDay, "wwan0", "2026-11-30"), (Counts{11, 11, 11, 11}));
  EXPECT_EQ(s.interfaces().size(), 201u);
}

TEST(Store, ProcessDyingInsideATransactionLeavesTheLastCommit) {
  ScopedTz tz("UTC");
  TempDir dir;
  std::string path = dir.file("netmon.db");
  {
    Store s = Store::open(path, {}, kNow);
    std::string err;
    ASSERT_EQ(s.save(one("wwan0", {1, 2, 3, 4}), &err), SaveStatus::kOk);
  }
  pid_t pid = fork();
  ASSERT_GE(pid, 0);
  if (pid == 0) {
    // Enough rows that SQLite spills uncommitted pages into the log.
    sqlite3* db = nullptr;
    if (sqlite3_open(path.c_str(), &db) != SQLITE_OK) _exit(2);
    sqlite3_exec(db, "PRAGMA cache_size=10; BEGIN", nullptr, nullptr, nullptr);
    for (int i = 0; i < 20000; ++i) {
      std::string sql =
          "INSERT INTO \"day\" VALUES('2026-11-30', 'x" + std::to_string(i) + "', 1, 1, 1, 1)";
      if (sqlite3_exec(db, sql.c_str(), nullptr, nullptr, nullptr) != SQLITE_OK) _exit(3);
    }
    sqlite3_exec(db, "UPDATE \"day\" SET rx_bytes = 999 WHERE interface = 'wwan0'", nullptr,
                 nullptr, nullptr);
    _exit(0);  // no COMMIT, no close
  }
  int status = 0;
  waitpid(pid, &status, 0);
  ASSERT_TRUE(WIFEXITED(status));
  ASSERT_EQ(WEXITSTATUS(status), 0);
  EXPECT_GT(std::filesystem::file_size(path + "-wal"), 100u * 1024);  // it did spill
  Store s = Store::open(path, {}, kNow);
  EXPECT_TRUE(s.corrupt_moved_to().empty());
  EXPECT_EQ(s.total(PeriodKind::kDay, "wwan0", "2026-11-30"), (Counts{1, 2, 3, 4}));
  EXPECT_EQ(s.interfaces(), (std::vector<std::string>{"wwan0"}));
}

TEST(Store, KillNineDuringSavesLeavesEveryTableInStep) {
  ScopedTz tz("UTC");
  TempDir dir;
  std::string path = dir.file("netmon.db");
  { Store s = Store::open(path, {}, kNow); }
  pid_t pid = fork();
  ASSERT_GE(pid, 0);
  if (pid == 0) {
    // Each save adds 1 to every table of ten interfaces and records the
    // save number as the booked-through counter: all must agree afterwards.
    Store s = Store::open(path, {}, kNow);
    for (uint64_t i = 1;; ++i) {
      TestBatch b;
      for (int n = 0; n < 10; ++n) {
        std::string name = "if" + std::to_string(n);
        b.add(name, {1, 1, 1, 1});
        b.ids->push_back({name, 1, "boot", {i, i, i, i}});
      }
      b.now = kNow;
      std::string err;
      if (s.save(b, &err) != SaveStatus::kOk) _exit(2);
    }
  }
  usleep(400 * 1000);
  kill(pid, SIGKILL);
  int status = 0;
  waitpid(pid, &status, 0);
  ASSERT_TRUE(WIFSIGNALED(status)) << "child exited " << WEXITSTATUS(status);
  Store s = Store::open(path, {}, kNow);
  EXPECT_TRUE(s.corrupt_moved_to().empty());
  auto ids = s.identities();
  ASSERT_EQ(ids.size(), 10u);
  uint64_t saves = ids[0].counts.rx_bytes;
  EXPECT_GT(saves, 0u);
  for (const auto& id : ids) {
    EXPECT_EQ(id.counts.rx_bytes, saves) << id.name;
    Counts c{saves, saves, saves, saves};
    EXPECT_EQ(s.total(PeriodKind::kFiveMin, id.name, "2026-11-30T12:00"), c);
    EXPECT_EQ(s.total(PeriodKind::kHour, id.name, "2026-11-30T12"), c);
    EXPECT_EQ(s.total(PeriodKind::kDay, id.name, "2026-11-30"), c);
    EXPECT_EQ(s.total(PeriodKind::kMonth, id.name, "2026-11"), c);
    EXPECT_EQ(s.total(PeriodKind::kYear, id.name, "2026"), c);
  }
  std::cout << "[          ] " << saves << " saves committed before SIGKILL\n";
}

TEST(Store, ReadOnlyOpenRefusesOtherFiles) {
  TempDir dir;
  std::string path = dir.file("other.db");
  {
    sqlite3* db = nullptr;
    ASSERT_EQ(sqlite3_open(path.c_str(), &db), SQLITE_OK);
    sqlite3_exec(db, "CREATE TABLE t(x)", nullptr, nullptr, nullptr);
    sqlite3_close(db);
  }
  try {
    Store::open_read_only(path);
    FAIL();
  } catch (const LedgerError& e) {
    EXPECT_EQ(std::string(e.what()), "'" + path + "' is not a netmon ledger (schema version 0)");
  }
  try {
    Store::open_read_only(dir.file("missing.db"));
    FAIL();
  } catch (const LedgerError& e) {
    EXPECT_EQ(std::string(e.what()), "cannot open ledger database '" + dir.file("missing.db") +
                                         "': unable to open database file");
  }
}

}  // namespace
}  // namespace netmon::ledger
