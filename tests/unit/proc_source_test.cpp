#include "sources/proc/proc_source.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdlib>
#include <fstream>
#include <functional>
#include <memory>

#include "core/snapshot.h"
#include "sys/error.h"
#include "test_util.h"

using netmon::CounterMap;
using netmon::Counters;
using netmon::Error;
using netmon::Link;
using netmon::ProcSource;
using testing::HasSubstr;

namespace {

constexpr const char* kHeader = netmon::test::kProcNetmonHeader;

// A file standing in for /proc/netmon, as --proc-file PATH would name it.
class TempProcFile {
 public:
  TempProcFile() {
    char path[] = "/tmp/netmon_proc_test.XXXXXX";
    int fd = mkstemp(path);
    EXPECT_GE(fd, 0);
    close(fd);
    path_ = path;
  }
  ~TempProcFile() { unlink(path_.c_str()); }
  void write(const std::string& text) const { std::ofstream(path_, std::ios::trunc) << text; }
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

using netmon::test::error_of;

}  // namespace

TEST(ProcSource, MissingModuleAtStartUpSaysWhatToDo) {
  if (access(netmon::kDefaultProcPath, F_OK) == 0) GTEST_SKIP() << "netmon_proc is loaded here";
  EXPECT_EQ(error_of([] { ProcSource source; }),
            "/proc/netmon not found: load the module (insmod netmon_proc.ko) or use "
            "--netdev/--bpf");
}

TEST(ProcSource, MissingProcFileIsAnError) {
  EXPECT_EQ(error_of([] { ProcSource source("/nonexistent/netmon"); }),
            "cannot open /nonexistent/netmon: No such file or directory");
}

TEST(ProcSource, MalformedFileFailsAtStartUpNamingFileAndLine) {
  TempProcFile file;
  file.write(std::string(kHeader) + "eth0 2 1 2 3\n");
  EXPECT_EQ(error_of([&] { ProcSource source(file.path()); }),
            file.path() + ":3: expected 10 fields as in the header, found 5");
}

TEST(ProcSource, NewerFormatFailsAtStartUp) {
  TempProcFile file;
  file.write("# netmon 2\n# iface ifindex rx_bytes rx_packets tx_bytes tx_packets\n");
  EXPECT_THAT(error_of([&] { ProcSource source(file.path()); }),
              HasSubstr(":1: written by a newer netmon_proc (format 2)"));
}

TEST(ProcSource, RowsAreMatchedToLinksByIfindexAndName) {
  TempProcFile file;
  file.write(std::string(kHeader) +
             "lo 1 10 1 10 1 0 0 0 0\n"
             "eth0 2 100 2 200 3 0 0 0 0\n"
             "other 7 5 5 5 5 0 0 0 0\n");
  ProcSource source(file.path());
  EXPECT_STREQ(source.kind(), "proc");
  // eth0 is there; wwan0 has no row (module loaded with iface=...); ifindex
  // 7 is someone else's interface (another network namespace).
  CounterMap got = source.read({{2, "eth0"}, {3, "wwan0"}, {7, "mine"}});
  ASSERT_EQ(got.size(), 1u);
  EXPECT_EQ(got.at(2), (Counters{100, 2, 200, 3}));
  EXPECT_EQ(source.read({}).size(), 0u);
}

TEST(ProcSource, EachReadSeesTheCurrentFile) {
  TempProcFile file;
  file.write(std::string(kHeader) + "eth0 2 1 1 1 1 0 0 0 0\n");
  ProcSource source(file.path());
  EXPECT_EQ(source.read({{2, "eth0"}}).at(2), (Counters{1, 1, 1, 1}));
  file.write(std::string(kHeader) + "eth0 2 5 6 7 8 0 0 0 0\n");
  EXPECT_EQ(source.read({{2, "eth0"}}).at(2), (Counters{5, 6, 7, 8}));
}

TEST(ProcSource, LaterDuplicateRowWins) {
  TempProcFile file;
  file.write(std::string(kHeader) + "eth0 2 1 1 1 1 0 0 0 0\neth0 2 9 9 9 9 0 0 0 0\n");
  ProcSource source(file.path());
  EXPECT_EQ(source.read({{2, "eth0"}}).at(2), (Counters{9, 9, 9, 9}));
}

TEST(ProcSource, FileVanishingLaterIsAnError) {
  auto file = std::make_unique<TempProcFile>();
  file->write(std::string(kHeader));
  ProcSource source(file->path());
  std::string path = file->path();
  file.reset();  // module unloaded
  EXPECT_EQ(error_of([&] {
              source.read({{2, "eth0"}});
            }),
            path + " disappeared (netmon_proc unloaded?); counters can no longer be read");
}

// Issue 13, 2.7: `cat > f` or scp rewriting the file in place: a reader
// sees it empty or cut short for a moment. That reading is skipped (the
// previous one is kept) and the next tick reads the new file.
TEST(ProcSource, FileRewrittenInPlaceIsSkippedThenReadAgain) {
  TempProcFile file;
  file.write(std::string(kHeader) + "eth0 2 1 1 1 1 0 0 0 0\n");
  ProcSource source(file.path());
  for (const std::string& transient :
       {std::string(), std::string("# net"), std::string(kHeader).substr(0, 12),
        std::string(kHeader) + "eth0 2 5 6 7"}) {
    file.write(transient);
    CounterMap got;
    EXPECT_NO_THROW(got = source.read({{2, "eth0"}})) << "'" << transient << "'";
    EXPECT_EQ(got.at(2), (Counters{1, 1, 1, 1})) << "the previous reading";
  }
  file.write(std::string(kHeader) + "eth0 2 5 6 7 8 0 0 0 0\n");
  EXPECT_EQ(source.read({{2, "eth0"}}).at(2), (Counters{5, 6, 7, 8}));
  // A second rewrite later gets the same grace again.
  file.write("");
  EXPECT_EQ(source.read({{2, "eth0"}}).at(2), (Counters{5, 6, 7, 8}));
}

// ...but a file that stays malformed is an error once the grace is over.
TEST(ProcSource, FileStayingMalformedIsAnErrorAfterTheGrace) {
  TempProcFile file;
  file.write(std::string(kHeader));
  ProcSource source(file.path(), std::chrono::milliseconds(200));
  file.write(std::string(kHeader) + "eth0 2 1 1 1\n");
  EXPECT_NO_THROW(source.read({{2, "eth0"}}));
  usleep(250'000);
  EXPECT_THAT(error_of([&] {
                source.read({{2, "eth0"}});
              }),
              testing::AllOf(HasSubstr(":3: expected 10 fields"), HasSubstr("2 readings)")));
}

TEST(ProcSource, NewerFormatLaterIsAnErrorAtOnce) {
  TempProcFile file;
  file.write(std::string(kHeader));
  ProcSource source(file.path());
  file.write("# netmon 2\n# iface ifindex\n");
  EXPECT_THAT(error_of([&] { source.read({{2, "eth0"}}); }), HasSubstr("newer netmon_proc"));
}

// Issue 13, 2.6: --proc-file /dev/zero ended in std::bad_alloc after ~530 MB.
TEST(ProcSource, DeviceOrFifoIsRefused) {
  EXPECT_EQ(error_of([] { ProcSource source("/dev/zero"); }),
            "cannot read /dev/zero: not a regular file (a character device)");
  TempProcFile dir_holder;
  std::string fifo = dir_holder.path() + ".fifo";
  ASSERT_EQ(mkfifo(fifo.c_str(), 0600), 0);
  EXPECT_EQ(error_of([&] { ProcSource source(fifo); }),
            "cannot read " + fifo + ": not a regular file (a FIFO)");
  unlink(fifo.c_str());
}

TEST(ProcSource, ReadIsBounded) {
  TempProcFile file;
  // Sparse: 64 MiB + 1 of NULs costs no disk.
  ASSERT_EQ(truncate(file.path().c_str(), static_cast<off_t>(netmon::kMaxProcFileBytes) + 1), 0);
  EXPECT_EQ(error_of([&] { ProcSource source(file.path()); }),
            file.path() + ": larger than 64 MiB: not a /proc/netmon file");
}

TEST(ProcSource, LargeFilesAreReadWhole) {
  TempProcFile file;
  std::string text = kHeader;
  for (int i = 1; i <= 3000; ++i)
    text += "if" + std::to_string(i) + " " + std::to_string(i) + " " + std::to_string(i) +
            " 1 2 3 0 0 0 0\n";
  file.write(text);
  ProcSource source(file.path());
  CounterMap got = source.read({{1, "if1"}, {3000, "if3000"}});
  ASSERT_EQ(got.size(), 2u);
  EXPECT_EQ(got.at(3000).rx_bytes, 3000u);
}

TEST(ProcSource, A32BitCounterThatWrappedBetweenReadingsIsARateNotAReset) {
  // A 32-bit router's driver counters, as /proc/netmon (or /proc/net/dev)
  // shows them: rx_bytes just below 2^32, then past it.
  TempProcFile file;
  file.write(std::string(kHeader) + "eth0 2 4294967000 100 5000 10 0 0 0 0\n");
  ProcSource source(file.path());
  netmon::SnapshotBuilder builder("proc");
  const std::vector<Link> links = {{2, "eth0"}};
  builder.build(links, source.read(links), 0, 0);
  file.write(std::string(kHeader) + "eth0 2 704 102 5000 10 0 0 0 0\n");
  auto s = builder.build(links, source.read(links), 1'000'000'000, 1000);
  ASSERT_EQ(s.interfaces.size(), 1u);
  EXPECT_EQ(s.interfaces[0].totals.rx_bytes, 704u);          // totals as read
  EXPECT_DOUBLE_EQ(s.interfaces[0].rates.rx_bps, 1000 * 8);  // 296 + 704 bytes
  EXPECT_DOUBLE_EQ(s.interfaces[0].rates.rx_pps, 2);
  // A fall from far below 2^32 to near zero is a re-created interface.
  file.write(std::string(kHeader) + "eth0 2 3 1 0 0 0 0 0 0\n");
  s = builder.build(links, source.read(links), 2'000'000'000, 2000);
  EXPECT_DOUBLE_EQ(s.interfaces[0].rates.rx_bps, 0);
  EXPECT_DOUBLE_EQ(s.interfaces[0].rates.tx_pps, 0);
}
