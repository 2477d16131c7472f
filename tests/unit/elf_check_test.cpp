#include "sys/elf_check.h"

#include <elf.h>
#include <gtest/gtest.h>

#include <string>

#include "sources/bpf/bpf_source.h"

using netmon::elf_byte_order_problem;

TEST(ElfCheck, TheEmbeddedObjectIsOfThisMachinesByteOrder) {
  EXPECT_EQ(elf_byte_order_problem(netmon::embedded_bpf_object()), "");
}

TEST(ElfCheck, AByteSwappedObjectIsRefusedInOneLine) {
  std::string elf(netmon::embedded_bpf_object());
  ASSERT_GE(elf.size(), size_t{EI_NIDENT});
  const bool little = elf[EI_DATA] == ELFDATA2LSB;
  elf[EI_DATA] = little ? ELFDATA2MSB : ELFDATA2LSB;
  const std::string problem = elf_byte_order_problem(elf);
  EXPECT_EQ(problem, std::string(little ? "big-endian ELF object on a little-endian machine"
                                        : "little-endian ELF object on a big-endian machine") +
                         " (built for another architecture; rebuild the BPF object for this "
                         "target)");
  EXPECT_EQ(problem.find('\n'), std::string::npos);
}

TEST(ElfCheck, SomethingElseIsNotAnElfObject) {
  EXPECT_EQ(elf_byte_order_problem(""), "not an ELF object");
  EXPECT_EQ(elf_byte_order_problem("#!/bin/sh\necho not elf\n"), "not an ELF object");
}
