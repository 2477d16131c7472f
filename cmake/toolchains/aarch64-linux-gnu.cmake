# Debian's aarch64-linux-gnu cross toolchain (g++-aarch64-linux-gnu), target packages from
# ci/cross-deps arm64. Usage:
#   cmake -DCMAKE_TOOLCHAIN_FILE=cmake/toolchains/aarch64-linux-gnu.cmake ...
set(NETMON_TRIPLET aarch64-linux-gnu)
set(NETMON_DEBIAN_ARCH arm64)
set(NETMON_QEMU_ARCH aarch64)
set(CMAKE_SYSTEM_PROCESSOR aarch64)
include(${CMAKE_CURRENT_LIST_DIR}/debian-cross.cmake)
