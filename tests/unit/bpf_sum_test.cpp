#include "sources/bpf/bpf_sum.h"

#include <gtest/gtest.h>

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

TEST(BpfSum, LayoutMatchesTheKernelsPerCpuStride) {
  // The kernel copies round_up(value_size, 8) bytes per CPU; the sum walks
  // the buffer as an array, so the struct must have no padding to differ.
  static_assert(sizeof(netmon_counters) % 8 == 0);
  static_assert(sizeof(netmon_counters) == 4 * sizeof(uint64_t));
}

}  // namespace
}  // namespace netmon
