# Stand-in for OpenWrt's rules.mk: just the variables config/openwrt/Makefile
# uses, derived from the target the test passes (ARCH, CONFIG_BIG_ENDIAN,
# TARGET_CROSS) the way OpenWrt derives them. Commands are echoed, not run.
INCLUDE_DIR:=$(TOPDIR)/include
BUILD_DIR:=$(TOPDIR)/build_dir/target-$(ARCH)
STAGING_DIR:=$(TOPDIR)/staging_dir/target-$(ARCH)
STAGING_DIR_HOST:=$(TOPDIR)/staging_dir/host
STAGING_DIR_HOSTPKG:=$(TOPDIR)/staging_dir/hostpkg
TOOLCHAIN_DIR:=$(TOPDIR)/staging_dir/toolchain-$(ARCH)
TARGET_CC:=$(TARGET_CROSS)gcc
TARGET_CXX:=$(TARGET_CROSS)g++
TARGET_CFLAGS:=-Os -pipe
KERNEL_CROSS:=$(TARGET_CROSS)
STUB_RUN:=@$(TOPDIR)/argv
INSTALL_DIR:=$(STUB_RUN) install -d -m0755
INSTALL_BIN:=$(STUB_RUN) install -m0755
INSTALL_CONF:=$(STUB_RUN) install -m0600
CP:=$(STUB_RUN) cp -fpR
