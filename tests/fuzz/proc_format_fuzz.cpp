// libFuzzer target for the /proc/netmon parser: whatever the bytes, it
// either returns rows or throws netmon::Error with a one-line message; it
// never crashes, and a number it returns is a number that is in the input.
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>

#include "sources/proc/proc_format.h"
#include "sys/error.h"

namespace {

[[noreturn]] void fail(const char* what, const std::string& detail) {
  std::fprintf(stderr, "proc_format_fuzz: %s: %s\n", what, detail.c_str());
  std::abort();
}

// The same rows in the module's own layout.
std::string canonical(const std::vector<netmon::ProcRow>& rows) {
  std::string out = "# netmon 1\n# iface ifindex rx_bytes rx_packets tx_bytes tx_packets\n";
  for (const netmon::ProcRow& r : rows)
    out += r.name + " " + std::to_string(r.ifindex) + " " + std::to_string(r.counters.rx_bytes) +
           " " + std::to_string(r.counters.rx_packets) + " " + std::to_string(r.counters.tx_bytes) +
           " " + std::to_string(r.counters.tx_packets) + "\n";
  return out;
}

bool appears(std::string_view text, uint64_t value) {
  return text.find(std::to_string(value)) != std::string_view::npos;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view text(reinterpret_cast<const char*>(data), size);
  std::vector<netmon::ProcRow> rows;
  try {
    rows = netmon::parse_proc_netmon(text, "/proc/netmon");
  } catch (const netmon::Error& e) {
    std::string_view message = e.what();
    if (message.rfind("/proc/netmon:", 0) != 0) fail("message without origin", e.what());
    if (message.find('\n') != std::string_view::npos) fail("multi-line message", e.what());
    if (message.size() > 256) fail("overlong message", e.what());
    return 0;
  }
  for (const netmon::ProcRow& r : rows) {
    if (r.name.empty() || r.ifindex <= 0) fail("bad row", r.name);
    if (text.find(r.name) == std::string_view::npos) fail("name not in input", r.name);
    const netmon::Counters& c = r.counters;
    if (!appears(text, c.rx_bytes) || !appears(text, c.rx_packets) || !appears(text, c.tx_bytes) ||
        !appears(text, c.tx_packets))
      fail("counter not in input", r.name);
  }
  // What parsed must survive a round trip through the canonical layout.
  std::vector<netmon::ProcRow> again = netmon::parse_proc_netmon(canonical(rows), "canonical");
  if (again.size() != rows.size()) fail("round trip lost rows", std::to_string(rows.size()));
  for (size_t i = 0; i < rows.size(); ++i)
    if (again[i].name != rows[i].name || again[i].ifindex != rows[i].ifindex ||
        again[i].counters != rows[i].counters)
      fail("round trip changed a row", rows[i].name);
  return 0;
}
