# bpf_object(NAME SOURCE [BYTE_ORDER LITTLE_ENDIAN|BIG_ENDIAN]
#            [SKELETON_NAME name] [DEPENDS file...] [CFLAGS flag...])
# builds SOURCE (a *.bpf.c; relative to the current source directory or
# absolute) with clang into ${NAME}.bpf.o and generates ${NAME}.skel.h with
# bpftool, whose C API is SKELETON_NAME's (default NAME): name__open(),
# name__elf_bytes() and so on. Defines the INTERFACE target ${NAME}_skel
# whose include path has the skeleton, and ${NAME}_skel_gen which makes it.
#
# Byte order: BPF instructions and the ELF object are in the byte order of
# the machine that loads them, which is the target's, not the build host's
# (plain `-target bpf` would be the host's, and libbpf refuses an object of
# the other order: "elf: endianness mismatch"). NETMON_BPF_BYTE_ORDER
# defaults to CMAKE_C_BYTE_ORDER, which the cross toolchain determines.
#
# bpftool 7.1 (libbpf 1.1, Debian 12) cannot open a big-endian object on a
# little-endian host (libbpf 1.5 can), so for BIG_ENDIAN the skeleton is
# generated from a little-endian twin of the same source (same maps,
# programs and sections: the skeleton's structs and accessors only name
# them) and cmake/BpfEmbed.cmake then replaces the twin's bytes in
# name__elf_bytes() with the big-endian object's. tests/cross checks that the
# embedded bytes are the bpfeb object and that both orders hold the same
# program.
find_program(BPF_CLANG NAMES clang clang-14 REQUIRED NO_CMAKE_FIND_ROOT_PATH)
find_program(BPFTOOL NAMES bpftool PATHS /usr/sbin /sbin REQUIRED NO_CMAKE_FIND_ROOT_PATH)

if(NOT DEFINED NETMON_BPF_BYTE_ORDER)
  if(NOT CMAKE_C_BYTE_ORDER)
    message(FATAL_ERROR "the target's byte order is unknown: set NETMON_BPF_BYTE_ORDER "
                        "to LITTLE_ENDIAN or BIG_ENDIAN")
  endif()
  set(NETMON_BPF_BYTE_ORDER ${CMAKE_C_BYTE_ORDER} CACHE STRING
      "Byte order of the BPF object: the target's (LITTLE_ENDIAN or BIG_ENDIAN)")
endif()
if(NOT NETMON_BPF_BYTE_ORDER MATCHES "^(LITTLE_ENDIAN|BIG_ENDIAN)$")
  message(FATAL_ERROR "NETMON_BPF_BYTE_ORDER must be LITTLE_ENDIAN or BIG_ENDIAN, "
                      "not '${NETMON_BPF_BYTE_ORDER}'")
endif()

# __TARGET_ARCH_* only matters to bpf_tracing.h (pt_regs); set it for the
# target all the same, under the names libbpf uses.
if(CMAKE_SYSTEM_PROCESSOR MATCHES "x86_64|AMD64|i.86")
  set(NETMON_BPF_ARCH x86)
elseif(CMAKE_SYSTEM_PROCESSOR MATCHES "aarch64|arm64")
  set(NETMON_BPF_ARCH arm64)
elseif(CMAKE_SYSTEM_PROCESSOR MATCHES "^arm")
  set(NETMON_BPF_ARCH arm)
elseif(CMAKE_SYSTEM_PROCESSOR MATCHES "s390")
  set(NETMON_BPF_ARCH s390)
elseif(CMAKE_SYSTEM_PROCESSOR MATCHES "^mips")
  set(NETMON_BPF_ARCH mips)
else()
  set(NETMON_BPF_ARCH ${CMAKE_SYSTEM_PROCESSOR})
endif()

# The programs use the UAPI headers (linux/bpf.h and friends), which are the
# same for every architecture under -target bpf; only linux/types.h's
# <asm/types.h> lives in a multiarch directory clang does not search for the
# bpf target. The build host's is as good as any (asm-generic/int-ll64.h
# everywhere). NETMON_BPF_CFLAGS: extra flags, e.g. OpenWrt's bpf-headers.
set(NETMON_BPF_CFLAGS "" CACHE STRING "Extra clang flags for the BPF programs")
execute_process(COMMAND ${BPF_CLANG} -print-multiarch
                OUTPUT_VARIABLE netmon_bpf_multiarch OUTPUT_STRIP_TRAILING_WHITESPACE
                ERROR_QUIET)
set(NETMON_BPF_INCLUDES "")
if(netmon_bpf_multiarch AND EXISTS /usr/include/${netmon_bpf_multiarch}/asm/types.h)
  list(APPEND NETMON_BPF_INCLUDES -idirafter /usr/include/${netmon_bpf_multiarch})
endif()
separate_arguments(netmon_bpf_extra_cflags UNIX_COMMAND "${NETMON_BPF_CFLAGS}")

# Everything but -target and the source's own directory (tests/cross
# compiles with the same flags).
set(NETMON_BPF_COMMON_CFLAGS -g -O2 -Wall -Werror -D__TARGET_ARCH_${NETMON_BPF_ARCH}
    ${netmon_bpf_extra_cflags} -I${PROJECT_SOURCE_DIR}/include ${NETMON_BPF_INCLUDES})

set(NETMON_BPF_EMBED_SCRIPT ${CMAKE_CURRENT_LIST_DIR}/BpfEmbed.cmake)

function(bpf_object NAME SOURCE)
  cmake_parse_arguments(PARSE_ARGV 2 arg "" "BYTE_ORDER;SKELETON_NAME" "DEPENDS;CFLAGS")
  if(NOT arg_BYTE_ORDER)
    set(arg_BYTE_ORDER ${NETMON_BPF_BYTE_ORDER})
  endif()
  if(NOT arg_SKELETON_NAME)
    set(arg_SKELETON_NAME ${NAME})
  endif()
  get_filename_component(src ${SOURCE} ABSOLUTE BASE_DIR ${CMAKE_CURRENT_SOURCE_DIR})
  get_filename_component(src_dir ${src} DIRECTORY)
  set(obj ${CMAKE_CURRENT_BINARY_DIR}/${NAME}.bpf.o)
  set(skel ${CMAKE_CURRENT_BINARY_DIR}/${NAME}.skel.h)
  set(cflags ${NETMON_BPF_COMMON_CFLAGS} ${arg_CFLAGS} -I${src_dir})
  set(deps ${src} ${PROJECT_SOURCE_DIR}/include/netmon/abi.h ${arg_DEPENDS})

  if(arg_BYTE_ORDER STREQUAL "BIG_ENDIAN")
    set(twin ${CMAKE_CURRENT_BINARY_DIR}/${NAME}.bpfel-twin.bpf.o)
    set(twin_skel ${CMAKE_CURRENT_BINARY_DIR}/${NAME}.bpfel-twin.skel.h)
    add_custom_command(
      OUTPUT ${obj}
      COMMAND ${BPF_CLANG} -target bpfeb ${cflags} -c ${src} -o ${obj}
      DEPENDS ${deps}
      COMMENT "BPF ${NAME}.bpf.o (big-endian)"
      VERBATIM)
    add_custom_command(
      OUTPUT ${twin}
      COMMAND ${BPF_CLANG} -target bpfel ${cflags} -c ${src} -o ${twin}
      DEPENDS ${deps}
      COMMENT "BPF ${NAME}.bpfel-twin.bpf.o (the skeleton's template)"
      VERBATIM)
    add_custom_command(
      OUTPUT ${skel}
      COMMAND ${BPFTOOL} gen skeleton ${twin} name ${arg_SKELETON_NAME} > ${twin_skel}
      COMMAND ${CMAKE_COMMAND} -DSKELETON=${twin_skel} -DOBJECT=${obj}
              -DNAME=${arg_SKELETON_NAME} -DOUTPUT=${skel} -P ${NETMON_BPF_EMBED_SCRIPT}
      DEPENDS ${twin} ${obj} ${NETMON_BPF_EMBED_SCRIPT}
      COMMENT "BPF skeleton ${NAME}.skel.h (big-endian object in a bpfel twin's skeleton)"
      VERBATIM)
  else()
    add_custom_command(
      OUTPUT ${obj}
      COMMAND ${BPF_CLANG} -target bpfel ${cflags} -c ${src} -o ${obj}
      DEPENDS ${deps}
      COMMENT "BPF ${NAME}.bpf.o"
      VERBATIM)
    add_custom_command(
      OUTPUT ${skel}
      COMMAND ${BPFTOOL} gen skeleton ${obj} name ${arg_SKELETON_NAME} > ${skel}
      DEPENDS ${obj}
      COMMENT "BPF skeleton ${NAME}.skel.h"
      VERBATIM)
  endif()
  add_custom_target(${NAME}_skel_gen DEPENDS ${skel})
  add_library(${NAME}_skel INTERFACE)
  add_dependencies(${NAME}_skel ${NAME}_skel_gen)
  target_include_directories(${NAME}_skel INTERFACE ${CMAKE_CURRENT_BINARY_DIR})
endfunction()
