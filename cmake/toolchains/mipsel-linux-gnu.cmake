# Debian's mipsel-linux-gnu cross toolchain (g++-mipsel-linux-gnu), target packages from
# ci/cross-deps mipsel. Usage:
#   cmake -DCMAKE_TOOLCHAIN_FILE=cmake/toolchains/mipsel-linux-gnu.cmake ...
set(NETMON_TRIPLET mipsel-linux-gnu)
set(NETMON_DEBIAN_ARCH mipsel)
set(NETMON_QEMU_ARCH mipsel)
set(CMAKE_SYSTEM_PROCESSOR mipsel)
include(${CMAKE_CURRENT_LIST_DIR}/debian-cross.cmake)
