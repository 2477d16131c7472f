# Stand-in for OpenWrt's include/package.mk: the build directories, the
# default build steps a package may override, and `compile`, which runs them
# (every command echoed), plus `print-VAR`.
PKG_BUILD_DIR?=$(BUILD_DIR)/$(PKG_NAME)-$(PKG_VERSION)
PKG_INSTALL_DIR?=$(PKG_BUILD_DIR)/ipkg-install

Build/Configure=$(call Build/Configure/Default)
Build/Compile=$(call Build/Compile/Default)

define BuildPackage
$(eval $(Package/$(1)))
stub-packages+=$(1)
stub-package-depends+=$(DEPENDS)
endef

compile:
	$(call Build/Prepare)
	$(call Build/Configure)
	$(call Build/Compile)
	$(call Package/netmon-agent/install,$(TOPDIR)/ipkg-root)

print-%:
	@echo '$*=$($*)'
.PHONY: compile
