// Small helpers shared by the unit tests.
#pragma once

#include <functional>
#include <string>

#include "sys/error.h"

namespace netmon::test {

// The Error message of f(), or "" when it does not throw.
inline std::string error_of(const std::function<void()>& f) {
  try {
    f();
  } catch (const Error& e) {
    return e.what();
  }
  return "";
}

// The absolute path of a file under tests/fixtures/.
inline std::string fixture_path(const std::string& relative) {
  return std::string(NETMON_FIXTURES) + "/" + relative;
}

// The first two lines of /proc/netmon, as netmon_proc.ko writes them.
constexpr const char* kProcNetmonHeader =
    "# netmon 1\n"
    "# iface ifindex rx_bytes rx_packets tx_bytes tx_packets rx_errors tx_errors rx_dropped "
    "tx_dropped\n";

}  // namespace netmon::test
