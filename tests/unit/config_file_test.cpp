#include <fcntl.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <functional>
#include <future>

#include "config/netmon_conf.h"
#include "sys/error.h"
#include "test_util.h"

namespace netmon {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;
using ::testing::StartsWith;

std::string fixture(const std::string& name) { return test::fixture_path("netmon_conf/" + name); }

using test::error_of;

std::vector<std::string> load(const std::string& name) {
  auto patterns = load_config_file(fixture(name));
  EXPECT_TRUE(patterns.has_value()) << name;
  return patterns.value_or(std::vector<std::string>{});
}

std::string load_error(const std::string& name) {
  return error_of([&] { load_config_file(fixture(name)); });
}

TEST(ConfigFile, SeedFileHoldingOneName) {
  EXPECT_THAT(load("seed.conf"), ElementsAre("rmnet_data0"));
}

TEST(ConfigFile, NamesGlobsExclusionsAndComments) {
  EXPECT_THAT(load("globs.conf"), ElementsAre("eth0", "wlan?", "veth*", "!veth9", "br-lan"));
}

TEST(ConfigFile, AllAndExclusions) {
  EXPECT_THAT(load("all_but.conf"), ElementsAre("all", "!lo"));
  EXPECT_THAT(load("exclude_only.conf"), ElementsAre("!lo", "!docker*"));
}

TEST(ConfigFile, OnlyCommentsOrNothingIsEmpty) {
  EXPECT_THAT(load("comments_only.conf"), IsEmpty());
  EXPECT_THAT(load("empty.conf"), IsEmpty());
}

TEST(ConfigFile, CrlfLineEndings) {
  EXPECT_THAT(load("crlf.conf"), ElementsAre("rmnet_data0", "wwan0"));
}

TEST(ConfigFile, CommentInsideAWordEndsIt) {
  EXPECT_THAT(parse_config_file("eth0#lan wlan0\nwwan0", "t"), ElementsAre("eth0", "wwan0"));
}

TEST(ConfigFile, ByteOrderMarkIsSkipped) {
  EXPECT_THAT(parse_config_file("\xEF\xBB\xBFwwan0\n", "t"), ElementsAre("wwan0"));
}

TEST(ConfigFile, MissingFileIsNotAnError) {
  EXPECT_FALSE(load_config_file(fixture("does-not-exist.conf")).has_value());
  EXPECT_FALSE(load_config_file(fixture("seed.conf/below-a-file")).has_value());
}

TEST(ConfigFile, BinaryGarbageNamesFileAndLine) {
  EXPECT_EQ(load_error("binary.conf"), fixture("binary.conf") + ":2: not a text file (NUL byte)");
}

TEST(ConfigFile, InvalidUtf8) {
  EXPECT_EQ(load_error("latin1.conf"),
            fixture("latin1.conf") + ":1: not a text file (invalid UTF-8)");
}

TEST(ConfigFile, ControlCharacter) {
  EXPECT_EQ(load_error("control.conf"),
            fixture("control.conf") + ":2: not a text file (control character 0x1b)");
}

TEST(ConfigFile, NameTooLongForIfnamsiz) {
  EXPECT_EQ(load_error("too_long.conf"),
            fixture("too_long.conf") +
                ":3: invalid interface 'abcdefghijklmnop': longer than 15 characters (IFNAMSIZ)");
}

TEST(ConfigFile, InvalidTokens) {
  EXPECT_THAT(load_error("colon.conf"),
              StartsWith(fixture("colon.conf") + ":2: invalid interface 'eth0:1': ':'"));
  EXPECT_THAT(load_error("quoted.conf"),
              StartsWith(fixture("quoted.conf") + ":2: invalid interface ''wwan0'': quotes"));
  EXPECT_THAT(load_error("key_value.conf"),
              StartsWith(fixture("key_value.conf") + ":1: invalid interface 'interface=wwan0'"));
  EXPECT_THAT(load_error("exclude_all.conf"),
              StartsWith(fixture("exclude_all.conf") + ":2: invalid interface '!all'"));
  EXPECT_THAT(error_of([] { parse_config_file("eth0\n\n  ! \n", "f"); }),
              StartsWith("f:3: invalid interface '!'"));
  EXPECT_THAT(error_of([] { parse_config_file("a/b", "f"); }), StartsWith("f:1: "));
  EXPECT_THAT(error_of([] { parse_config_file("..", "f"); }), StartsWith("f:1: "));
}

TEST(ConfigFile, ErrorsAreOneLine) {
  for (const char* name : {"binary.conf", "latin1.conf", "control.conf", "too_long.conf",
                           "colon.conf", "quoted.conf", "key_value.conf"}) {
    std::string msg = load_error(name);
    EXPECT_FALSE(msg.empty()) << name;
    EXPECT_EQ(msg.find('\n'), std::string::npos) << msg;
  }
}

TEST(CheckText, AcceptsUtf8AndRejectsMalformedSequences) {
  EXPECT_NO_THROW(check_text("# caf\xC3\xA9 \xE2\x9C\x93 \xF0\x9F\x98\x80\n\teth0\r\n", "t"));
  EXPECT_THAT(error_of([] { check_text("\xC0\xAF", "t"); }),
              HasSubstr("invalid UTF-8"));  // overlong
  EXPECT_THAT(error_of([] { check_text("\xED\xA0\x80", "t"); }), HasSubstr("invalid UTF-8"));
  EXPECT_THAT(error_of([] { check_text("ok\n\xE2\x9C", "t"); }), StartsWith("t:2: "));  // truncated
  EXPECT_THAT(error_of([] { check_text("\xF4\x90\x80\x80", "t"); }), HasSubstr("invalid UTF-8"));
}

class TempDir {
 public:
  TempDir() {
    char tmpl[] = "/tmp/netmon-config-test-XXXXXX";
    path_ = ::mkdtemp(tmpl);
  }
  ~TempDir() { std::filesystem::remove_all(path_); }
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

TEST(ReadTextFile, DirectoryIsUnreadable) {
  TempDir dir;
  EXPECT_EQ(error_of([&] { read_text_file(dir.path()); }),
            dir.path() + ": cannot read: not a regular file (a directory)");
}

// A FIFO with no writer: open() without O_NONBLOCK would wait forever.
// Run in a thread so that a regression fails the test instead of hanging it.
TEST(ReadTextFile, FifoIsRefusedWithoutWaitingForAWriter) {
  TempDir dir;
  std::string path = dir.path() + "/fifo";
  ASSERT_EQ(mkfifo(path.c_str(), 0600), 0);
  auto result =
      std::async(std::launch::async, [&] { return error_of([&] { read_text_file(path); }); });
  if (result.wait_for(std::chrono::seconds(5)) != std::future_status::ready) {
    // Unblock it (a writer that goes away at once) so the test ends.
    close(open(path.c_str(), O_WRONLY | O_NONBLOCK));
    result.wait();
    FAIL() << "read_text_file blocked on a FIFO";
  }
  EXPECT_EQ(result.get(), path + ": cannot read: not a regular file (a FIFO)");
}

TEST(ReadTextFile, CharacterDeviceIsRefused) {
  EXPECT_EQ(error_of([] { read_text_file("/dev/zero"); }),
            "/dev/zero: cannot read: not a regular file (a character device)");
}

TEST(ReadTextFile, SizeCap) {
  TempDir dir;
  std::string path = dir.path() + "/big";
  std::ofstream(path) << std::string(100, 'a');
  EXPECT_EQ(read_text_file(path, 100)->size(), 100u);
  EXPECT_EQ(error_of([&] { read_text_file(path, 99); }),
            path + ": larger than 99 bytes, not a config file");
}

}  // namespace
}  // namespace netmon
