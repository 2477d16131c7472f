// ethtool ioctls: a device's driver name and the features --compare's
// quirk detection looks at.
#pragma once

#include <string>

namespace netmon {

struct EthtoolInfo {
  std::string driver;
  bool hw_tc_offload = false;  // active
  bool gro_requested = false;  // what veth keys its NAPI mode on
};

// What ethtool says about the device `name`; whatever cannot be asked (no
// such device, no ethtool support) stays empty/false. Never throws.
EthtoolInfo ethtool_info(const std::string& name);

}  // namespace netmon
