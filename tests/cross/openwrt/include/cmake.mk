# Stand-in for OpenWrt's include/cmake.mk: a cross build configured with the
# target toolchain's variables, then make in the build directory.
CMAKE_BINARY_DIR:=$(PKG_BUILD_DIR)
define Build/Configure/Default
	$(STUB_RUN) cmake -DCMAKE_SYSTEM_NAME=Linux -DCMAKE_SYSTEM_PROCESSOR=$(ARCH) \
		-DCMAKE_C_COMPILER="$(TARGET_CC)" -DCMAKE_CXX_COMPILER="$(TARGET_CXX)" \
		-DCMAKE_C_FLAGS="$(TARGET_CFLAGS)" -DCMAKE_FIND_ROOT_PATH="$(STAGING_DIR)/usr;$(TOOLCHAIN_DIR)" \
		$(CMAKE_OPTIONS) $(PKG_BUILD_DIR)
endef
define Build/Compile/Default
	$(STUB_RUN) make -C $(CMAKE_BINARY_DIR)
endef
