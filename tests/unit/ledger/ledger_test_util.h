// Helpers for the ledger tests: a time zone for the duration of a test, a
// scratch directory, and local times written as text.
#pragma once

#include <gtest/gtest.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

#include <cstdint>
#include <filesystem>
#include <string>

namespace netmon::ledger::test {

class ScopedTz {
 public:
  explicit ScopedTz(const char* tz) {
    const char* old = getenv("TZ");
    had_ = old != nullptr;
    if (had_) old_ = old;
    setenv("TZ", tz, 1);
    tzset();
  }
  ~ScopedTz() {
    if (had_)
      setenv("TZ", old_.c_str(), 1);
    else
      unsetenv("TZ");
    tzset();
  }

 private:
  bool had_ = false;
  std::string old_;
};

// Local time "YYYY-MM-DD HH:MM:SS" to Unix seconds (in the current TZ).
// `isdst` picks a side of an ambiguous hour (-1: let mktime choose).
inline int64_t local(const char* text, int isdst = -1) {
  struct tm tm {};
  if (!strptime(text, "%Y-%m-%d %H:%M:%S", &tm)) ADD_FAILURE() << "bad time " << text;
  tm.tm_isdst = isdst;
  return static_cast<int64_t>(mktime(&tm));
}

class TempDir {
 public:
  TempDir() {
    std::string tmpl = (std::filesystem::temp_directory_path() / "netmon-ledger-XXXXXX").string();
    path_ = mkdtemp(tmpl.data()) ? tmpl : "";
    EXPECT_FALSE(path_.empty());
  }
  ~TempDir() {
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
  }
  const std::string& path() const { return path_; }
  std::string file(const std::string& name) const { return path_ + "/" + name; }

 private:
  std::string path_;
};

}  // namespace netmon::ledger::test
