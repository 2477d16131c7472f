# Stand-in for OpenWrt's include/bpf.mk: the host clang for BPF.
BPF_DEPENDS:=@HAS_BPF_TOOLCHAIN
CLANG:=$(STAGING_DIR_HOST)/llvm-bpf/bin/clang
