#include <gtest/gtest.h>

#include "app/options.h"

using netmon::Options;
using netmon::parse_cli;
using netmon::SourceKind;
using netmon::UsageError;

TEST(Cli, DefaultsToNetdevEverySecondForever) {
  Options o = parse_cli({});
  EXPECT_EQ(o.source, SourceKind::kNetdev);
  EXPECT_FALSE(o.source_given);
  EXPECT_EQ(o.interval.count(), 1000);
  EXPECT_FALSE(o.interval_given);
  EXPECT_FALSE(o.count.has_value());
  EXPECT_EQ(o.attach, "auto");
  EXPECT_TRUE(o.interfaces.empty());
  EXPECT_EQ(o.proc_file, "/proc/netmon");
}

TEST(Cli, ParsesTheReadmeCommands) {
  Options o = parse_cli({"--bpf", "all", "--interval", "500ms", "--count", "10"});
  EXPECT_EQ(o.source, SourceKind::kBpf);
  EXPECT_EQ(o.interfaces, std::vector<std::string>{"all"});
  EXPECT_EQ(o.interval.count(), 500);
  EXPECT_TRUE(o.interval_given);
  EXPECT_EQ(o.count, 10u);

  o = parse_cli({"--compare", "wwan0", "--interval=1s", "--attach", "tc"});
  EXPECT_EQ(o.source, SourceKind::kCompare);
  EXPECT_EQ(o.attach, "tc");
  EXPECT_EQ(o.interfaces, std::vector<std::string>{"wwan0"});
}

TEST(Cli, InterfacesGlobsAndExclusionsArePositional) {
  Options o = parse_cli({"--bpf", "v*", "!vX", "-n", "3", "--", "-odd"});
  EXPECT_EQ(o.interfaces, (std::vector<std::string>{"v*", "!vX", "-odd"}));
  EXPECT_EQ(o.count, 3u);
}

TEST(Cli, VerbosityAndListen) {
  Options o = parse_cli({"-v", "-v", "--listen", "127.0.0.1:9310", "--quiet"});
  EXPECT_EQ(o.verbosity, 3);
  EXPECT_EQ(o.listen, "127.0.0.1:9310");
  EXPECT_TRUE(o.quiet);
  EXPECT_EQ(parse_cli({"--silent"}).verbosity, 0);
}

TEST(Cli, RejectsBadInputWithUsageErrors) {
  const std::vector<std::vector<std::string>> bad = {
      {"--bpf", "--proc"},    {"--interval"},
      {"--interval", "fast"}, {"--count", "0"},
      {"--count", "-3"},      {"--count", "12x"},
      {"--attach", "kprobe"}, {"--attach", "tcx"},
      {"--frobnicate"},       {"--quiet"},
      {"--bpf=yes"},          {"--count", "99999999999999999999999"},
  };
  for (const auto& args : bad) {
    std::string joined;
    for (const auto& a : args) joined += a + " ";
    EXPECT_THROW(parse_cli(args), UsageError) << joined;
  }
  try {
    parse_cli({"--interval", "fast"});
  } catch (const UsageError& e) {
    EXPECT_EQ(e.exit_code(), 2);
    EXPECT_NE(std::string(e.what()).find("'fast'"), std::string::npos);
  }
}

TEST(Cli, SourceNamesRoundTrip) {
  for (auto kind : {SourceKind::kNetdev, SourceKind::kBpf, SourceKind::kProc, SourceKind::kCompare})
    EXPECT_EQ(netmon::parse_source_kind(netmon::source_kind_name(kind)), kind);
  EXPECT_FALSE(netmon::parse_source_kind("xdp").has_value());
}
