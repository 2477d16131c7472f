#include "sys/ethtool.h"

#include <linux/ethtool.h>
#include <linux/sockios.h>
#include <net/if.h>
#include <sys/ioctl.h>
#include <sys/socket.h>

#include <cstdint>
#include <cstring>
#include <string_view>
#include <vector>

#include "sys/fd.h"

namespace netmon {
namespace {

bool ethtool_ioctl(int fd, const std::string& name, void* data) {
  ifreq ifr{};
  std::strncpy(ifr.ifr_name, name.c_str(), IFNAMSIZ - 1);
  ifr.ifr_data = static_cast<char*>(data);
  return ::ioctl(fd, SIOCETHTOOL, &ifr) == 0;
}

}  // namespace

// Feature bit positions differ between kernels, so they are found by name.
EthtoolInfo ethtool_info(const std::string& name) {
  EthtoolInfo out;
  Fd fd(::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0));
  if (!fd) return out;
  ethtool_drvinfo drvinfo{};
  drvinfo.cmd = ETHTOOL_GDRVINFO;
  if (ethtool_ioctl(fd.get(), name, &drvinfo))
    out.driver.assign(drvinfo.driver, strnlen(drvinfo.driver, sizeof(drvinfo.driver)));

  // ethtool_sset_info ends in a flexible array: one u32 follows for the one
  // set asked for.
  std::vector<uint64_t> sset_buf(sizeof(ethtool_sset_info) / 8 + 2);
  auto* sset = reinterpret_cast<ethtool_sset_info*>(sset_buf.data());
  sset->cmd = ETHTOOL_GSSET_INFO;
  sset->sset_mask = 1ULL << ETH_SS_FEATURES;
  if (!ethtool_ioctl(fd.get(), name, sset) || !(sset->sset_mask & (1ULL << ETH_SS_FEATURES)))
    return out;
  const uint32_t count = sset->data[0];
  if (count == 0 || count > 4096) return out;

  // uint64_t storage keeps the kernel structs suitably aligned.
  std::vector<uint64_t> strings_buf(
      (sizeof(ethtool_gstrings) + size_t{count} * ETH_GSTRING_LEN) / 8 + 1);
  auto* strings = reinterpret_cast<ethtool_gstrings*>(strings_buf.data());
  strings->cmd = ETHTOOL_GSTRINGS;
  strings->string_set = ETH_SS_FEATURES;
  strings->len = count;
  if (!ethtool_ioctl(fd.get(), name, strings)) return out;

  const uint32_t blocks = (count + 31) / 32;
  std::vector<uint64_t> features_buf(
      (sizeof(ethtool_gfeatures) + blocks * sizeof(ethtool_get_features_block)) / 8 + 1);
  auto* features = reinterpret_cast<ethtool_gfeatures*>(features_buf.data());
  features->cmd = ETHTOOL_GFEATURES;
  features->size = blocks;
  if (!ethtool_ioctl(fd.get(), name, features)) return out;

  for (uint32_t i = 0; i < count; ++i) {
    const char* feature =
        reinterpret_cast<const char*>(strings->data) + size_t{i} * ETH_GSTRING_LEN;
    std::string_view feature_name(feature, strnlen(feature, ETH_GSTRING_LEN));
    const ethtool_get_features_block& block = features->features[i / 32];
    const uint32_t bit = 1U << (i % 32);
    if (feature_name == "hw-tc-offload") out.hw_tc_offload = block.active & bit;
    if (feature_name == "rx-gro") out.gro_requested = block.requested & bit;
  }
  return out;
}

}  // namespace netmon
