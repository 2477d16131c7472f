# Debian's s390x-linux-gnu cross toolchain (g++-s390x-linux-gnu), target packages from
# ci/cross-deps s390x. Usage:
#   cmake -DCMAKE_TOOLCHAIN_FILE=cmake/toolchains/s390x-linux-gnu.cmake ...
set(NETMON_TRIPLET s390x-linux-gnu)
set(NETMON_DEBIAN_ARCH s390x)
set(NETMON_QEMU_ARCH s390x)
set(CMAKE_SYSTEM_PROCESSOR s390x)
include(${CMAKE_CURRENT_LIST_DIR}/debian-cross.cmake)
