# Stand-in for OpenWrt's include/kernel.mk: LINUX_KARCH from ARCH and
# KERNEL_MAKE as OpenWrt defines them (reduced to the options that matter
# here), KernelPackage recording what a package declares.
LINUX_VERSION:=6.6.60
LINUX_DIR:=$(BUILD_DIR)/linux-$(LINUX_VERSION)
LINUX_KARCH:=$(strip $(subst i386,x86,$(subst armeb,arm,$(subst mipsel,mips,\
	$(subst mips64,mips,$(subst mips64el,mips,$(subst aarch64,arm64,\
	$(subst aarch64_be,arm64,$(subst x86_64,x86,$(ARCH))))))))))
KERNEL_MAKEOPTS:=-C $(LINUX_DIR) CROSS_COMPILE="$(KERNEL_CROSS)" ARCH="$(LINUX_KARCH)"
KERNEL_MAKE=$(STUB_RUN) make $(KERNEL_MAKEOPTS)
AutoProbe=autoprobe($(1))

define KernelPackage
$(eval $(KernelPackage/$(1)))
stub-kmods+=$(1)
stub-kmod-files+=$(FILES)
stub-kmod-autoload+=$(AUTOLOAD)
endef
