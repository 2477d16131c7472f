// NDJSON: one snapshot per line, the agent's stdout contract.
#pragma once

#include <string>

#include "core/snapshot.h"

namespace netmon {

// One complete JSON object terminated by '\n'; keys in the documented order.
std::string to_ndjson(const Snapshot& snapshot);

// Writes all of `line` to `fd`, retrying partial writes and EINTR, so a
// reader never sees half a line. Returns false when the reader has gone
// (EPIPE); throws Error on any other failure.
bool write_line(int fd, const std::string& line);

}  // namespace netmon
