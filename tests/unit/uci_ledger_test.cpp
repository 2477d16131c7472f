// The usage ledger's UCI settings (config/netmon.uci): `config quota`
// sections and the ledger options of `config netmon`, in the file syntax and
// in `uci -q show` output, merged under the command line.
#include "config/uci_ledger.h"

#include <gtest/gtest.h>

#include "app/ledger_settings.h"
#include "app/options.h"
#include "config/uci.h"
#include "sys/error.h"
#include "test_util.h"

namespace netmon {
namespace {

constexpr const char* kFile = R"(config netmon 'main'
	option interface 'rmnet_data0'
	option ledger '/etc/netmon/netmon.db'
	option save_interval '15m'
	option month_start '14'
	option quota_alerts '50,100'

config quota
	option interface 'rmnet_data0'
	option limit '20GiB'
	option period 'month'
	option direction 'total'

config quota
	option interface 'eth0'
	option limit '5GB'
	option period 'day'
	option direction 'tx'
	option alerts '90'
)";

UciLedgerConfig from_file(const std::string& text) {
  return extract_ledger_config(parse_uci(text, "/etc/config/netmon"));
}

Options applied(const std::string& text, std::vector<std::string> args = {}) {
  Options o = parse_cli(args);
  apply_uci_ledger_settings(from_file(text), o);
  return o;
}

// The error and its exit status: a UsageError, one line, status 2.
std::string usage_error(const std::string& text, std::vector<std::string> args = {}) {
  try {
    applied(text, std::move(args));
  } catch (const UsageError& e) {
    std::string what = e.what();
    EXPECT_EQ(e.exit_code(), 2) << what;
    EXPECT_EQ(what.find('\n'), std::string::npos) << what;
    return what;
  } catch (const Error& e) {
    ADD_FAILURE() << "not a usage error: " << e.what();
    return e.what();
  }
  ADD_FAILURE() << "accepted:\n" << text;
  return "";
}

TEST(UciLedger, ReadsWhatNetmonUciDocuments) {
  Options o = applied(kFile);
  EXPECT_EQ(o.ledger, "/etc/netmon/netmon.db");
  EXPECT_EQ(o.save_interval.count(), 15 * 60 * 1000);
  EXPECT_EQ(o.month_start, 14);
  EXPECT_EQ(o.quota_alerts, (std::vector<int>{50, 100}));
  ASSERT_EQ(o.quotas.size(), 2u);
  EXPECT_EQ(o.quotas[0].name, "rmnet_data0");
  EXPECT_EQ(o.quotas[0].limit, 20ull << 30);
  EXPECT_EQ(o.quotas[0].period, ledger::PeriodKind::kMonth);
  EXPECT_EQ(o.quotas[0].direction, ledger::Direction::kTotal);
  EXPECT_TRUE(o.quotas[0].thresholds.empty());  // the ledger's (50,100)
  EXPECT_EQ(o.quotas[1].name, "eth0");
  EXPECT_EQ(o.quotas[1].limit, 5000000000ull);
  EXPECT_EQ(o.quotas[1].period, ledger::PeriodKind::kDay);
  EXPECT_EQ(o.quotas[1].direction, ledger::Direction::kTx);
  EXPECT_EQ(o.quotas[1].thresholds, std::vector<int>{90});
}

TEST(UciLedger, PeriodAndDirectionDefaultToMonthAndTotal) {
  Options o = applied(
      "config netmon\n option ledger '/x.db'\nconfig quota\n"
      " option interface wwan0\n option limit 1GiB\n");
  ASSERT_EQ(o.quotas.size(), 1u);
  EXPECT_EQ(o.quotas[0].period, ledger::PeriodKind::kMonth);
  EXPECT_EQ(o.quotas[0].direction, ledger::Direction::kTotal);
}

TEST(UciLedger, UciShowOutputGivesTheSame) {
  const std::string show =
      "netmon.main=netmon\n"
      "netmon.main.ledger='/etc/netmon/netmon.db'\n"
      "netmon.main.month_start='14'\n"
      "netmon.@quota[0]=quota\n"
      "netmon.@quota[0].interface='rmnet_data0'\n"
      "netmon.@quota[0].limit='20GiB'\n"
      "netmon.@quota[0].direction='rx'\n";
  Options o;
  apply_uci_ledger_settings(
      extract_ledger_config(parse_uci_show(show, "netmon", "uci -q show netmon")), o);
  EXPECT_EQ(o.ledger, "/etc/netmon/netmon.db");
  EXPECT_EQ(o.month_start, 14);
  ASSERT_EQ(o.quotas.size(), 1u);
  EXPECT_EQ(o.quotas[0].direction, ledger::Direction::kRx);
}

TEST(UciLedger, CommandLineWinsPerSettingAndPerInterface) {
  Options o = applied(kFile, {"--ledger", "/tmp/cli.db", "--month-start", "3", "--save-interval",
                              "1m", "--quota-alerts", "80", "--quota", "eth0=1GiB/month:rx"});
  EXPECT_EQ(o.ledger, "/tmp/cli.db");
  EXPECT_EQ(o.month_start, 3);
  EXPECT_EQ(o.save_interval.count(), 60000);
  EXPECT_EQ(o.quota_alerts, std::vector<int>{80});
  ASSERT_EQ(o.quotas.size(), 2u);
  // eth0 is the command line's; rmnet_data0, which it does not name, UCI's.
  EXPECT_EQ(o.quotas[0].name, "eth0");
  EXPECT_EQ(o.quotas[0].limit, 1ull << 30);
  EXPECT_EQ(o.quotas[0].direction, ledger::Direction::kRx);
  EXPECT_EQ(o.quotas[1].name, "rmnet_data0");
}

TEST(UciLedger, NoLedgerAnywhereMeansQuotasAreIgnoredWithAWarning) {
  Options o = parse_cli({});
  auto warnings = apply_uci_ledger_settings(
      from_file("config quota\n option interface wwan0\n option limit 1GiB\n"), o);
  EXPECT_FALSE(o.ledger);
  EXPECT_TRUE(o.quotas.empty());
  ASSERT_EQ(warnings.size(), 1u);
  EXPECT_NE(warnings[0].find("wwan0"), std::string::npos) << warnings[0];
}

TEST(UciLedger, MalformedSectionsAreOneLineErrorsWithTheLine) {
  const std::string head = "config netmon\n option ledger '/x.db'\n";  // lines 1-2
  EXPECT_EQ(usage_error(head + "config quota\n option limit 1GiB\n"),
            "/etc/config/netmon:3: config quota needs option interface");
  EXPECT_EQ(usage_error(head + "config quota\n option interface wwan0\n"),
            "/etc/config/netmon:3: config quota needs option limit");
  EXPECT_EQ(usage_error(head + "config quota\n option interface wwan0\n option limit lots\n")
                .rfind("/etc/config/netmon:5: invalid quota for 'wwan0': ", 0),
            0u);
  EXPECT_EQ(usage_error(head + "config quota\n option interface w\n option limit 1GB\n"
                               " option period week\n"),
            "/etc/config/netmon:6: invalid quota period 'week': expected day or month");
  EXPECT_EQ(usage_error(head + "config quota\n option interface w\n option limit 1GB\n"
                               " option direction up\n"),
            "/etc/config/netmon:6: invalid quota direction 'up': expected rx, tx or total");
  EXPECT_NE(usage_error(head + "config quota\n option interface w\n option limit 1GB\n"
                               " option alerts 80,x\n")
                .find("/etc/config/netmon:6: invalid quota alerts '80,x'"),
            std::string::npos);
  EXPECT_EQ(usage_error(head + "config quota\n option interface w\n option limit 1GB\n"
                               "config quota\n option interface w\n option limit 2GB\n"),
            "/etc/config/netmon:6: a second config quota for 'w'");
  EXPECT_EQ(usage_error("config netmon\n option month_start 29\n"),
            "/etc/config/netmon:2: invalid month_start '29': expected a day of the month, 1 to 28");
  EXPECT_NE(usage_error("config netmon\n option save_interval 10ms\n")
                .find("/etc/config/netmon:2: invalid save_interval '10ms'"),
            std::string::npos);
  EXPECT_NE(usage_error("config netmon\n option quota_alerts 0\n")
                .find("/etc/config/netmon:2: invalid quota_alerts '0'"),
            std::string::npos);
}

TEST(UciLedger, ABrokenValueIsAnErrorEvenWhenTheCommandLineOverridesIt) {
  EXPECT_NE(
      usage_error("config netmon\n option month_start x\n", {"--ledger", "a", "--month-start", "2"})
          .find(":2: invalid month_start 'x'"),
      std::string::npos);
}

TEST(UciLedger, TyposAndListsInAQuotaSectionAreErrors) {
  EXPECT_EQ(
      test::error_of([] { from_file("config quota\n option interface w\n option limt 1GB\n"); }),
      "/etc/config/netmon:3: unknown option 'limt' in config quota: expected interface, "
      "limit, period, direction or alerts");
  EXPECT_EQ(
      test::error_of([] { from_file("config quota\n list interface w\n option limit 1GB\n"); }),
      "/etc/config/netmon:2: 'interface' in config quota is one value: use option, not list");
}

TEST(UciLedger, OtherSectionsAreNotOurs) {
  UciLedgerConfig c = from_file("config other\n option limit x\nconfig wwan0 'interface'\n");
  EXPECT_FALSE(c.ledger);
  EXPECT_TRUE(c.quotas.empty());
}

}  // namespace
}  // namespace netmon
