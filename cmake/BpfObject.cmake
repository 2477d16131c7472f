# bpf_object(NAME SOURCE): builds SOURCE (a *.bpf.c) with clang -target bpf into
# ${NAME}.bpf.o and generates ${NAME}.skel.h with bpftool. Defines the INTERFACE
# target ${NAME}_skel whose include path has the skeleton.
find_program(BPF_CLANG NAMES clang clang-14 REQUIRED)
find_program(BPFTOOL NAMES bpftool PATHS /usr/sbin /sbin REQUIRED)

if(CMAKE_SYSTEM_PROCESSOR MATCHES "x86_64|AMD64")
  set(NETMON_BPF_ARCH x86)
elseif(CMAKE_SYSTEM_PROCESSOR MATCHES "aarch64|arm64")
  set(NETMON_BPF_ARCH arm64)
else()
  set(NETMON_BPF_ARCH ${CMAKE_SYSTEM_PROCESSOR})
endif()

function(bpf_object NAME SOURCE)
  set(src ${CMAKE_CURRENT_SOURCE_DIR}/${SOURCE})
  set(obj ${CMAKE_CURRENT_BINARY_DIR}/${NAME}.bpf.o)
  set(skel ${CMAKE_CURRENT_BINARY_DIR}/${NAME}.skel.h)
  set(vmlinux_dir ${PROJECT_SOURCE_DIR}/vmlinux/${NETMON_BPF_ARCH})
  add_custom_command(
    OUTPUT ${obj}
    COMMAND ${BPF_CLANG} -g -O2 -Wall -Werror -target bpf -D__TARGET_ARCH_${NETMON_BPF_ARCH}
            -I${vmlinux_dir} -I${PROJECT_SOURCE_DIR}/include -I${CMAKE_CURRENT_SOURCE_DIR}
            -c ${src} -o ${obj}
    DEPENDS ${src} ${PROJECT_SOURCE_DIR}/include/netmon/abi.h ${ARGN}
    COMMENT "BPF ${NAME}.bpf.o"
    VERBATIM)
  add_custom_command(
    OUTPUT ${skel}
    COMMAND ${BPFTOOL} gen skeleton ${obj} name ${NAME} > ${skel}
    DEPENDS ${obj}
    COMMENT "BPF skeleton ${NAME}.skel.h"
    VERBATIM)
  add_custom_target(${NAME}_skel_gen DEPENDS ${skel})
  add_library(${NAME}_skel INTERFACE)
  add_dependencies(${NAME}_skel ${NAME}_skel_gen)
  target_include_directories(${NAME}_skel INTERFACE ${CMAKE_CURRENT_BINARY_DIR})
endfunction()
