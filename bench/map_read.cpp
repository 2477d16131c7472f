// What reading the counters costs: one bpf_map_lookup_batch over the first N
// slots of a per-CPU array shaped like netmon's, against N per-key lookups.
// Sets BpfSource's choice between the two (kBatchSlotsPerLookup).
//
// usage: netmon_bench_map_read [SLOTS...]   (default 1 16 64 256 1024 4096)
// prints per N: slots=N batch_us=.. per_key_us=.. batch_ns_per_slot=.. per_key_ns=..
#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <vector>

#include "sys/error.h"
#include "sys/fd.h"
#include "netmon/abi.h"

namespace netmon {
namespace {

using Clock = std::chrono::steady_clock;

double micros_since(Clock::time_point start, int repeats) {
  return std::chrono::duration<double, std::micro>(Clock::now() - start).count() / repeats;
}

int run(int argc, char** argv) {
  std::vector<uint32_t> sizes;
  for (int i = 1; i < argc; ++i) sizes.push_back(static_cast<uint32_t>(std::atoi(argv[i])));
  if (sizes.empty()) sizes = {1, 16, 64, 256, 1024, 4096};
  uint32_t entries = 0;
  for (uint32_t n : sizes) entries = std::max(entries, n);

  const int ncpus = libbpf_num_possible_cpus();
  Fd map(bpf_map_create(BPF_MAP_TYPE_PERCPU_ARRAY, "netmon_bench", sizeof(uint32_t),
                        sizeof(netmon_counters), entries, nullptr));
  if (!map) throw Error(errno_message("failed to create the map", errno));
  printf("# %d possible cpus, %zu-byte values\n", ncpus, sizeof(netmon_counters));

  std::vector<uint32_t> keys(entries);
  std::vector<netmon_counters> values(size_t{entries} * ncpus);
  for (uint32_t n : sizes) {
    const int repeats = std::max(20, 20000 / static_cast<int>(n));
    auto start = Clock::now();
    for (int r = 0; r < repeats; ++r) {
      uint32_t count = n;
      uint32_t next = 0;
      LIBBPF_OPTS(bpf_map_batch_opts, opts);
      int err = bpf_map_lookup_batch(map.get(), nullptr, &next, keys.data(), values.data(), &count,
                                     &opts);
      if ((err != 0 && errno != ENOENT) || count != n)
        throw Error(errno_message("batch lookup failed", errno));
    }
    const double batch_us = micros_since(start, repeats);
    start = Clock::now();
    for (int r = 0; r < repeats; ++r)
      for (uint32_t key = 0; key < n; ++key)
        if (bpf_map_lookup_elem(map.get(), &key, &values[size_t{key} * ncpus]) != 0)
          throw Error(errno_message("lookup failed", errno));
    const double per_key_us = micros_since(start, repeats);
    printf("slots=%u batch_us=%.1f per_key_us=%.1f batch_ns_per_slot=%.0f per_key_ns=%.0f\n", n,
           batch_us, per_key_us, batch_us * 1000 / n, per_key_us * 1000 / n);
  }
  return 0;
}

}  // namespace
}  // namespace netmon

int main(int argc, char** argv) {
  try {
    return netmon::run(argc, argv);
  } catch (const netmon::Error& e) {
    fprintf(stderr, "netmon_bench_map_read: %s\n", e.what());
    return 1;
  }
}
