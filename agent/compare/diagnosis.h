// --compare's words: how counters, deltas and mismatches read on stderr, and
// the likely cause of a mismatch judged from its shape.
#pragma once

#include <array>
#include <cstdint>
#include <string>

#include "core/counters.h"

namespace netmon {

// rx_bytes, rx_packets, tx_bytes, tx_packets: signed, per counter.
using CounterValues = std::array<int64_t, 4>;

inline constexpr const char* kCounterNames[4] = {"rx_bytes", "rx_packets", "tx_bytes",
                                                 "tx_packets"};

// The counter `i` (in kCounterNames order) of `c`.
uint64_t counter_at(const Counters& c, int i);

// "rx_bytes=+100 rx_packets=0 tx_bytes=-14 tx_packets=0".
std::string values_text(const CounterValues& v);

// "rx 100 B/1 pkt, tx 60 B/1 pkt".
std::string counters_text(const Counters& c);

// A likely cause for a quiet mismatch of `delta` (bpf - proc), given proc's
// increments; empty if none fits.
std::string mismatch_hint(const CounterValues& delta, const Counters& proc);

}  // namespace netmon
