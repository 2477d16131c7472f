// What kind of file a descriptor is, for one-line errors about files that
// must be regular ("not a regular file (a FIFO)").
#pragma once

#include <string>

namespace netmon {

// "" when `fd` is a regular file, else why not: "a FIFO", "a directory",
// "a character device", ... Throws Error when fstat() fails.
std::string non_regular_kind(int fd, const std::string& path);

}  // namespace netmon
