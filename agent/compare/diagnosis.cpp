#include "compare/diagnosis.h"

namespace netmon {
namespace {

constexpr int64_t kEthHeader = 14;

}  // namespace

uint64_t counter_at(const Counters& c, int i) {
  switch (i) {
    case 0:
      return c.rx_bytes;
    case 1:
      return c.rx_packets;
    case 2:
      return c.tx_bytes;
    default:
      return c.tx_packets;
  }
}

std::string values_text(const CounterValues& v) {
  std::string out;
  for (int i = 0; i < 4; ++i) {
    if (i) out += ' ';
    out += kCounterNames[i];
    out += '=';
    if (v[i] > 0) out += '+';
    out += std::to_string(v[i]);
  }
  return out;
}

std::string counters_text(const Counters& c) {
  return "rx " + std::to_string(c.rx_bytes) + " B/" + std::to_string(c.rx_packets) + " pkt, tx " +
         std::to_string(c.tx_bytes) + " B/" + std::to_string(c.tx_packets) + " pkt";
}

std::string mismatch_hint(const CounterValues& delta, const Counters& proc) {
  for (int dir = 0; dir < 2; ++dir) {
    const int64_t bytes = delta[dir * 2], packets = delta[dir * 2 + 1];
    const auto count = static_cast<int64_t>(counter_at(proc, dir * 2 + 1));
    if (packets != 0 || count == 0 || bytes == 0) continue;
    // Compared by division, not by multiplying count: no overflow for any
    // counter value.
    if (bytes > 0 && bytes % kEthHeader == 0 && bytes / kEthHeader == count)
      return "bytes differ by 14 per packet: the device does not count the Ethernet header "
             "(native XDP or GRO on a veth?)";
    if (bytes < 0 && bytes % 4 == 0 && bytes / -4 == count)
      return "bytes differ by 4 per packet: the driver counts the FCS";
  }
  if ((delta[1] > 0 || delta[3] > 0) && delta[0] == 0 && delta[2] == 0)
    return "same bytes, more packets in bpf: it counts GSO segments, the device counts skbs";
  if (delta[0] <= 0 && delta[1] <= 0 && delta[2] <= 0 && delta[3] <= 0)
    return "the device counted traffic tc never saw (hardware offload, XDP drop/redirect)";
  if (delta[0] >= 0 && delta[1] >= 0 && delta[2] >= 0 && delta[3] >= 0)
    return "tc saw traffic the device never counted (qdisc drops, carrier down?)";
  return "";
}

}  // namespace netmon
