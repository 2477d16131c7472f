#include "sys/error.h"

#include <cstring>

namespace netmon {

std::string errno_message(const std::string& what, int err) {
  return what + ": " + std::strerror(err);
}

}  // namespace netmon
