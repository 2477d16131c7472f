// Per-CPU map values as the kernel hands them to user space: one copy per
// possible CPU, each only ever added to by its own CPU, so an interface's
// total is the plain sum of its copies.
#pragma once

#include <cstddef>
#include <cstdint>

#include "core/counters.h"
#include "netmon/abi.h"

namespace netmon {

// `per_cpu` holds `ncpus` consecutive copies (the kernel rounds each copy up
// to 8 bytes, which both value types already are). Sums wrap like the
// kernel's u64 counters.
Counters sum_per_cpu(const netmon_counters* per_cpu, size_t ncpus);
uint64_t sum_per_cpu(const uint64_t* per_cpu, size_t ncpus);

}  // namespace netmon
