// What --ledger adds to one tick, part by part, in one process (issue 14):
// the agent's own tick path (SnapshotBuilder, NDJSON, write(2) into tmpfs)
// without the ledger, and the same with the LedgerReporter in front, for
// the same readings, one after the other in every tick. Not a test.
//
//   netmon_bench_ledger_tick [IFACES] [TICKS] [MOVING]   (1000 600 1)
//
// Prints the median over ticks of each part, in µs per tick, without and
// with the ledger, and what the ledger adds: booking (booker and books),
// usage for the snapshot, rendering the usage objects and the kernel's
// write of the longer line. The last two are the contract's bytes (about 80 per
// interface), which no booking, however cheap, avoids: the floor.
// The kernel's link dump, which the whole agent does too, is not here
// (bench/ledger-cpu.sh measures the whole agent).
#include <fcntl.h>
#include <spdlog/spdlog.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <string>
#include <vector>

#include "output/ledger_reporter.h"
#include "output/snapshot_reporter.h"

namespace netmon {
namespace {

double cpu_us() {
  timespec ts{};
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
  return static_cast<double>(ts.tv_sec) * 1e6 + static_cast<double>(ts.tv_nsec) / 1e3;
}

int64_t g_wall = 1796040000;  // 2026-11-30
int64_t g_boot_ns = 1'000'000'000;

// When each stage of one pipeline's tick ended, from inside the reporters.
struct Stages {
  double start = 0, enrich_start = 0, enrich_end = 0, rendered = 0, end = 0;
};

// Records `start` and `end` around the reporter it wraps.
class TimedReporter : public Reporter {
 public:
  TimedReporter(std::unique_ptr<Reporter> inner, Stages& stages)
      : inner_(std::move(inner)), stages_(stages) {}
  bool report(const std::vector<Link>& links, const std::vector<CounterMap>& readings,
              int64_t monotonic_ns, int64_t wall_ms) override {
    stages_.start = cpu_us();
    bool ok = inner_->report(links, readings, monotonic_ns, wall_ms);
    stages_.end = cpu_us();
    return ok;
  }

 private:
  std::unique_ptr<Reporter> inner_;
  Stages& stages_;
};

// The NDJSON line is made: what follows is the write.
class RenderedMark : public SnapshotObserver {
 public:
  explicit RenderedMark(Stages& stages) : stages_(stages) {}
  void on_snapshot(std::shared_ptr<const Snapshot>, std::shared_ptr<const std::string>) override {
    stages_.rendered = cpu_us();
  }

 private:
  Stages& stages_;
};

double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v.empty() ? 0 : v[v.size() / 2];
}

int run(int n, int ticks, bool moving) {
  std::vector<Link> links;
  std::vector<CounterMap> readings(1);
  for (int i = 0; i < n; ++i) {
    links.push_back({i + 2, "veth" + std::to_string(i)});
    readings[0][i + 2] = {1'000'000, 1000, 2'000'000, 2000};
  }
  const std::string dir = "/dev/shm";
  const std::string plain_out = dir + "/netmon-ledger-tick-plain." + std::to_string(getpid());
  const std::string ledger_out = dir + "/netmon-ledger-tick-ledger." + std::to_string(getpid());
  const std::string db = dir + "/netmon-ledger-tick." + std::to_string(getpid()) + ".db";
  const int plain_fd = open(plain_out.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  const int ledger_fd = open(ledger_out.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  if (plain_fd < 0 || ledger_fd < 0) {
    perror("open in /dev/shm");
    return 1;
  }

  Stages plain_stages, ledger_stages;
  auto plain_snapshots = std::make_unique<SnapshotReporter>("netdev", plain_fd);
  RenderedMark plain_mark(plain_stages);
  plain_snapshots->add_observer(&plain_mark);
  plain_snapshots->set_enricher(
      [&](Snapshot&) { plain_stages.enrich_start = plain_stages.enrich_end = cpu_us(); });
  TimedReporter plain(std::move(plain_snapshots), plain_stages);

  auto ledger_snapshots = std::make_unique<SnapshotReporter>("netdev", ledger_fd);
  SnapshotReporter* ledger_inner = ledger_snapshots.get();
  RenderedMark ledger_mark(ledger_stages);
  ledger_inner->add_observer(&ledger_mark);
  LedgerReporterConfig config;
  config.ledger.path = db;
  config.ledger.booking.min_plausible_time = g_wall - 86400;
  config.boot_id = "bench";
  config.wall_now = [] { return g_wall; };
  config.boot_now_ns = [] { return g_boot_ns; };
  double ledger_start = 0, ledger_end = 0;
  {
    LedgerReporter ledger(
        config, std::make_unique<TimedReporter>(std::move(ledger_snapshots), ledger_stages));
    ledger_inner->set_enricher([&](Snapshot& snapshot) {
      ledger_stages.enrich_start = cpu_us();
      ledger.enrich(snapshot);
      ledger_stages.enrich_end = cpu_us();
    });

    enum Part { kBook, kBuild, kUsage, kRender, kWrite, kTotal, kParts };
    std::vector<double> without[kParts], with[kParts];
    for (int t = 0; t < ticks + 2; ++t) {
      if (moving || t < 2)
        for (auto& [ifindex, c] : readings[0]) {
          c.rx_bytes += 1500;
          c.rx_packets += 1;
          c.tx_bytes += 700;
          c.tx_packets += 1;
        }
      ++g_wall;
      g_boot_ns += 1'000'000'000;
      const int64_t mono = g_boot_ns;
      plain.report(links, readings, mono, g_wall * 1000);
      ledger_start = cpu_us();
      ledger.report(links, readings, mono, g_wall * 1000);
      ledger_end = cpu_us();
      if (t < 2) continue;  // baselines and the first booking (today's totals read once)
      auto add = [](std::vector<double>* parts, const Stages& s, double book) {
        parts[kBook].push_back(book);
        parts[kBuild].push_back(s.enrich_start - s.start);
        parts[kUsage].push_back(s.enrich_end - s.enrich_start);
        parts[kRender].push_back(s.rendered - s.enrich_end);
        parts[kWrite].push_back(s.end - s.rendered);
        parts[kTotal].push_back(book + s.end - s.start);
      };
      add(without, plain_stages, 0);
      add(with, ledger_stages,
          (ledger_end - ledger_start) - (ledger_stages.end - ledger_stages.start));
      if (t % 64 == 0)  // the files stay small; tmpfs pages are freed and taken again
        for (int fd : {plain_fd, ledger_fd})
          if (ftruncate(fd, 0) != 0 || lseek(fd, 0, SEEK_SET) != 0) perror("ftruncate");
    }
    static const char* const names[kParts] = {"booking (booker, books)", "snapshot build",
                                              "usage for the snapshot",  "NDJSON rendering",
                                              "write(2) into tmpfs",     "tick (these parts)"};
    printf("# %d interfaces, %s, %d ticks: median us per tick\n", n,
           moving ? "every interface moving" : "idle", ticks);
    printf("%-26s %10s %10s %10s\n", "part", "without", "with", "added");
    double added_total = 0, floor = 0;
    for (int p = 0; p < kParts; ++p) {
      const double a = median(without[p]), b = median(with[p]);
      printf("%-26s %10.1f %10.1f %10.1f\n", names[p], a, b, b - a);
      if (p == kTotal) added_total = b - a;
      if (p == kRender || p == kWrite) floor += b - a;
    }
    printf("the contract's usage bytes (rendering + write): %.1f us of the %.1f the ledger adds\n",
           floor, added_total);
  }
  close(plain_fd);
  close(ledger_fd);
  for (const std::string& f : {plain_out, ledger_out, db, db + "-wal", db + "-shm"})
    unlink(f.c_str());
  return 0;
}

}  // namespace
}  // namespace netmon

int main(int argc, char** argv) {
  const int n = argc > 1 ? std::atoi(argv[1]) : 1000;
  const int ticks = argc > 2 ? std::atoi(argv[2]) : 600;
  const bool moving = argc > 3 ? std::atoi(argv[3]) != 0 : true;
  if (n < 1 || ticks < 1) {
    fprintf(stderr, "usage: netmon_bench_ledger_tick [IFACES] [TICKS] [MOVING]\n");
    return 2;
  }
  spdlog::set_level(spdlog::level::warn);  // stdout is the figures
  return netmon::run(n, ticks, moving);
}
