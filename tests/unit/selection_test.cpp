#include "config/selection.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <stdlib.h>
#include <sys/stat.h>

#include <filesystem>
#include <fstream>
#include <functional>

#include "sys/error.h"
#include "test_util.h"

namespace netmon {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;
using ::testing::StartsWith;

std::string fixture(const std::string& name) { return test::fixture_path(name); }

using test::error_of;

Selection cli(std::vector<std::string> patterns) {
  return Selection(std::move(patterns), SelectionOrigin::command_line());
}

// --- matching -------------------------------------------------------------------

TEST(Selection, LiteralNames) {
  Selection s = cli({"eth0", "wwan0"});
  EXPECT_TRUE(s.matches("eth0"));
  EXPECT_TRUE(s.matches("wwan0"));
  EXPECT_FALSE(s.matches("eth01"));
  EXPECT_FALSE(s.matches("eth"));
  EXPECT_THAT(s.literal_names(), ElementsAre("eth0", "wwan0"));
}

TEST(Selection, Globs) {
  Selection s = cli({"veth*", "wlan?", "br-[lw]an"});
  EXPECT_TRUE(s.matches("veth"));
  EXPECT_TRUE(s.matches("veth1234"));
  EXPECT_TRUE(s.matches("wlan0"));
  EXPECT_FALSE(s.matches("wlan10"));
  EXPECT_FALSE(s.matches("wlan"));
  EXPECT_TRUE(s.matches("br-lan"));
  EXPECT_TRUE(s.matches("br-wan"));
  EXPECT_FALSE(s.matches("br-xan"));
  EXPECT_FALSE(s.matches("eth0"));
  EXPECT_THAT(s.literal_names(), IsEmpty());
}

TEST(Selection, ExclusionsApplyAfterIncludes) {
  // netmon-agent --bpf 'v*' '!vX'
  Selection s = cli({"v*", "!vX", "!veth[0-3]"});
  EXPECT_TRUE(s.matches("vY"));
  EXPECT_TRUE(s.matches("veth4"));
  EXPECT_FALSE(s.matches("vX"));
  EXPECT_FALSE(s.matches("veth2"));
  EXPECT_FALSE(s.matches("eth0"));
  EXPECT_THAT(s.literal_names(), IsEmpty()) << "exclusions need not exist";
}

TEST(Selection, ExclusionOnlyMeansAllMinusThose) {
  Selection s = cli({"!lo", "!docker*"});
  EXPECT_TRUE(s.matches("eth0"));
  EXPECT_FALSE(s.matches("lo"));
  EXPECT_FALSE(s.matches("docker0"));
  EXPECT_EQ(s.describe(), "interfaces from command line: all !lo !docker*");
}

TEST(Selection, All) {
  Selection s = cli({"all", "!lo"});
  EXPECT_TRUE(s.matches("anything"));
  EXPECT_FALSE(s.matches("lo"));
  EXPECT_THAT(s.literal_names(), IsEmpty());
  EXPECT_TRUE(Selection().matches("eth0"));
  EXPECT_TRUE(cli({}).matches("eth0"));
}

TEST(Selection, AllPlusNamesIsStillAll) {
  Selection s = cli({"eth0", "all"});
  EXPECT_TRUE(s.matches("wlan0"));
  EXPECT_THAT(s.literal_names(), ElementsAre("eth0")) << "a typo is still a typo";
}

TEST(Selection, DuplicatesDropped) {
  Selection s = cli({"eth0", "eth0", "wlan*", "wlan*"});
  EXPECT_THAT(s.patterns(), ElementsAre("eth0", "wlan*"));
  EXPECT_THAT(s.literal_names(), ElementsAre("eth0"));
}

// --- validation -----------------------------------------------------------------

TEST(Selection, NameOfFifteenCharactersIsFine) {
  EXPECT_NO_THROW(cli({"abcdefghijklmno"}));
  EXPECT_NO_THROW(cli({"!abcdefghijklmno"}));
  EXPECT_NO_THROW(cli({"abcdefghijklmnopqrstu*"})) << "a glob's length says nothing";
}

TEST(Selection, InvalidNamesAreErrorsNamingThem) {
  EXPECT_EQ(error_of([] {
              cli({"eth0", "abcdefghijklmnop"});
            }),
            "invalid interface argument 'abcdefghijklmnop': longer than 15 characters (IFNAMSIZ)");
  EXPECT_EQ(error_of([] { cli({"!abcdefghijklmnop"}); }),
            "invalid interface argument '!abcdefghijklmnop': longer than 15 characters (IFNAMSIZ)");
  EXPECT_THAT(error_of([] { cli({"eth0:1"}); }),
              StartsWith("invalid interface argument 'eth0:1': ':'"));
  EXPECT_THAT(error_of([] { cli({"a/b"}); }), StartsWith("invalid interface argument 'a/b': '/'"));
  EXPECT_THAT(error_of([] { cli({"eth 0"}); }), HasSubstr("whitespace"));
  EXPECT_THAT(error_of([] { cli({"eth\t0"}); }), HasSubstr("whitespace"));
  EXPECT_THAT(error_of([] { cli({"v*/x"}); }), HasSubstr("'/'")) << "globs too";
  EXPECT_THAT(error_of([] { cli({""}); }), HasSubstr("empty interface name"));
  EXPECT_THAT(error_of([] { cli({"!"}); }), HasSubstr("'!' without an interface name"));
  EXPECT_THAT(error_of([] { cli({"!all"}); }), HasSubstr("every interface"));
  EXPECT_THAT(error_of([] { cli({".."}); }), HasSubstr("not an interface name"));
  EXPECT_THAT(error_of([] { cli({"eth\x01"}); }), HasSubstr("control characters"));
}

TEST(Selection, InvalidNameFromAFileNamesTheFile) {
  EXPECT_THAT(error_of([] { Selection({"a:b"}, SelectionOrigin::config_file("/x.conf")); }),
              StartsWith("/x.conf: invalid interface 'a:b': "));
}

TEST(Selection, PatternProblem) {
  EXPECT_EQ(pattern_problem("rmnet_data0"), "");
  EXPECT_EQ(pattern_problem("all"), "");
  EXPECT_EQ(pattern_problem("!wlan?"), "");
  EXPECT_NE(pattern_problem("abcdefghijklmnop"), "");
  EXPECT_TRUE(is_glob("wlan?"));
  EXPECT_TRUE(is_glob("!veth*"));
  EXPECT_TRUE(is_glob("br-[lw]an"));
  EXPECT_FALSE(is_glob("br-lan"));
}

// --- origin and describe() -------------------------------------------------------

TEST(Selection, DescribeSaysWhereItCameFrom) {
  EXPECT_EQ(Selection({"rmnet_data0"}, SelectionOrigin::config_file("/etc/netmon.conf")).describe(),
            "interfaces from /etc/netmon.conf: rmnet_data0");
  EXPECT_EQ(cli({"v*", "!vX"}).describe(), "interfaces from command line: v* !vX");
  EXPECT_EQ(Selection({"wwan0"}, SelectionOrigin::uci("/etc/config/netmon")).describe(),
            "interfaces from UCI (/etc/config/netmon): wwan0");
  EXPECT_EQ(Selection().describe(), "interfaces: all (default)");
}

TEST(Selection, OnlyCommandLineNamesMustExist) {
  EXPECT_TRUE(SelectionOrigin::command_line().names_must_exist());
  EXPECT_FALSE(SelectionOrigin::config_file("/etc/netmon.conf").names_must_exist());
  EXPECT_FALSE(SelectionOrigin::uci("/etc/config/netmon").names_must_exist());
  EXPECT_FALSE(SelectionOrigin::by_default().names_must_exist());
}

// --- precedence -------------------------------------------------------------------

// A temp dir holding the default paths, with uci disabled unless a test
// installs a fake one.
class Resolve : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/netmon-selection-test-XXXXXX";
    dir_ = ::mkdtemp(tmpl);
    in_.default_config_path = dir_ + "/netmon.conf";
    in_.default_uci_path = dir_ + "/config/netmon";
    in_.uci_program = "";
    std::filesystem::create_directory(dir_ + "/config");
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }

  std::string write(const std::string& rel, const std::string& text) {
    std::string path = dir_ + "/" + rel;
    std::ofstream(path) << text;
    return path;
  }
  void copy_fixture(const std::string& name, const std::string& rel) {
    std::filesystem::copy_file(fixture(name), dir_ + "/" + rel,
                               std::filesystem::copy_options::overwrite_existing);
  }
  // A stand-in for uci that prints `out`, exits `rc` and leaves a marker.
  void fake_uci(const std::string& out, int rc) {
    std::string path = write("uci", "#!/bin/sh\ntouch " + dir_ + "/uci-ran\nprintf '%s' '" + out +
                                        "'\nexit " + std::to_string(rc) + "\n");
    ::chmod(path.c_str(), 0755);
    in_.uci_program = path;
  }
  bool uci_ran() const { return std::filesystem::exists(dir_ + "/uci-ran"); }

  std::string dir_;
  SelectionInputs in_;
};

TEST_F(Resolve, NothingAnywhereMeansAll) {
  ResolvedSelection r = resolve_selection(in_);
  EXPECT_EQ(r.selection.origin().kind, SelectionOrigin::Kind::kDefault);
  EXPECT_TRUE(r.selection.matches("eth0"));
  EXPECT_EQ(r.selection.describe(), "interfaces: all (default)");
  EXPECT_FALSE(r.interval);
  EXPECT_FALSE(r.source);
  EXPECT_THAT(r.warnings, IsEmpty());
}

TEST_F(Resolve, CommandLineWinsButUciSettingsStillApply) {
  copy_fixture("netmon_conf/seed.conf", "netmon.conf");
  copy_fixture("uci/main_option", "config/netmon");
  in_.args = {"eth0", "veth*"};
  ResolvedSelection r = resolve_selection(in_);
  EXPECT_EQ(r.selection.origin().kind, SelectionOrigin::Kind::kCommandLine);
  EXPECT_THAT(r.selection.literal_names(), ElementsAre("eth0"));
  EXPECT_FALSE(r.selection.matches("rmnet_data0"));
  ASSERT_TRUE(r.interval);
  EXPECT_EQ(r.interval->value, "2s");
  EXPECT_EQ(r.interval->where, in_.default_uci_path + ":4");
  EXPECT_EQ(r.source->value, "bpf");
}

TEST_F(Resolve, SeedConfigFileBeatsUci) {
  copy_fixture("netmon_conf/seed.conf", "netmon.conf");
  copy_fixture("uci/seed", "config/netmon");
  ResolvedSelection r = resolve_selection(in_);
  EXPECT_EQ(r.selection.origin().kind, SelectionOrigin::Kind::kConfigFile);
  EXPECT_THAT(r.selection.patterns(), ElementsAre("rmnet_data0"));
  EXPECT_EQ(r.selection.describe(), "interfaces from " + in_.default_config_path + ": rmnet_data0");
  EXPECT_FALSE(r.selection.origin().names_must_exist());
}

TEST_F(Resolve, ExplicitConfigOverridesTheDefaultPath) {
  copy_fixture("netmon_conf/seed.conf", "netmon.conf");
  in_.config_path = fixture("netmon_conf/globs.conf");
  ResolvedSelection r = resolve_selection(in_);
  EXPECT_EQ(r.selection.origin().where, *in_.config_path);
  EXPECT_TRUE(r.selection.matches("veth3"));
  EXPECT_FALSE(r.selection.matches("veth9"));
  EXPECT_FALSE(r.selection.matches("rmnet_data0"));
}

TEST_F(Resolve, MissingExplicitConfigIsAnError) {
  in_.config_path = dir_ + "/nope.conf";
  EXPECT_EQ(error_of([&] { resolve_selection(in_); }),
            dir_ + "/nope.conf: cannot read: No such file or directory");
}

TEST_F(Resolve, MissingDefaultConfigFallsThroughToUciSeedForm) {
  copy_fixture("uci/seed", "config/netmon");
  ResolvedSelection r = resolve_selection(in_);
  EXPECT_EQ(r.selection.origin().kind, SelectionOrigin::Kind::kUci);
  EXPECT_THAT(r.selection.patterns(), ElementsAre("wwan0"));
  EXPECT_EQ(r.selection.describe(), "interfaces from UCI (" + in_.default_uci_path + "): wwan0");
  EXPECT_THAT(r.selection.literal_names(), ElementsAre("wwan0"));
  EXPECT_FALSE(r.selection.origin().names_must_exist()) << "a modem comes up after boot";
}

TEST_F(Resolve, CommentOnlyDefaultConfigFallsThroughWithAWarning) {
  copy_fixture("netmon_conf/comments_only.conf", "netmon.conf");
  copy_fixture("uci/main_list", "config/netmon");
  ResolvedSelection r = resolve_selection(in_);
  EXPECT_EQ(r.selection.origin().kind, SelectionOrigin::Kind::kUci);
  EXPECT_THAT(r.selection.patterns(), ElementsAre("rmnet_data0", "wlan*", "!wlan9"));
  EXPECT_THAT(r.warnings,
              ElementsAre(in_.default_config_path + " lists no interfaces; ignoring it"));
}

TEST_F(Resolve, CommentOnlyExplicitConfigIsAnError) {
  in_.config_path = fixture("netmon_conf/comments_only.conf");
  copy_fixture("uci/main_list", "config/netmon");
  EXPECT_EQ(error_of([&] { resolve_selection(in_); }),
            *in_.config_path + ": no interfaces (only comments or blank lines)");
}

TEST_F(Resolve, ExplicitUciConfig) {
  copy_fixture("uci/seed", "config/netmon");
  in_.uci_config_path = fixture("uci/main_option");
  ResolvedSelection r = resolve_selection(in_);
  EXPECT_THAT(r.selection.patterns(), ElementsAre("wwan0"));
  EXPECT_EQ(r.selection.origin().where, *in_.uci_config_path);
  EXPECT_EQ(r.source->value, "bpf");
}

TEST_F(Resolve, MissingExplicitUciConfigIsAnError) {
  in_.uci_config_path = dir_ + "/none";
  in_.args = {"eth0"};
  EXPECT_EQ(error_of([&] { resolve_selection(in_); }),
            dir_ + "/none: cannot read: No such file or directory");
}

TEST_F(Resolve, UciWithoutInterfacesMeansAllWithItsSettings) {
  write("config/netmon", "config netmon 'main'\n\toption interval '5s'\n");
  ResolvedSelection r = resolve_selection(in_);
  EXPECT_EQ(r.selection.origin().kind, SelectionOrigin::Kind::kDefault);
  EXPECT_EQ(r.interval->value, "5s");
}

TEST_F(Resolve, MalformedFilesAreErrorsWithFileAndLine) {
  copy_fixture("netmon_conf/binary.conf", "netmon.conf");
  EXPECT_EQ(error_of([&] { resolve_selection(in_); }),
            in_.default_config_path + ":2: not a text file (NUL byte)");

  std::filesystem::remove(in_.default_config_path);
  copy_fixture("uci/unterminated_quote", "config/netmon");
  EXPECT_EQ(error_of([&] { resolve_selection(in_); }),
            in_.default_uci_path + ":3: unterminated \" (the quote opened here)");

  // Even with interfaces on the command line: the file is still broken.
  in_.args = {"eth0"};
  EXPECT_THAT(error_of([&] { resolve_selection(in_); }), StartsWith(in_.default_uci_path + ":3:"));
}

// Issue 13, 2.10: a bad interface argument is a usage error (exit 2, as the
// README says), whereas the same word in a config file is a runtime error.
TEST(Selection, BadArgumentsAreUsageErrors) {
  for (std::string bad : {"", "!all", "a/x", "a x", "abcdefghijklmnop"}) {
    try {
      Selection({bad}, SelectionOrigin::command_line());
      ADD_FAILURE() << "accepted '" << bad << "'";
    } catch (const UsageError& e) {
      EXPECT_EQ(e.exit_code(), 2) << bad;
    } catch (const Error& e) {
      ADD_FAILURE() << "'" << bad << "' is not a usage error: " << e.what();
    }
  }
  try {
    Selection({"a/x"}, SelectionOrigin::config_file("/etc/netmon.conf"));
    ADD_FAILURE() << "accepted a/x from a file";
  } catch (const Error& e) {
    EXPECT_EQ(e.exit_code(), 1) << e.what();
  }
}

TEST_F(Resolve, TypoOnTheCommandLine) {
  in_.args = {"eth0", "wlan0:"};
  EXPECT_THAT(error_of([&] { resolve_selection(in_); }),
              StartsWith("invalid interface argument 'wlan0:'"));
}

TEST_F(Resolve, UciCommandIsPreferredOverTheFile) {
  copy_fixture("uci/seed", "config/netmon");
  fake_uci(
      "netmon.main=netmon\nnetmon.main.interface='\\''eth1'\\'' '\\''eth2'\\''\n"
      "netmon.main.source='\\''proc'\\''\n",
      0);
  ResolvedSelection r = resolve_selection(in_);
  EXPECT_TRUE(uci_ran());
  EXPECT_THAT(r.selection.patterns(), ElementsAre("eth1", "eth2"));
  EXPECT_EQ(r.selection.describe(), "interfaces from UCI (uci -q show netmon): eth1 eth2");
  EXPECT_EQ(r.source->value, "proc");
  EXPECT_EQ(r.source->where, "uci -q show netmon:3");
}

TEST_F(Resolve, UciCommandFailingFallsBackToTheFile) {
  copy_fixture("uci/seed", "config/netmon");
  fake_uci("", 1);
  ResolvedSelection r = resolve_selection(in_);
  EXPECT_TRUE(uci_ran());
  EXPECT_THAT(r.selection.patterns(), ElementsAre("wwan0"));
  EXPECT_EQ(r.selection.origin().where, in_.default_uci_path);
}

TEST_F(Resolve, UciCommandNotRunWithExplicitUciConfig) {
  fake_uci("netmon.interface=eth9\n", 0);
  in_.uci_config_path = fixture("uci/seed");
  ResolvedSelection r = resolve_selection(in_);
  EXPECT_FALSE(uci_ran());
  EXPECT_THAT(r.selection.patterns(), ElementsAre("wwan0"));
}

TEST_F(Resolve, UciCommandMissingFromPathIsSkipped) {
  copy_fixture("uci/seed", "config/netmon");
  in_.uci_program = "netmon-no-such-uci-xyz";
  EXPECT_THAT(resolve_selection(in_).selection.patterns(), ElementsAre("wwan0"));
}

}  // namespace
}  // namespace netmon
