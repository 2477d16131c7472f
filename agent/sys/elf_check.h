// A look at an ELF image's header before libbpf parses it: a BPF object
// built for the other byte order (bpfeb on a little-endian router, say)
// would otherwise fail deep inside libbpf with a message about BTF or
// relocations that names neither cause nor fix.
#pragma once

#include <string>
#include <string_view>

namespace netmon {

// Why `elf` cannot be loaded on this machine, or "" when its header is a
// 64-bit or 32-bit ELF of this machine's byte order (e_ident[EI_DATA]).
std::string elf_byte_order_problem(std::string_view elf);

}  // namespace netmon
