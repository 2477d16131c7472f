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
    FAIL() << "accepted --interval fast";
  } catch (const UsageError& e) {
    EXPECT_EQ(e.exit_code(), 2);
    EXPECT_NE(std::string(e.what()).find("'fast'"), std::string::npos);
  }
}

TEST(Cli, ErrorMessagesNameTheOptionAsTyped) {
  const std::vector<std::pair<std::vector<std::string>, std::string>> cases = {
      {{"--frobnicate"}, "unknown option '--frobnicate'"},
      {{"--frobnicate=3"}, "unknown option '--frobnicate=3'"},
      {{"-x"}, "unknown option '-x'"},
      {{"--bpf=yes"}, "option --bpf takes no value"},
      {{"--interval"}, "option --interval needs a value"},
      {{"-n"}, "option -n needs a value"},
      {{"--bpf", "--proc"}, "--bpf and --proc cannot be combined"},
      {{"--attach", "kprobe", "--bpf"}, "invalid --attach 'kprobe': expected auto, tcx, tc or xdp"},
      {{"--attach", "tcx"}, "--attach applies only to --bpf and --compare"},
      {{"--quiet"}, "--quiet without --listen would output nothing"},
      {{"-n", "0"}, "invalid --count '0': expected a positive whole number"},
      {{"--listen", ":9310", "--allow-origin", "evil.example"},
       "invalid --allow-origin 'evil.example': expected http(s)://host[:port]"},
      {{"--listen", ":9310", "--allow-origin", "http://a.example/path"},
       "invalid --allow-origin 'http://a.example/path': expected http(s)://host[:port]"},
      {{"--allow-origin", "http://a.example"}, "--allow-origin applies only with --listen"},
      {{"--netdev", "--pin"}, "--pin applies only to --bpf and --compare"},
      {{"--proc", "--pin-path", "/sys/fs/bpf/x"}, "--pin applies only to --bpf and --compare"},
      {{"--netdev", "--unpin"}, "--unpin applies only to --bpf and --compare"},
      {{"--bpf", "--pin-path", "netmon"},
       "invalid --pin-path 'netmon': expected an absolute directory"},
  };
  for (const auto& [args, message] : cases) {
    try {
      parse_cli(args);
      ADD_FAILURE() << "accepted " << message;
    } catch (const UsageError& e) {
      EXPECT_EQ(std::string(e.what()), message);
      EXPECT_EQ(e.exit_code(), 2);
    }
  }
}

TEST(Cli, ShortOptionsCombineAsGetoptAllows) {
  EXPECT_EQ(parse_cli({"-vv"}).verbosity, 3);
  Options o = parse_cli({"-qv", "--listen", ":9310"});
  EXPECT_TRUE(o.quiet);
  EXPECT_EQ(o.verbosity, 2);
  EXPECT_EQ(parse_cli({"-n3"}).count, 3u);
  EXPECT_EQ(parse_cli({"-i250ms"}).interval.count(), 250);
  EXPECT_EQ(parse_cli({"--count=7"}).count, 7u);
  // Options and interfaces in any order; parsing twice starts over.
  o = parse_cli({"eth0", "--bpf", "wlan*", "-n", "2"});
  EXPECT_EQ(o.interfaces, (std::vector<std::string>{"eth0", "wlan*"}));
  EXPECT_EQ(parse_cli({"eth1"}).interfaces, std::vector<std::string>{"eth1"});
}

TEST(Cli, SourceNamesRoundTrip) {
  for (auto kind : {SourceKind::kNetdev, SourceKind::kBpf, SourceKind::kProc, SourceKind::kCompare})
    EXPECT_EQ(netmon::parse_source_kind(netmon::source_kind_name(kind)), kind);
  EXPECT_FALSE(netmon::parse_source_kind("xdp").has_value());
}

TEST(Cli, AllowOriginIsRepeatable) {
  Options o = parse_cli({"--listen", ":9310", "--allow-origin", "http://Router.LAN:9310",
                         "--allow-origin=https://dash.example"});
  ASSERT_EQ(o.allow_origins.size(), 2u);
  EXPECT_EQ(o.allow_origins[0].host, "router.lan");
  EXPECT_EQ(o.allow_origins[0].port, 9310);
  EXPECT_EQ(o.allow_origins[1].scheme, "https");
  EXPECT_EQ(o.allow_origins[1].port, 443);
  EXPECT_TRUE(parse_cli({}).allow_origins.empty());
}

TEST(Cli, PinDefaultsToSysFsBpfNetmonAndPinPathOverrides) {
  EXPECT_FALSE(parse_cli({"--bpf"}).pin_dir);
  EXPECT_EQ(parse_cli({"--bpf", "--pin"}).pin_dir, "/sys/fs/bpf/netmon");
  EXPECT_EQ(parse_cli({"--compare", "--pin-path", "/sys/fs/bpf/t1"}).pin_dir, "/sys/fs/bpf/t1");
  Options unpin = parse_cli({"--unpin"});
  EXPECT_TRUE(unpin.unpin);
  EXPECT_EQ(unpin.pin_dir, "/sys/fs/bpf/netmon");
  EXPECT_EQ(parse_cli({"--unpin", "--pin-path", "/x/y"}).pin_dir, "/x/y");
}
