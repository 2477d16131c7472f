#include "sources/bpf/bpf_sum.h"

#include <gtest/gtest.h>

#include <cstddef>
#include <cstring>
#include <limits>
#include <vector>

namespace netmon {
namespace {

TEST(BpfSum, AddsEveryCpusCopyFieldByField) {
  std::vector<netmon_counters> per_cpu = {{100, 1, 10, 2}, {0, 0, 0, 0}, {23, 4, 5, 6}};
  Counters total = sum_per_cpu(per_cpu.data(), per_cpu.size());
  EXPECT_EQ(total, (Counters{123, 5, 15, 8}));
}

TEST(BpfSum, NoCpusIsZero) {
  EXPECT_EQ(sum_per_cpu(static_cast<const netmon_counters*>(nullptr), 0), Counters{});
  EXPECT_EQ(sum_per_cpu(static_cast<const uint64_t*>(nullptr), 0), 0u);
}

TEST(BpfSum, ManyCpusAndOnlyTheGivenCount) {
  std::vector<netmon_counters> per_cpu(256, netmon_counters{1, 2, 3, 4});
  per_cpu.push_back({1000, 1000, 1000, 1000});  // beyond ncpus: must be ignored
  EXPECT_EQ(sum_per_cpu(per_cpu.data(), 256), (Counters{256, 512, 768, 1024}));
}

TEST(BpfSum, WrapsLikeTheKernelsCounters) {
  const uint64_t max = std::numeric_limits<uint64_t>::max();
  std::vector<uint64_t> lost = {max, 2};
  EXPECT_EQ(sum_per_cpu(lost.data(), lost.size()), 1u);
}

TEST(BpfSum, ReadsABufferLaidOutAsTheKernelCopiesPerCpuValues) {
  // The kernel copies round_up(value_size, 8) bytes per CPU, field by field
  // in the BPF side's struct order; the sum walks the buffer as an array of
  // netmon_counters, so both strides and field offsets must agree.
  static_assert(sizeof(netmon_counters) == 4 * sizeof(uint64_t));
  constexpr size_t kNcpus = 3;
  const size_t stride = (sizeof(netmon_counters) + 7) / 8 * 8;
  std::vector<uint64_t> storage(kNcpus * stride / 8);
  auto* bytes = reinterpret_cast<unsigned char*>(storage.data());
  for (size_t cpu = 0; cpu < kNcpus; ++cpu) {
    // rx_bytes, rx_packets, tx_bytes, tx_packets of CPU `cpu`, as the kernel
    // would place them: at the fields' offsets within that CPU's slot.
    const uint64_t fields[4] = {1000 * (cpu + 1), cpu + 1, 100 * (cpu + 1), 10 * (cpu + 1)};
    const size_t offsets[4] = {
        offsetof(netmon_counters, rx_bytes), offsetof(netmon_counters, rx_packets),
        offsetof(netmon_counters, tx_bytes), offsetof(netmon_counters, tx_packets)};
    for (int f = 0; f < 4; ++f)
      std::memcpy(bytes + cpu * stride + offsets[f], &fields[f], sizeof(uint64_t));
  }
  Counters total = sum_per_cpu(reinterpret_cast<const netmon_counters*>(bytes), kNcpus);
  EXPECT_EQ(total, (Counters{6000, 6, 600, 60}));
}

}  // namespace
}  // namespace netmon
