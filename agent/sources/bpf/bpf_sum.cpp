#include "sources/bpf/bpf_sum.h"

namespace netmon {

Counters sum_per_cpu(const netmon_counters* per_cpu, size_t ncpus) {
  Counters total;
  for (size_t cpu = 0; cpu < ncpus; ++cpu) {
    total.rx_bytes += per_cpu[cpu].rx_bytes;
    total.rx_packets += per_cpu[cpu].rx_packets;
    total.tx_bytes += per_cpu[cpu].tx_bytes;
    total.tx_packets += per_cpu[cpu].tx_packets;
  }
  return total;
}

uint64_t sum_per_cpu(const uint64_t* per_cpu, size_t ncpus) {
  uint64_t total = 0;
  for (size_t cpu = 0; cpu < ncpus; ++cpu) total += per_cpu[cpu];
  return total;
}

}  // namespace netmon
