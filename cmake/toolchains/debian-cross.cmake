# Shared part of the Debian cross toolchains (aarch64-linux-gnu.cmake and
# friends set NETMON_TRIPLET, NETMON_DEBIAN_ARCH and CMAKE_SYSTEM_PROCESSOR,
# then include this).
#
# The compiler is Debian's g++-<triplet>, with its own libc from
# libc6-dev-<arch>-cross under /usr/<triplet>. What the target lacks there
# (libbpf, libelf, zlib, zstd, spdlog, fmt, nlohmann-json) ci/cross-deps
# unpacks from the target's Debian packages into a sysroot:
#   ${NETMON_CACHE:-/var/cache/netmon}/sysroot/<debian-arch>
# That directory is searched as an extra root, not passed as --sysroot: the
# compiler keeps its own libc and crt files, the sysroot adds headers,
# static archives and pkg-config/CMake package files.
set(CMAKE_SYSTEM_NAME Linux)
set(CMAKE_C_COMPILER ${NETMON_TRIPLET}-gcc)
set(CMAKE_CXX_COMPILER ${NETMON_TRIPLET}-g++)
set(CMAKE_LIBRARY_ARCHITECTURE ${NETMON_TRIPLET})

if(NOT NETMON_SYSROOT)
  if(DEFINED ENV{NETMON_CACHE})
    set(NETMON_SYSROOT $ENV{NETMON_CACHE}/sysroot/${NETMON_DEBIAN_ARCH})
  else()
    set(NETMON_SYSROOT /var/cache/netmon/sysroot/${NETMON_DEBIAN_ARCH})
  endif()
endif()
if(NOT EXISTS ${NETMON_SYSROOT}/usr/include/bpf/libbpf.h)
  message(FATAL_ERROR "no ${NETMON_DEBIAN_ARCH} sysroot at ${NETMON_SYSROOT}: "
                      "run ci/cross-deps ${NETMON_DEBIAN_ARCH}")
endif()
# Try-compiles get the same variables.
list(APPEND CMAKE_TRY_COMPILE_PLATFORM_VARIABLES NETMON_SYSROOT)

set(CMAKE_FIND_ROOT_PATH ${NETMON_SYSROOT} /usr/${NETMON_TRIPLET})
set(CMAKE_FIND_ROOT_PATH_MODE_PROGRAM NEVER)
set(CMAKE_FIND_ROOT_PATH_MODE_LIBRARY ONLY)
set(CMAKE_FIND_ROOT_PATH_MODE_INCLUDE ONLY)
set(CMAKE_FIND_ROOT_PATH_MODE_PACKAGE ONLY)

# Header-only users (the static agent's spdlog and fmt) and the static
# archives NETMON_STATIC picks by name find them here without further ado.
# -idirafter: the compiler's own libc and kernel headers come first.
set(CMAKE_C_FLAGS_INIT "-idirafter ${NETMON_SYSROOT}/usr/include")
set(CMAKE_CXX_FLAGS_INIT "-idirafter ${NETMON_SYSROOT}/usr/include")
set(CMAKE_EXE_LINKER_FLAGS_INIT "-L${NETMON_SYSROOT}/usr/lib/${NETMON_TRIPLET}")

# pkg-config (libbpf.pc): only the target's .pc files, paths under the sysroot.
set(ENV{PKG_CONFIG_LIBDIR}
    "${NETMON_SYSROOT}/usr/lib/${NETMON_TRIPLET}/pkgconfig:${NETMON_SYSROOT}/usr/share/pkgconfig")
set(ENV{PKG_CONFIG_SYSROOT_DIR} ${NETMON_SYSROOT})
set(ENV{PKG_CONFIG_PATH} "")

# Unit tests run under qemu-user when they are built (no binfmt needed).
find_program(NETMON_QEMU_USER NAMES qemu-${NETMON_QEMU_ARCH}-static qemu-${NETMON_QEMU_ARCH})
if(NETMON_QEMU_USER)
  set(CMAKE_CROSSCOMPILING_EMULATOR ${NETMON_QEMU_USER})
endif()
