// Ledger figures for issue 14, not a test:
//   netmon_bench_ledger tick [IFACES] [TICKS] [ACTIVE]
//                                               CPU per booking tick (1 s ticks, no saves
//                                               timed), and the CPU of one save
//   netmon_bench_ledger year [IFACES] [DAYS] [DIR]
//                                               a year of 5-minute ticks saved every
//                                               300 s: file size with retention, and the
//                                               bytes handed to write(2) per day
//                                               (/proc/self/io wchar: SQLite's log and
//                                               checkpoint writes; the flash sees these
//                                               plus its file system's overhead)
//   netmon_bench_ledger report PATH PERIOD [--json] [IFACE...]
//                                               what `--report` will print, until the
//                                               agent has the option
#include <stdlib.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <cstdio>
#include <cstring>
#include <fstream>
#include <iostream>
#include <string>
#include <vector>

#include "ledger/ledger.h"
#include "ledger/report.h"

namespace {

using namespace netmon::ledger;

constexpr int64_t kStart = 1767225600;  // 2026-01-01 00:00:00 UTC
constexpr int64_t kSec = 1'000'000'000;

double cpu_seconds() {
  timespec ts;
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
  return ts.tv_sec + ts.tv_nsec / 1e9;
}

uint64_t proc_io(const char* key) {
  std::ifstream in("/proc/self/io");
  std::string k;
  uint64_t v;
  while (in >> k >> v)
    if (k == std::string(key) + ":") return v;
  return 0;
}

uint64_t file_size(const std::string& p) {
  struct stat st;
  return ::stat(p.c_str(), &st) == 0 ? static_cast<uint64_t>(st.st_size) : 0;
}

// The first `active` interfaces move every tick, the rest stay idle.
std::vector<Reading> readings(int n, uint64_t step, int active = -1) {
  std::vector<Reading> v;
  v.reserve(n);
  for (int i = 0; i < n; ++i) {
    uint64_t k = (active < 0 || i < active) ? step : 1;
    v.push_back({"if" + std::to_string(i),
                 static_cast<uint32_t>(i + 2),
                 {k * 1500 * (i + 1), k * (i + 1), k * 700 * (i + 1), k * (i + 1)}});
  }
  return v;
}

std::string temp_dir() {
  char tmpl[] = "/var/tmp/netmon-ledger-bench-XXXXXX";
  if (!mkdtemp(tmpl)) {
    perror("mkdtemp");
    exit(1);
  }
  return tmpl;
}

int bench_tick(int n, int ticks, int active) {
  std::string dir = temp_dir();
  LedgerOptions o;
  o.path = dir + "/netmon.db";
  o.save_interval_s = 1 << 30;  // saves are timed separately
  o.booking.min_plausible_time = kStart - 86400;
  double booked = 0;
  double save_cpu = 0;
  double warm = 0;
  {
    Ledger l(o, "bench", kStart);
    // Untimed: the baselines, and the first booking, which reads each
    // interface's current day and month from the file once.
    double w0 = cpu_seconds();
    l.tick(kStart, 0, readings(n, 1, active));
    l.tick(kStart + 1, kSec, readings(n, 2, active));
    warm = cpu_seconds() - w0;
    std::vector<std::vector<Reading>> rs;
    for (int t = 2; t < ticks + 2; ++t)
      rs.push_back(readings(n, static_cast<uint64_t>(t) + 1, active));
    double c0 = cpu_seconds();
    for (int t = 2; t < ticks + 2; ++t) l.tick(kStart + t, t * kSec, rs[t - 2]);
    booked = cpu_seconds() - c0;
    double s0 = cpu_seconds();
    l.save();
    save_cpu = cpu_seconds() - s0;
  }
  printf(
      "tick: %d interfaces (%d with traffic), %d ticks: %.1f us CPU per tick (%.0f ns per "
      "interface)\n",
      n, active < 0 ? n : active, ticks, booked / ticks * 1e6, booked / ticks / n * 1e9);
  printf("start: first two ticks (baselines, loading today's and this month's totals): %.2f ms\n",
         warm * 1e3);
  printf("save: %.2f ms CPU; at 1 s ticks and 300 s saves: %.1f us CPU per second\n",
         save_cpu * 1e3, booked / ticks * 1e6 + save_cpu / 300 * 1e6);
  std::string rm = "rm -rf '" + dir + "'";
  return system(rm.c_str()) == 0 ? 0 : 1;
}

int bench_year(int n, int days, std::string dir) {
  bool own = dir.empty();
  if (own) dir = temp_dir();
  LedgerOptions o;
  if (const char* ps = getenv("LEDGER_PAGE_SIZE")) o.store.page_size = atoi(ps);
  o.path = dir + "/netmon.db";
  o.save_interval_s = 300;
  o.booking.min_plausible_time = kStart - 86400;
  uint64_t w0 = proc_io("wchar"), b0 = proc_io("write_bytes");
  double c0 = cpu_seconds();
  uint64_t last_day_w = 0;
  {
    Ledger l(o, "bench", kStart);
    int64_t ticks = int64_t{days} * 288;
    uint64_t day_w0 = 0;
    for (int64_t t = 0; t <= ticks; ++t) {
      int64_t mono = t * 300 * kSec;
      l.tick(kStart + t * 300, mono, readings(n, static_cast<uint64_t>(t) * 1000 + 1));
      l.maybe_save(mono);
      if (t == ticks - 288) day_w0 = proc_io("wchar");
    }
    last_day_w = proc_io("wchar") - day_w0;
  }
  uint64_t w = proc_io("wchar") - w0, b = proc_io("write_bytes") - b0;
  double cpu = cpu_seconds() - c0;
  uint64_t db = file_size(o.path), wal = file_size(o.path + "-wal");
  printf("year: %d interfaces, %d days of 5-minute ticks, saved every 300 s, %d-byte pages\n", n,
         days, o.store.page_size);
  printf("  file: %llu bytes (%.2f MiB), -wal after close: %llu bytes\n",
         static_cast<unsigned long long>(db), db / 1048576.0, static_cast<unsigned long long>(wal));
  printf("  write(2) bytes: %.2f MiB per day on average, %.2f MiB on the last day\n",
         w / 1048576.0 / days, last_day_w / 1048576.0);
  printf("  block-layer write_bytes: %.2f MiB per day (0 on tmpfs)\n", b / 1048576.0 / days);
  printf("  CPU: %.1f s in all, %.2f ms per tick+save\n", cpu, cpu / (days * 288.0) * 1e3);
  if (own) {
    std::string rm = "rm -rf '" + dir + "'";
    if (system(rm.c_str()) != 0) return 1;
  }
  return 0;
}

int report(int argc, char** argv) {
  ReportOptions o;
  std::string path = argv[2];
  o.period = argv[3];
  for (int i = 4; i < argc; ++i) {
    if (std::string(argv[i]) == "--json")
      o.json = true;
    else
      o.interfaces.push_back(argv[i]);
  }
  o.now = time(nullptr);
  try {
    Store s = Store::open_read_only(path);
    std::string err;
    if (!write_report(s, o, std::cout, &err)) {
      fprintf(stderr, "netmon_bench_ledger: %s\n", err.c_str());
      return 1;
    }
  } catch (const LedgerError& e) {
    fprintf(stderr, "netmon_bench_ledger: %s\n", e.what());
    return 1;
  }
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  std::string mode = argc > 1 ? argv[1] : "";
  if (mode == "report" && argc >= 4) return report(argc, argv);
  // The simulations run in UTC so their figures do not depend on the host.
  setenv("TZ", "UTC", 1);
  tzset();
  if (mode == "tick")
    return bench_tick(argc > 2 ? atoi(argv[2]) : 1000, argc > 3 ? atoi(argv[3]) : 300,
                      argc > 4 ? atoi(argv[4]) : -1);
  if (mode == "year")
    return bench_year(argc > 2 ? atoi(argv[2]) : 10, argc > 3 ? atoi(argv[3]) : 365,
                      argc > 4 ? argv[4] : "");
  fprintf(
      stderr,
      "usage: netmon_bench_ledger tick [IFACES] [TICKS] [ACTIVE] | year [IFACES] [DAYS] [DIR] | "
      "report PATH PERIOD [--json] [IFACE...]\n");
  return 2;
}
