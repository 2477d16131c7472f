#include "sources/proc/proc_format.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <fstream>
#include <sstream>

#include "sys/error.h"
#include "test_util.h"

using netmon::Error;
using netmon::parse_proc_netmon;
using netmon::ProcRow;
using testing::HasSubstr;

namespace {

constexpr const char* kHeader = netmon::test::kProcNetmonHeader;

std::string fixture(const std::string& name) {
  std::ifstream in(netmon::test::fixture_path("proc/" + name), std::ios::binary);
  EXPECT_TRUE(in) << name;
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

// The message of the Error parsing `text` throws, or "" if it parses.
std::string error_of(const std::string& text, const std::string& origin = "/proc/netmon") {
  try {
    parse_proc_netmon(text, origin);
  } catch (const Error& e) {
    return e.what();
  }
  return "";
}

}  // namespace

TEST(ProcFormat, ParsesTheModulesOutput) {
  auto rows = parse_proc_netmon(fixture("basic"), "/proc/netmon");
  ASSERT_EQ(rows.size(), 2u);
  EXPECT_EQ(rows[0].name, "lo");
  EXPECT_EQ(rows[0].ifindex, 1);
  EXPECT_EQ(rows[0].counters, (netmon::Counters{123456, 789, 123456, 789}));
  EXPECT_EQ(rows[1].name, "eth0");
  EXPECT_EQ(rows[1].ifindex, 2);
  EXPECT_EQ(rows[1].counters, (netmon::Counters{98765432109ULL, 4321, 1234567, 89}));
}

TEST(ProcFormat, NoInterfacesIsAnEmptyTable) {
  EXPECT_TRUE(parse_proc_netmon(fixture("no-interfaces"), "x").empty());
}

TEST(ProcFormat, ColumnsGoByTheHeaderAndUnknownOnesAreSkipped) {
  auto rows = parse_proc_netmon(fixture("reordered-extra-columns"), "x");
  ASSERT_EQ(rows.size(), 1u);
  EXPECT_EQ(rows[0].name, "eth0");
  EXPECT_EQ(rows[0].ifindex, 2);
  EXPECT_EQ(rows[0].counters, (netmon::Counters{6, 7, 8, 9}));
}

TEST(ProcFormat, MinorVersionAndExtraColumnAreCompatible) {
  auto rows = parse_proc_netmon(fixture("minor-version-extra-column"), "x");
  ASSERT_EQ(rows.size(), 1u);
  EXPECT_EQ(rows[0].name, "wwan0");
  EXPECT_EQ(rows[0].counters, (netmon::Counters{1, 2, 3, 4}));
}

TEST(ProcFormat, FullU64RangeIsExact) {
  auto rows = parse_proc_netmon(fixture("u64-max"), "x");
  ASSERT_EQ(rows.size(), 1u);
  EXPECT_EQ(rows[0].counters.rx_bytes, UINT64_MAX);
  EXPECT_EQ(rows[0].counters.rx_packets, UINT64_MAX);
}

TEST(ProcFormat, TabsAndRunsOfSpacesSeparateFields) {
  auto rows = parse_proc_netmon(std::string(kHeader) + "eth0\t2  1 2\t3 4 0 0 0 0\n", "x");
  ASSERT_EQ(rows.size(), 1u);
  EXPECT_EQ(rows[0].counters, (netmon::Counters{1, 2, 3, 4}));
}

TEST(ProcFormat, InterfaceNamesMayHoldHashAndDots) {
  // '#' is a legal interface name character: after the header, every
  // non-blank line is a row, never a comment.
  auto rows = parse_proc_netmon(std::string(kHeader) + "#x.1 9 1 2 3 4 0 0 0 0\n", "x");
  ASSERT_EQ(rows.size(), 1u);
  EXPECT_EQ(rows[0].name, "#x.1");
}

TEST(ProcFormat, DuplicateIfindexRowsAreKeptForTheCaller) {
  auto rows =
      parse_proc_netmon(std::string(kHeader) + "a 3 1 1 1 1 0 0 0 0\na 3 2 2 2 2 0 0 0 0\n", "x");
  EXPECT_EQ(rows.size(), 2u);
}

TEST(ProcFormat, NewerMajorVersionIsRefusedClearly) {
  EXPECT_EQ(error_of(fixture("newer-format")),
            "/proc/netmon:1: written by a newer netmon_proc (format 2); this agent reads format 1");
  EXPECT_THAT(error_of("# netmon 99999999999999999999999\n"), HasSubstr("newer netmon_proc"));
}

struct BadFile {
  const char* fixture;
  const char* message;  // exact, origin "/proc/netmon"
};

void PrintTo(const BadFile& bad, std::ostream* os) { *os << bad.fixture; }

class ProcFormatBadFile : public testing::TestWithParam<BadFile> {};

TEST_P(ProcFormatBadFile, IsAnErrorNamingTheLine) {
  EXPECT_EQ(error_of(fixture(GetParam().fixture)), GetParam().message);
}

INSTANTIATE_TEST_SUITE_P(
    Fixtures, ProcFormatBadFile,
    testing::Values(
        BadFile{"bad-number", "/proc/netmon:4: rx_bytes '12a' is not an unsigned decimal number"},
        BadFile{"overflow",
                "/proc/netmon:3: rx_bytes '18446744073709551616' does not fit in 64 bits"},
        BadFile{"negative", "/proc/netmon:3: rx_bytes '-1' is not an unsigned decimal number"},
        BadFile{"short-row", "/proc/netmon:3: expected 10 fields as in the header, found 9"},
        BadFile{"no-marker",
                "/proc/netmon:1: missing the '# netmon <version>' marker: not a netmon_proc "
                "file"},
        BadFile{"no-header",
                "/proc/netmon:2: missing the column header ('# iface ifindex rx_bytes ...')"},
        BadFile{"missing-column", "/proc/netmon:2: column header lacks tx_packets"},
        BadFile{"no-trailing-newline",
                "/proc/netmon:3: incomplete last line (no newline): file cut short?"},
        BadFile{"bad-ifindex", "/proc/netmon:3: ifindex 0 is out of range"}),
    [](const testing::TestParamInfo<BadFile>& info) {
      std::string name = info.param.fixture;
      for (char& c : name)
        if (c == '-') c = '_';
      return name;
    });

TEST(ProcFormat, MoreMalformedInputs) {
  EXPECT_EQ(error_of("", "copy"), "copy:1: empty file: not written by netmon_proc");
  EXPECT_THAT(error_of("# netmon\n"), HasSubstr(":1: missing the '# netmon <version>' marker"));
  EXPECT_THAT(error_of("# netmon 0\n"), HasSubstr(":1: invalid format version '0'"));
  EXPECT_THAT(error_of("# netmon x\n"), HasSubstr(":1: invalid format version 'x'"));
  EXPECT_THAT(error_of("# netmon 1.\n"), HasSubstr(":1: invalid format version '1.'"));
  EXPECT_THAT(error_of("# netmon 1\n"), HasSubstr(":2: missing the column header"));
  EXPECT_THAT(error_of("# netmon 1\n# iface ifindex rx_bytes rx_bytes rx_packets tx_bytes "
                       "tx_packets\n"),
              HasSubstr(":2: column 'rx_bytes' appears twice"));
  EXPECT_THAT(error_of("# netmon 1\n#\n"),
              HasSubstr(":2: column header lacks iface, ifindex, rx_bytes, rx_packets, tx_bytes, "
                        "tx_packets"));
  EXPECT_THAT(error_of(std::string(kHeader) + "eth0 2 +1 2 3 4 0 0 0 0\n"),
              HasSubstr(":3: rx_bytes '+1' is not"));
  EXPECT_THAT(error_of(std::string(kHeader) + "eth0 2 0x10 2 3 4 0 0 0 0\n"),
              HasSubstr(":3: rx_bytes '0x10' is not"));
  EXPECT_THAT(error_of(std::string(kHeader) + "eth0 2 1 2 3 4 0 0 0 0 5\n"),
              HasSubstr(":3: expected 10 fields as in the header, found 11"));
  // Known columns beyond the four counters are still checked.
  EXPECT_THAT(error_of(std::string(kHeader) + "eth0 2 1 2 3 4 0 0 x 0\n"),
              HasSubstr(":3: rx_dropped 'x' is not"));
  EXPECT_THAT(error_of(std::string(kHeader) + "eth0 2147483648 1 2 3 4 0 0 0 0\n"),
              HasSubstr(":3: ifindex 2147483648 is out of range"));
  EXPECT_THAT(error_of(std::string(kHeader) + "abcdefghijklmnop 2 1 2 3 4 0 0 0 0\n"),
              HasSubstr(":3: 'abcdefghijklmnop' is not an interface name"));
  EXPECT_THAT(error_of(std::string(kHeader) + "a/b 2 1 2 3 4 0 0 0 0\n"),
              HasSubstr("'a/b' is not an interface name"));
}

TEST(ProcFormat, MessagesStayOneShortPrintableLine) {
  std::string garbage(std::string(kHeader) + "eth0 2 " + std::string(5000, '9') + "\x01\n" +
                      " 2 3 4 0 0 0 0\n");
  std::string message = error_of(std::string(kHeader) + "eth0 2 \x01\xff" + std::string(100, 'z') +
                                 " 2 3 4 0 0 0 0\n");
  EXPECT_THAT(message, HasSubstr("'\\x01\\xffzzzzzzzzzzzzzzzzzzzzzzzzzzzzzz...'"));
  EXPECT_EQ(message.find('\n'), std::string::npos);
  EXPECT_LT(error_of(garbage).size(), 200u);
}

TEST(ProcFormat, BlankLinesAndCarriageReturnsAreHarmless) {
  auto rows = parse_proc_netmon(std::string(kHeader) + "\neth0 2 1 2 3 4 0 0 0 0\r\n   \n", "x");
  ASSERT_EQ(rows.size(), 1u);
  EXPECT_EQ(rows[0].counters, (netmon::Counters{1, 2, 3, 4}));
}
