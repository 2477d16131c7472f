#include "sys/elf_check.h"

#include <elf.h>

namespace netmon {
namespace {

constexpr unsigned char kHostData =
#if __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
    ELFDATA2LSB;
#else
    ELFDATA2MSB;
#endif

const char* order_name(unsigned char data) {
  return data == ELFDATA2LSB ? "little-endian" : data == ELFDATA2MSB ? "big-endian" : "unknown";
}

}  // namespace

std::string elf_byte_order_problem(std::string_view elf) {
  if (elf.size() < EI_NIDENT || elf.compare(0, SELFMAG, ELFMAG) != 0) return "not an ELF object";
  const auto data = static_cast<unsigned char>(elf[EI_DATA]);
  if (data == kHostData) return "";
  return std::string(order_name(data)) + " ELF object on a " + order_name(kHostData) +
         " machine (built for another architecture; rebuild the BPF object for this target)";
}

}  // namespace netmon
