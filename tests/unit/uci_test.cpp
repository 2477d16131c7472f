#include "config/uci.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <stdlib.h>
#include <sys/stat.h>

#include <filesystem>
#include <fstream>
#include <functional>

#include "config/netmon_conf.h"
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

std::string slurp(const std::string& path) {
  auto text = read_text_file(path);
  EXPECT_TRUE(text.has_value()) << path;
  return text.value_or("");
}

UciPackage parse_fixture(const std::string& name) {
  std::string path = fixture("uci/" + name);
  std::string text = slurp(path);
  check_text(text, path);
  return parse_uci(text, path);
}

std::string parse_error(const std::string& name) {
  return error_of([&] { parse_fixture(name); });
}

UciPackage parse_show_fixture(const std::string& name) {
  return parse_uci_show(slurp(fixture("uci_show/" + name)), "netmon", "uci -q show netmon");
}

std::vector<std::string> texts(const std::vector<UciValue>& values) {
  std::vector<std::string> out;
  for (const auto& v : values) out.push_back(v.text);
  return out;
}

// --- the file syntax ---------------------------------------------------------

TEST(UciFile, SeedFormIsASectionNamedInterfaceOfTypeWwan0) {
  UciPackage pkg = parse_fixture("seed");
  ASSERT_EQ(pkg.sections.size(), 1u);
  EXPECT_EQ(pkg.sections[0].type, "wwan0");
  EXPECT_EQ(pkg.sections[0].name, "interface");
  EXPECT_FALSE(pkg.sections[0].anonymous);
  EXPECT_EQ(pkg.sections[0].line, 2);

  UciNetmonConfig cfg = extract_netmon_config(pkg);
  EXPECT_THAT(texts(cfg.interfaces), ElementsAre("wwan0"));
  EXPECT_EQ(cfg.interfaces[0].line, 2);
  EXPECT_FALSE(cfg.interval);
  EXPECT_FALSE(cfg.source);
}

TEST(UciFile, IdiomaticOptionForm) {
  UciNetmonConfig cfg = extract_netmon_config(parse_fixture("main_option"));
  EXPECT_THAT(texts(cfg.interfaces), ElementsAre("wwan0"));
  ASSERT_TRUE(cfg.interval);
  EXPECT_EQ(cfg.interval->text, "2s");
  EXPECT_EQ(cfg.interval->line, 4);
  ASSERT_TRUE(cfg.source);
  EXPECT_EQ(cfg.source->text, "bpf");
  EXPECT_EQ(cfg.where, fixture("uci/main_option"));
}

TEST(UciFile, IdiomaticListFormWithPackageLineAndOtherSections) {
  UciPackage pkg = parse_fixture("main_list");
  ASSERT_EQ(pkg.sections.size(), 2u);
  const UciOption* iface = pkg.sections[0].find("interface");
  ASSERT_NE(iface, nullptr);
  EXPECT_TRUE(iface->is_list);
  EXPECT_EQ(pkg.sections[1].find("note")->values[0].text, "not for netmon");

  UciNetmonConfig cfg = extract_netmon_config(pkg);
  EXPECT_THAT(texts(cfg.interfaces), ElementsAre("rmnet_data0", "wlan*", "!wlan9"));
  EXPECT_EQ(cfg.interval->text, "500ms");
  EXPECT_EQ(cfg.source->text, "netdev");
}

TEST(UciFile, AnonymousSectionWithSpaceSeparatedOption) {
  UciPackage pkg = parse_fixture("anonymous");
  ASSERT_EQ(pkg.sections.size(), 1u);
  EXPECT_TRUE(pkg.sections[0].anonymous);
  EXPECT_EQ(pkg.sections[0].name, "");
  EXPECT_THAT(texts(extract_netmon_config(pkg).interfaces), ElementsAre("eth0", "eth1"));
}

TEST(UciFile, SyntaxCorners) {
  UciPackage pkg = parse_fixture("syntax");
  ASSERT_EQ(pkg.sections.size(), 1u) << "the reopened 'main' is the same section";
  const UciSection& s = pkg.sections[0];
  EXPECT_EQ(s.find("source")->values[0].text, "bpf");
  EXPECT_EQ(s.find("description")->values[0].text, "spans\ntwo lines");
  EXPECT_EQ(s.find("old"), nullptr);

  UciNetmonConfig cfg = extract_netmon_config(pkg);
  EXPECT_THAT(texts(cfg.interfaces), ElementsAre("wlan0", "veth*", "eth1"));
  EXPECT_EQ(cfg.interfaces[0].line, 6);
  EXPECT_EQ(cfg.interfaces[2].line, 16);
  EXPECT_EQ(cfg.interval->text, "2s");
  EXPECT_EQ(cfg.interval->line, 12) << "line numbers survive the multi-line value";
}

TEST(UciFile, ListAfterOptionKeepsTheOptionValue) {
  UciPackage pkg = parse_uci("config netmon\n option interface a\n list interface b\n", "t");
  const UciOption* o = pkg.sections[0].find("interface");
  EXPECT_TRUE(o->is_list);
  EXPECT_THAT(texts(o->values), ElementsAre("a", "b"));

  pkg =
      parse_uci("config netmon\n list interface a\n list interface b\n option interface c\n", "t");
  o = pkg.sections[0].find("interface");
  EXPECT_FALSE(o->is_list);
  EXPECT_THAT(texts(o->values), ElementsAre("c"));
}

TEST(UciFile, QuotesAndEscapes) {
  UciPackage pkg = parse_uci(
      "config t 'n'\n"
      " option a 'single \\ keeps backslash'\n"
      " option b \"double \\\"escaped\\\"\"\n"
      " option c bare\\ word\n"
      " option d 'x'#comment right after\n"
      " option e\n",
      "t");
  const UciSection& s = pkg.sections[0];
  EXPECT_EQ(s.find("a")->values[0].text, "single \\ keeps backslash");
  EXPECT_EQ(s.find("b")->values[0].text, "double \"escaped\"");
  EXPECT_EQ(s.find("c")->values[0].text, "bare word");
  EXPECT_EQ(s.find("d")->values[0].text, "x");
  EXPECT_EQ(s.find("e"), nullptr) << "no value: unset, as uci does";
}

TEST(UciFile, EmptyAndCommentOnlyFiles) {
  EXPECT_THAT(parse_uci("", "t").sections, IsEmpty());
  EXPECT_THAT(parse_uci("\n# nothing\n   \n", "t").sections, IsEmpty());
  UciNetmonConfig cfg = extract_netmon_config(parse_uci("", "t"));
  EXPECT_THAT(cfg.interfaces, IsEmpty());
}

TEST(UciFile, SeedFormForIntervalAndSource) {
  // `uci set netmon.interval=2s` and `uci set netmon.source=proc` in the
  // seed's style.
  UciNetmonConfig cfg = extract_netmon_config(
      parse_uci("config wwan0 'interface'\nconfig 2s 'interval'\nconfig proc 'source'\n", "t"));
  EXPECT_THAT(texts(cfg.interfaces), ElementsAre("wwan0"));
  EXPECT_EQ(cfg.interval->text, "2s");
  EXPECT_EQ(cfg.source->text, "proc");
}

TEST(UciFile, SectionOfTypeNetmonIsNeverTheSeedForm) {
  UciNetmonConfig cfg =
      extract_netmon_config(parse_uci("config netmon 'interface'\n option interface eth0\n", "t"));
  EXPECT_THAT(texts(cfg.interfaces), ElementsAre("eth0"));
}

TEST(UciFile, OtherSectionsAreIgnored) {
  UciNetmonConfig cfg = extract_netmon_config(parse_uci(
      "config globals 'globals'\n option interface 'lan'\nconfig rule\n option source 'x'\n", "t"));
  EXPECT_THAT(cfg.interfaces, IsEmpty());
  EXPECT_FALSE(cfg.source);
}

// --- malformed files -----------------------------------------------------------

TEST(UciFile, UnterminatedQuoteNamesTheLineItOpened) {
  EXPECT_EQ(parse_error("unterminated_quote"),
            fixture("uci/unterminated_quote") + ":3: unterminated \" (the quote opened here)");
  EXPECT_EQ(error_of([] { parse_uci("config a 'b\n\n", "t"); }),
            "t:1: unterminated ' (the quote opened here)");
}

TEST(UciFile, OptionBeforeSection) {
  EXPECT_EQ(
      parse_error("option_before_section"),
      fixture("uci/option_before_section") + ":2: 'option' before the first 'config' section");
}

TEST(UciFile, BadOptionLine) {
  EXPECT_THAT(parse_error("bad_command"),
              StartsWith(fixture("uci/bad_command") + ":2: invalid command 'optoin'"));
  EXPECT_THAT(parse_error("too_many_args"),
              StartsWith(fixture("uci/too_many_args") + ":2: too many arguments to 'option'"));
  EXPECT_THAT(error_of([] { parse_uci("config netmon\n option\n", "t"); }),
              StartsWith("t:2: 'option' without a name"));
  EXPECT_THAT(error_of([] { parse_uci("config netmon\n option 'in-terface' x\n", "t"); }),
              StartsWith("t:2: invalid option name 'in-terface'"));
  EXPECT_THAT(error_of([] { parse_uci("config netmon\n 'option' interface x\n", "t"); }),
              StartsWith("t:2: invalid command 'option'"));
}

TEST(UciFile, BadSections) {
  EXPECT_THAT(parse_error("bad_section_name"),
              StartsWith(fixture("uci/bad_section_name") + ":1: invalid section name 'my-main'"));
  EXPECT_THAT(
      parse_error("type_conflict"),
      StartsWith(fixture("uci/type_conflict") + ":4: section 'main' redefined with type 'other'"));
  EXPECT_THAT(error_of([] { parse_uci("config\n", "t"); }),
              StartsWith("t:1: 'config' without a section type"));
  EXPECT_THAT(error_of([] { parse_uci("config ''\n", "t"); }),
              StartsWith("t:1: 'config' without a section type"));
  EXPECT_THAT(error_of([] { parse_uci("package 'a b'\n", "t"); }),
              StartsWith("t:1: invalid package name"));
}

TEST(UciFile, TooLongInterfaceName) {
  std::string msg = error_of([] { extract_netmon_config(parse_fixture("too_long_name")); });
  EXPECT_EQ(msg,
            fixture("uci/too_long_name") +
                ":3: invalid interface 'abcdefghijklmnop': longer than 15 characters (IFNAMSIZ)");
}

TEST(UciFile, BinaryGarbage) {
  std::string path = fixture("uci/binary");
  EXPECT_EQ(error_of([&] { check_text(slurp(path), path); }),
            path + ":3: not a text file (NUL byte)");
}

// --- `uci -q show netmon` --------------------------------------------------------

TEST(UciShow, SeedForm) {
  UciPackage pkg = parse_show_fixture("seed.txt");
  ASSERT_EQ(pkg.sections.size(), 1u);
  EXPECT_EQ(pkg.sections[0].name, "interface");
  EXPECT_EQ(pkg.sections[0].type, "wwan0");
  EXPECT_THAT(texts(extract_netmon_config(pkg).interfaces), ElementsAre("wwan0"));
}

TEST(UciShow, NamedSectionWithListAndOptions) {
  UciPackage pkg = parse_show_fixture("main.txt");
  ASSERT_EQ(pkg.sections.size(), 2u);
  EXPECT_EQ(pkg.sections[1].find("note")->values[0].text, "it's here");

  UciNetmonConfig cfg = extract_netmon_config(pkg);
  EXPECT_THAT(texts(cfg.interfaces), ElementsAre("rmnet_data0", "wlan*", "!wlan9"));
  EXPECT_EQ(cfg.interval->text, "2s");
  EXPECT_EQ(cfg.source->text, "bpf");
  EXPECT_EQ(cfg.source->line, 4);
  EXPECT_EQ(cfg.where, "uci -q show netmon");
}

TEST(UciShow, AnonymousSection) {
  UciPackage pkg = parse_show_fixture("anonymous.txt");
  ASSERT_EQ(pkg.sections.size(), 1u);
  EXPECT_EQ(pkg.sections[0].name, "@netmon[0]");
  EXPECT_TRUE(pkg.sections[0].anonymous);
  UciNetmonConfig cfg = extract_netmon_config(pkg);
  EXPECT_THAT(texts(cfg.interfaces), ElementsAre("eth0", "eth1"));
  EXPECT_EQ(cfg.interval->text, "10s");
}

TEST(UciShow, EmptyOutput) { EXPECT_THAT(parse_uci_show("", "netmon", "u").sections, IsEmpty()); }

TEST(UciShow, Malformed) {
  EXPECT_THAT(error_of([] { parse_show_fixture("unterminated.txt"); }),
              StartsWith("uci -q show netmon:2: unterminated '"));
  EXPECT_THAT(
      error_of([] { parse_show_fixture("wrong_package.txt"); }),
      StartsWith(
          "uci -q show netmon:2: not a line of package 'netmon' in 'network.lan=interface'"));
  EXPECT_THAT(error_of([] { parse_uci_show("netmon.main\n", "netmon", "u"); }),
              StartsWith("u:1: missing '='"));
  EXPECT_THAT(error_of([] { parse_uci_show("netmon.@netmon[0.x='a'\n", "netmon", "u"); }),
              StartsWith("u:1: "));
  EXPECT_THAT(
      error_of([] {
        extract_netmon_config(parse_uci_show(
            "netmon.main=netmon\nnetmon.main.interface='abcdefghijklmnopq'\n", "netmon", "u"));
      }),
      StartsWith("u:2: invalid interface 'abcdefghijklmnopq'"));
}

// --- running uci ----------------------------------------------------------------

class FakeUci : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/netmon-uci-test-XXXXXX";
    dir_ = ::mkdtemp(tmpl);
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }

  // A script standing in for uci: prints `out` and exits with `rc`, after
  // recording its arguments.
  std::string script(const std::string& out, int rc) {
    std::string path = dir_ + "/uci";
    std::ofstream f(path);
    f << "#!/bin/sh\necho \"$@\" > " << dir_ << "/args\necho 'oops' >&2\nprintf '%s' '" << out
      << "'\nexit " << rc << "\n";
    f.close();
    ::chmod(path.c_str(), 0755);
    return path;
  }

  std::string dir_;
};

TEST_F(FakeUci, ReturnsStdoutOnSuccess) {
  std::string uci = script("netmon.interface=wwan0\n", 0);
  auto out = run_uci_show(uci, "netmon");
  ASSERT_TRUE(out);
  EXPECT_EQ(*out, "netmon.interface=wwan0\n");
  EXPECT_EQ(slurp(dir_ + "/args"), "-q show netmon\n");
}

TEST_F(FakeUci, NonZeroExitIsNoConfig) { EXPECT_FALSE(run_uci_show(script("", 1), "netmon")); }

TEST_F(FakeUci, FindProgram) {
  std::string uci = script("", 0);
  EXPECT_EQ(find_program(uci), uci);
  EXPECT_FALSE(find_program(dir_ + "/missing"));
  EXPECT_FALSE(find_program("netmon-no-such-program-xyz"));
  EXPECT_TRUE(find_program("sh"));
  EXPECT_FALSE(find_program(""));
}

}  // namespace
}  // namespace netmon
