// Writes the object a big-endian skeleton embeds (netmon__elf_bytes()) to
// stdout, so bpf-byte-order.sh can compare it with the bpfeb object. Includes
// the skeleton the way agent/bpf_source.cpp does, inside a namespace and
// through the same C API names, so a skeleton the agent could not compile
// fails here too.
#include <bpf/libbpf.h>
#include <errno.h>
#include <stdlib.h>

#include <cstdio>

namespace netmon_skel {
#include "netmon_be.skel.h"
}  // namespace netmon_skel

int main() {
  size_t size = 0;
  const void* bytes = netmon_skel::netmon__elf_bytes(&size);
  // Opening it needs libbpf >= 1.5 on a little-endian host; only the symbol
  // is taken, to prove the skeleton's API is the agent's.
  auto* open = &netmon_skel::netmon__open;
  if (open == nullptr || size == 0) return 1;
  return std::fwrite(bytes, 1, size, stdout) == size ? 0 : 1;
}
