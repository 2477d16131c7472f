// The usage ledger wired into the agent: its options, and LedgerReporter
// over fake ticks, fake clocks and a temporary database.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <chrono>
#include <fstream>
#include <memory>
#include <nlohmann/json.hpp>
#include <sstream>
#include <thread>

#include "app/agent.h"
#include "app/options.h"
#include "ledger/ledger_test_util.h"
#include "output/ledger_reporter.h"
#include "output/ndjson.h"
#include "output/prometheus.h"

using netmon::CounterMap;
using netmon::Counters;
using netmon::InterfaceUsage;
using netmon::LedgerReporter;
using netmon::LedgerReporterConfig;
using netmon::Link;
using netmon::Options;
using netmon::parse_cli;
using netmon::Reporter;
using netmon::Snapshot;
using netmon::UsageBytes;
using netmon::UsageError;
using netmon::ledger::test::ScopedTz;
using netmon::ledger::test::TempDir;
namespace ledger = netmon::ledger;

namespace {

// --- options -----------------------------------------------------------

TEST(LedgerOptions, ParsesEveryLedgerOption) {
  Options o =
      parse_cli({"--ledger", "/tmp/n.db", "--month-start", "15", "--quota", "wwan0=20GiB/month",
                 "--quota", "eth0=5GB/day:tx", "--quota-alerts", "50,100", "--on-quota",
                 "logger quota", "--save-interval", "30s", "wwan0"});
  EXPECT_EQ(o.ledger, "/tmp/n.db");
  EXPECT_EQ(o.month_start, 15);
  ASSERT_EQ(o.quotas.size(), 2u);
  EXPECT_EQ(o.quotas[0].name, "wwan0");
  EXPECT_EQ(o.quotas[0].limit, 20ull << 30);
  EXPECT_EQ(o.quotas[0].period, ledger::PeriodKind::kMonth);
  EXPECT_EQ(o.quotas[0].direction, ledger::Direction::kTotal);
  EXPECT_EQ(o.quotas[1].limit, 5000000000ull);
  EXPECT_EQ(o.quotas[1].period, ledger::PeriodKind::kDay);
  EXPECT_EQ(o.quotas[1].direction, ledger::Direction::kTx);
  EXPECT_EQ(o.quota_alerts, (std::vector<int>{50, 100}));
  EXPECT_EQ(o.on_quota, "logger quota");
  EXPECT_EQ(o.save_interval.count(), 30000);
  EXPECT_EQ(o.interfaces, std::vector<std::string>{"wwan0"});
  EXPECT_FALSE(o.report);
}

TEST(LedgerOptions, Defaults) {
  Options o = parse_cli({"--ledger=x.db"});
  EXPECT_EQ(o.month_start, 1);
  EXPECT_EQ(o.save_interval.count(), 300000);
  EXPECT_EQ(o.quota_alerts, (std::vector<int>{80, 90, 100}));
  EXPECT_TRUE(o.quotas.empty());
}

TEST(LedgerOptions, ReportTakesPeriodJsonAndInterfaces) {
  Options o = parse_cli({"--ledger", "x.db", "--report", "days", "--json", "wwan0", "eth0"});
  EXPECT_EQ(o.report, "days");
  EXPECT_TRUE(o.json);
  EXPECT_EQ(o.interfaces, (std::vector<std::string>{"wwan0", "eth0"}));
  for (const char* p : {"fivemin", "hours", "days", "months", "years", "top"})
    EXPECT_EQ(parse_cli({"--ledger", "x.db", "--report", p}).report, p);
}

void expect_usage_error(const std::vector<std::string>& args, const std::string& words) {
  try {
    parse_cli(args);
    ADD_FAILURE() << "accepted: " << ::testing::PrintToString(args);
  } catch (const UsageError& e) {
    EXPECT_EQ(e.exit_code(), 2);
    std::string what = e.what();
    EXPECT_NE(what.find(words), std::string::npos) << what;
    EXPECT_EQ(what.find('\n'), std::string::npos) << what;
  }
}

TEST(LedgerOptions, BadValuesAreOneLineUsageErrors) {
  expect_usage_error({"--ledger", "x", "--month-start", "29"}, "--month-start '29'");
  expect_usage_error({"--ledger", "x", "--month-start", "0"}, "1 to 28");
  expect_usage_error({"--ledger", "x", "--month-start", "3x"}, "--month-start");
  expect_usage_error({"--ledger", "x", "--quota", "wwan0"}, "--quota 'wwan0'");
  expect_usage_error({"--ledger", "x", "--quota", "wwan0=20GiB/week"}, "--quota");
  expect_usage_error({"--ledger", "x", "--quota", "wwan0=lots/month"}, "--quota");
  expect_usage_error({"--ledger", "x", "--quota", "wwan0=1GB/day:up"}, "--quota");
  expect_usage_error({"--ledger", "x", "--quota", "a=1GB/day", "--quota", "a=2GB/month"},
                     "given twice");
  expect_usage_error({"--ledger", "x", "--quota-alerts", "80,abc"}, "--quota-alerts");
  expect_usage_error({"--ledger", "x", "--quota-alerts", "0"}, "--quota-alerts");
  expect_usage_error({"--ledger", "x", "--save-interval", "500ms"}, "at least 1s");
  expect_usage_error({"--ledger", "x", "--save-interval", "soon"}, "--save-interval");
  expect_usage_error({"--ledger", "x", "--report", "weeks"}, "--report 'weeks'");
  expect_usage_error({"--ledger", "x", "--report"}, "needs a value");
  expect_usage_error({"--ledger", ""}, "--ledger");
  expect_usage_error({"--report", "days"}, "--report needs --ledger");
  expect_usage_error({"--quota", "a=1GB/day"}, "--quota needs --ledger");
  expect_usage_error({"--month-start", "3"}, "--month-start needs --ledger");
  expect_usage_error({"--on-quota", "true"}, "--on-quota needs --ledger");
  expect_usage_error({"--ledger", "x", "--json"}, "--json applies only to --report");
}

TEST(LedgerOptions, HelpNamesEveryOption) {
  std::string help = netmon::usage_text();
  for (const char* opt :
       {"--ledger PATH", "--month-start DAY", "--quota IFACE=SIZE/PERIOD", "--quota-alerts",
        "--on-quota CMD", "--save-interval", "--report PERIOD", "--json"})
    EXPECT_NE(help.find(opt), std::string::npos) << opt;
}

// --- the reporter ------------------------------------------------------

ledger::Quota quota_of(const char* spec) {
  std::string error;
  auto q = ledger::parse_quota(spec, &error);
  if (!q) throw std::runtime_error(error);
  return *q;
}

int64_t g_wall = 0;
int64_t g_boot_ns = 0;
int64_t fake_wall() { return g_wall; }
int64_t fake_boot() { return g_boot_ns; }

class RecordingReporter : public Reporter {
 public:
  bool report(const std::vector<Link>& links, const std::vector<CounterMap>& readings, int64_t,
              int64_t) override {
    ++reports;
    last_links = links;
    last_reading = readings.at(0);
    return ok;
  }
  void finish() override { ++finishes; }
  int reports = 0;
  int finishes = 0;
  bool ok = true;
  std::vector<Link> last_links;
  CounterMap last_reading;
};

class LedgerReporterTest : public ::testing::Test {
 protected:
  void SetUp() override {
    g_wall = ScopedTzTime();
    g_boot_ns = 1000'000'000'000;
    ASSERT_EQ(pipe2(pipe_, O_CLOEXEC | O_NONBLOCK), 0);
  }
  void TearDown() override {
    close(pipe_[0]);
    close(pipe_[1]);
  }
  static int64_t ScopedTzTime() { return ledger::test::local("2026-11-30 12:00:00"); }

  std::unique_ptr<LedgerReporter> make(std::vector<ledger::Quota> quotas = {},
                                       std::optional<std::string> hook = {}) {
    LedgerReporterConfig c;
    c.ledger.path = dir_.file("netmon.db");
    c.ledger.save_interval_s = 300;
    // The fake clock's day, not the build day: the build can be later.
    c.ledger.booking.min_plausible_time = ledger::test::local("2026-11-01 00:00:00");
    c.ledger.quotas = std::move(quotas);
    c.boot_id = "boot-1";
    c.out_fd = pipe_[1];
    c.on_quota = std::move(hook);
    c.wall_now = fake_wall;
    c.boot_now_ns = fake_boot;
    auto inner = std::make_unique<RecordingReporter>();
    inner_ = inner.get();
    return std::make_unique<LedgerReporter>(std::move(c), std::move(inner));
  }

  // One tick of eth0 (ifindex 7) at `rx`/`tx` bytes, one packet per 100 bytes.
  bool tick(LedgerReporter& r, uint64_t rx, uint64_t tx, int64_t seconds = 1) {
    g_wall += seconds;
    g_boot_ns += seconds * 1'000'000'000;
    CounterMap m;
    m[7] = Counters{rx, rx / 100, tx, tx / 100};
    return r.report({{7, "eth0"}}, {m}, g_boot_ns, g_wall * 1000);
  }

  ledger::Counts stored_day() {
    ledger::Store s = ledger::Store::open_read_only(dir_.file("netmon.db"));
    return s.total(ledger::PeriodKind::kDay, "eth0", "2026-11-30");
  }

  std::string drain() {
    std::string out;
    char buf[4096];
    for (ssize_t n; (n = read(pipe_[0], buf, sizeof(buf))) > 0;) out.append(buf, n);
    return out;
  }

  ScopedTz tz_{"UTC"};
  TempDir dir_;
  int pipe_[2] = {-1, -1};
  RecordingReporter* inner_ = nullptr;
};

TEST_F(LedgerReporterTest, BooksEveryTickAndPassesTheReadingOn) {
  auto r = make();
  EXPECT_TRUE(tick(*r, 1'000'000, 500'000));  // baseline: nothing known before it
  EXPECT_TRUE(tick(*r, 1'001'000, 500'200));
  EXPECT_TRUE(tick(*r, 1'003'000, 500'300));
  EXPECT_EQ(inner_->reports, 3);
  EXPECT_EQ(inner_->last_reading.at(7).rx_bytes, 1'003'000u);
  ledger::Counts day = r->book().usage("eth0", ledger::PeriodKind::kDay, g_wall);
  EXPECT_EQ(day.rx_bytes, 3000u);
  EXPECT_EQ(day.tx_bytes, 300u);
  EXPECT_EQ(day.rx_packets, 30u);
  EXPECT_EQ(day.tx_packets, 3u);
}

TEST_F(LedgerReporterTest, SavesOncePerIntervalAndAtFinish) {
  auto r = make();
  tick(*r, 1000, 0);
  tick(*r, 2000, 0);
  const uint64_t saves_before = r->book().stats().saves;
  for (int i = 0; i < 10; ++i) tick(*r, 3000 + i * 100, 0, 20);  // 200 s: no save yet
  EXPECT_EQ(r->book().stats().saves, saves_before);
  EXPECT_EQ(stored_day().rx_bytes, 0u);
  tick(*r, 5000, 0, 120);  // past 300 s since the first tick
  EXPECT_EQ(r->book().stats().saves, saves_before + 1);
  EXPECT_EQ(stored_day().rx_bytes, 4000u);
  tick(*r, 5500, 0);
  EXPECT_EQ(stored_day().rx_bytes, 4000u);
  r->finish();
  EXPECT_EQ(inner_->finishes, 1);
  EXPECT_EQ(stored_day().rx_bytes, 4500u);
}

TEST_F(LedgerReporterTest, RestartCreditsDowntimeOnceAcrossKill) {
  {
    auto r = make();
    tick(*r, 10'000, 100);
    tick(*r, 12'000, 100);
    r->finish();
  }
  EXPECT_EQ(stored_day().rx_bytes, 2000u);
  // Down for a minute while the kernel counted 5,000 more; same boot.
  g_wall += 60;
  g_boot_ns += 60'000'000'000;
  {
    auto r = make();
    tick(*r, 17'000, 100);
    EXPECT_EQ(r->book().usage("eth0", ledger::PeriodKind::kDay, g_wall).rx_bytes, 7000u);
    tick(*r, 17'500, 100);
    // Destroyed without finish(), as an exception unwinding the agent would.
  }
  EXPECT_EQ(stored_day().rx_bytes, 7500u);
}

TEST_F(LedgerReporterTest, EnrichAddsUsageAndQuotaToSnapshots) {
  auto r = make({quota_of("eth0=10000/day:rx")});
  tick(*r, 0, 0);
  tick(*r, 2500, 1000);
  Snapshot s;
  s.source = "netdev";
  s.interfaces.push_back({{7, "eth0"}, {2500, 25, 1000, 10}, {}, {}});
  s.interfaces.push_back({{8, "other"}, {}, {}, {}});
  r->enrich(s);
  ASSERT_TRUE(s.interfaces[0].usage);
  EXPECT_EQ(s.usage_day, "2026-11-30");
  EXPECT_EQ(s.usage_month, "2026-11");
  EXPECT_EQ(s.interfaces[0].usage->today.rx_bytes, 2500u);
  EXPECT_EQ(s.interfaces[0].usage->this_month.tx_bytes, 1000u);
  ASSERT_TRUE(s.interfaces[0].usage->quota);
  EXPECT_EQ(s.interfaces[0].usage->quota->used, 2500u);
  EXPECT_EQ(s.interfaces[0].usage->quota->limit, 10000u);
  EXPECT_DOUBLE_EQ(s.interfaces[0].usage->quota->percent, 25.0);
  EXPECT_EQ(s.interfaces[0].usage->quota->direction, "rx");
  ASSERT_TRUE(s.interfaces[1].usage);
  EXPECT_FALSE(s.interfaces[1].usage->quota);
  EXPECT_EQ(s.interfaces[1].usage->today.rx_bytes, 0u);

  auto line = nlohmann::json::parse(netmon::to_ndjson(s));
  const auto& u = line["interfaces"]["eth0"]["usage"];
  EXPECT_EQ(line["usage_periods"]["day"], "2026-11-30");
  EXPECT_EQ(line["usage_periods"]["month"], "2026-11");
  EXPECT_FALSE(u["day"].contains("period"));
  EXPECT_EQ(u["day"]["rx_bytes"], 2500);
  EXPECT_FALSE(u["day"].contains("rx_packets"));  // bytes only: packets are in the report
  EXPECT_EQ(u["month"]["tx_bytes"], 1000);
  EXPECT_EQ(u["quota"]["used_bytes"], 2500);
  EXPECT_EQ(u["quota"]["limit_bytes"], 10000);
  EXPECT_EQ(u["quota"]["percent"], 25);
  EXPECT_EQ(u["quota"]["kind"], "day");
  EXPECT_GT(u["quota"]["projected_bytes"].get<uint64_t>(), 2500u);
  EXPECT_FALSE(line["interfaces"]["other"]["usage"].contains("quota"));

  // The usage objects are rendered with literal keys (ndjson.cpp): byte for
  // byte what nlohmann's ordered dump of the same line gives, key order and
  // number spelling included.
  const std::string ndjson = netmon::to_ndjson(s);
  EXPECT_EQ(ndjson, nlohmann::ordered_json::parse(ndjson).dump() + "\n");
  EXPECT_NE(ndjson.find("\"interval_ms\":0,\"usage_periods\":{\"day\":\"2026-11-30\","
                        "\"month\":\"2026-11\"},\"interfaces\":"),
            std::string::npos)
      << ndjson;
  EXPECT_NE(ndjson.find("\"usage\":{\"day\":{\"rx_bytes\":2500,\"tx_bytes\":1000},"
                        "\"month\":{\"rx_bytes\":2500,\"tx_bytes\":1000},\"quota\":{\"period\":"
                        "\"2026-11-30\",\"kind\":\"day\",\"direction\":\"rx\","
                        "\"used_bytes\":2500,\"limit_bytes\":10000,\"percent\":25,"),
            std::string::npos)
      << ndjson;
  EXPECT_NE(ndjson.find("\"other\":{\"ifindex\":8,"), std::string::npos) << ndjson;
  EXPECT_NE(ndjson.find("\"tx_bytes\":0}}}}}"), std::string::npos) << ndjson;

  netmon::MetricsState state;
  state.latest["netdev"] = std::make_shared<const netmon::Snapshot>(s);
  std::string text = netmon::format_metrics(state);
  EXPECT_NE(text.find("netmon_usage_bytes{interface=\"eth0\",direction=\"rx\",period=\"day\"} "
                      "2500\n"),
            std::string::npos)
      << text;
  EXPECT_NE(text.find("netmon_usage_bytes{interface=\"eth0\",direction=\"tx\",period=\"month\"} "
                      "1000\n"),
            std::string::npos);
  EXPECT_NE(text.find("netmon_quota_limit_bytes{interface=\"eth0\",direction=\"rx\",period="
                      "\"day\"} 10000\n"),
            std::string::npos);
  EXPECT_NE(text.find("netmon_quota_used_ratio{interface=\"eth0\",direction=\"rx\",period="
                      "\"day\"} 0.25\n"),
            std::string::npos);
  EXPECT_EQ(text.find("netmon_quota_limit_bytes{interface=\"other\""), std::string::npos);
}

// Every line shows each interface's usage as the ledger has it at that
// moment, through traffic, a quota projection that moves with the clock
// alone, and a day and month rollover.
TEST_F(LedgerReporterTest, UsageInEveryLineIsTheLedgersAcrossRolloverAndQuota) {
  auto r = make({quota_of("eth0=100000/day:rx")});
  uint64_t rx = 0, busy_tx = 0;
  auto step = [&](uint64_t more, int64_t seconds) {
    g_wall += seconds;
    g_boot_ns += seconds * 1'000'000'000;
    rx += more;
    busy_tx += more ? 0 : 321;  // moves when eth0 does not, no quota
    CounterMap m;
    m[7] = Counters{rx, rx / 100, 0, 0};
    m[8] = Counters{5000, 50, 7000, 70};  // never moves
    m[9] = Counters{0, 0, busy_tx, busy_tx / 100};
    std::vector<Link> links{{7, "eth0"}, {8, "idle"}, {9, "busy"}};
    r->report(links, {m}, g_boot_ns, g_wall * 1000);
    Snapshot s;
    s.source = "netdev";
    s.ts_ms = g_wall * 1000;
    for (const Link& l : links) s.interfaces.push_back({l, m[l.ifindex], {}, {}});
    r->enrich(s);
    return s;
  };
  auto bytes = [](const ledger::Counts& c) { return UsageBytes{c.rx_bytes, c.tx_bytes}; };
  std::vector<std::string> lines;
  // 12:00 to 23:59:5x on 2026-11-30, then past midnight: a new day and a
  // new month (UTC).
  const int64_t steps[] = {1, 1, 1, 3600, 1, 1, 43200 - 3600 - 6, 1, 1, 1, 1, 1};
  for (size_t k = 0; k < std::size(steps); ++k) {
    Snapshot s = step(k % 3 == 1 ? 1000 : 0, steps[k]);
    for (const auto& i : s.interfaces) {
      ASSERT_TRUE(i.usage) << i.link.name;
      ledger::Counts day, month;
      r->book().usage(i.link.name, g_wall, &day, &month);
      EXPECT_EQ(i.usage->today, bytes(day)) << i.link.name << " at step " << k;
      EXPECT_EQ(i.usage->this_month, bytes(month)) << i.link.name << " at step " << k;
      EXPECT_EQ(i.usage->quota != nullptr, i.link.name == "eth0") << i.link.name;
    }
    lines.push_back(netmon::to_ndjson(s));
  }
  auto usage_of = [](const std::string& line, const char* name) {
    return nlohmann::json::parse(line)["interfaces"][name]["usage"];
  };
  // The clock alone moves eth0's projection: consecutive idle ticks differ.
  EXPECT_NE(usage_of(lines[2], "eth0")["quota"]["projected_bytes"],
            usage_of(lines[3], "eth0")["quota"]["projected_bytes"]);
  auto periods_of = [](const std::string& line) {
    return nlohmann::json::parse(line)["usage_periods"];
  };
  EXPECT_EQ(periods_of(lines[6])["day"], "2026-11-30");
  EXPECT_EQ(periods_of(lines[7])["day"], "2026-12-01");
  EXPECT_EQ(periods_of(lines[6])["month"], "2026-11");
  EXPECT_EQ(periods_of(lines[7])["month"], "2026-12");
  EXPECT_EQ(usage_of(lines[7], "eth0")["day"]["rx_bytes"], 1000);  // step 7's traffic only
  EXPECT_EQ(usage_of(lines[6], "eth0")["day"]["rx_bytes"], 2000);
  EXPECT_EQ(usage_of(lines[6], "busy")["day"]["tx_bytes"], 321 * 4);
  EXPECT_EQ(usage_of(lines[6], "busy")["month"]["tx_bytes"], 321 * 4);  // all on 2026-11-30
  // A snapshot of other interfaces than the readings (positions that are
  // not theirs) still shows each one's own figures.
  Snapshot s;
  s.source = "netdev";
  s.interfaces.push_back({{9, "busy"}, {}, {}, {}});
  s.interfaces.push_back({{8, "idle"}, {}, {}, {}});
  r->enrich(s);
  EXPECT_EQ(usage_of(netmon::to_ndjson(s), "idle")["day"]["rx_bytes"], 0);
  EXPECT_EQ(usage_of(netmon::to_ndjson(s), "busy")["day"]["tx_bytes"], 321 * 3);
}

TEST(LedgerNdjson, UsageWithAnyPeriodTextIsValidJson) {
  // The labels go through the writer: anything is escaped.
  Snapshot s;
  s.source = "netdev";
  s.interfaces.push_back({{7, "eth0"}, {1, 2, 3, 4}, {}, {}});
  s.usage_day = "a\"b\\c\n";
  s.usage_month = std::string(100, 'm');
  // Every figure at its widest: the usage text's fixed-size buffer holds it.
  InterfaceUsage& usage = s.interfaces[0].usage.emplace();
  usage.today = usage.this_month = {UINT64_MAX, UINT64_MAX};
  const std::string line = netmon::to_ndjson(s);
  auto j = nlohmann::ordered_json::parse(line);
  EXPECT_EQ(line, j.dump() + "\n");
  EXPECT_EQ(j["usage_periods"]["day"], s.usage_day);
  EXPECT_EQ(j["usage_periods"]["month"], s.usage_month);
  EXPECT_EQ(j["interfaces"]["eth0"]["usage"]["day"]["rx_bytes"].get<uint64_t>(), UINT64_MAX);
  EXPECT_EQ(j["interfaces"]["eth0"]["usage"]["month"]["tx_bytes"].get<uint64_t>(), UINT64_MAX);
}

TEST_F(LedgerReporterTest, WithoutUsageNdjsonAndMetricsHaveNoLedgerKeys) {
  Snapshot s;
  s.source = "netdev";
  s.interfaces.push_back({{7, "eth0"}, {1, 2, 3, 4}, {}, {}});
  EXPECT_EQ(netmon::to_ndjson(s).find("usage"), std::string::npos);
  netmon::MetricsState state;
  state.latest["netdev"] = std::make_shared<const netmon::Snapshot>(s);
  EXPECT_EQ(netmon::format_metrics(state).find("netmon_usage"), std::string::npos);
  EXPECT_EQ(netmon::format_metrics(state).find("netmon_quota"), std::string::npos);
}

TEST_F(LedgerReporterTest, QuotaEventsOncePerThresholdNeverRepeatedAfterRestart) {
  std::string env_file = dir_.file("hook.env");
  // The name reaches the hook only as a value: a name with shell syntax in
  // it must not run anything.
  std::string hook = "env | grep ^NETMON_ | sort >> '" + env_file + "'";
  {
    auto r = make({quota_of("eth0=1000/day")}, hook);
    tick(*r, 0, 0);
    tick(*r, 500, 300);  // 80 % reached
    tick(*r, 600, 300);  // 90 %
    tick(*r, 700, 400);  // 110 %: 100 %
    r->finish();
  }
  std::string events = drain();
  std::istringstream lines(events);
  std::vector<nlohmann::json> parsed;
  for (std::string l; std::getline(lines, l);) parsed.push_back(nlohmann::json::parse(l));
  ASSERT_EQ(parsed.size(), 3u) << events;
  EXPECT_EQ(parsed[0]["event"], "quota");
  EXPECT_EQ(parsed[0]["interface"], "eth0");
  EXPECT_EQ(parsed[0]["threshold"], 80);
  EXPECT_EQ(parsed[0]["used_bytes"], 800);
  EXPECT_EQ(parsed[0]["limit_bytes"], 1000);
  EXPECT_EQ(parsed[0]["period"], "2026-11-30");
  EXPECT_EQ(parsed[1]["threshold"], 90);
  EXPECT_EQ(parsed[2]["threshold"], 100);
  EXPECT_EQ(parsed[2]["used_bytes"], 1100);

  // A restart the same day with more traffic: no event repeats.
  {
    auto r = make({quota_of("eth0=1000/day")}, hook);
    tick(*r, 800, 400);
    tick(*r, 900, 400);
    r->finish();
  }
  EXPECT_EQ(drain(), "");

  // The hooks ran (asynchronously) with the figures in their environment.
  std::string env;
  for (int i = 0; i < 100; ++i) {
    std::ifstream in(env_file);
    env.assign(std::istreambuf_iterator<char>(in), {});
    if (std::count(env.begin(), env.end(), '\n') >= 3 * 9) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  EXPECT_NE(env.find("NETMON_INTERFACE=eth0\n"), std::string::npos) << env;
  EXPECT_NE(env.find("NETMON_THRESHOLD=80\n"), std::string::npos) << env;
  EXPECT_NE(env.find("NETMON_THRESHOLD=100\n"), std::string::npos) << env;
  EXPECT_NE(env.find("NETMON_USED_BYTES=1100\n"), std::string::npos) << env;
  EXPECT_NE(env.find("NETMON_LIMIT_BYTES=1000\n"), std::string::npos) << env;
  EXPECT_NE(env.find("NETMON_PERIOD=2026-11-30\n"), std::string::npos) << env;
  EXPECT_NE(env.find("NETMON_DIRECTION=total\n"), std::string::npos) << env;
}

TEST_F(LedgerReporterTest, HookGetsHostileNamesOnlyAsValues) {
  std::string out = dir_.file("name");
  // No '/' (a quota spec's separator); anything else a shell would act on.
  std::string evil = "x;$(id)`id`'\"";  // at most 15 bytes
  std::string error;
  auto quota = ledger::parse_quota(evil + "=10/day", &error);
  ASSERT_TRUE(quota) << error;
  auto r = make({*quota}, "printf %s \"$NETMON_INTERFACE\" > '" + out + "'");
  g_wall += 1;
  g_boot_ns += 1'000'000'000;
  r->report({{9, evil}}, {CounterMap{{9, Counters{0, 0, 0, 0}}}}, g_boot_ns, g_wall * 1000);
  g_wall += 1;
  g_boot_ns += 1'000'000'000;
  r->report({{9, evil}}, {CounterMap{{9, Counters{100, 1, 0, 0}}}}, g_boot_ns, g_wall * 1000);
  std::string got;
  for (int i = 0; i < 100 && got.empty(); ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
    std::ifstream in(out);
    got.assign(std::istreambuf_iterator<char>(in), {});
  }
  EXPECT_EQ(got, evil);
}

TEST_F(LedgerReporterTest, ReportPrintsWhatWasBookedAndFailsOnAMissingFile) {
  {
    auto r = make();
    tick(*r, 0, 0);
    tick(*r, 4096, 1024);
    r->finish();
  }
  Options o = parse_cli({"--ledger", dir_.file("netmon.db"), "--report", "days", "--json"});
  std::ostringstream out;
  ASSERT_EQ(netmon::run_report(o, out), 0);
  auto j = nlohmann::json::parse(out.str());
  const auto& days = j["interfaces"]["eth0"]["days"];
  ASSERT_EQ(days.size(), 1u);
  EXPECT_EQ(days[0]["period"], "2026-11-30");
  EXPECT_EQ(days[0]["rx_bytes"], 4096);
  EXPECT_EQ(days[0]["tx_bytes"], 1024);

  o.ledger = dir_.file("missing.db");
  std::ostringstream none;
  EXPECT_EQ(netmon::run_report(o, none), 1);
  EXPECT_EQ(none.str(), "");
  EXPECT_FALSE(std::filesystem::exists(dir_.file("missing.db")));
}

TEST(LedgerBootId, ReadsTheKernelsBootId) {
  std::string id = netmon::read_boot_id();
  EXPECT_EQ(id.size(), 36u) << id;
  EXPECT_EQ(netmon::read_boot_id("/nonexistent/boot_id"), "");
}

}  // namespace
