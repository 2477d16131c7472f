// NDJSON: one snapshot per line, the agent's stdout contract.
#pragma once

#include <string>

#include "core/snapshot.h"

namespace netmon {

// One complete JSON object terminated by '\n'; keys in the documented order.
std::string to_ndjson(const Snapshot& snapshot);
// The same into `line` (its old content dropped): a caller that keeps the
// string reuses its buffer, where a fresh ~300 KB line each tick was mapped,
// faulted in page by page and unmapped again.
void to_ndjson(const Snapshot& snapshot, std::string& line);

// Writes all of `line` to `fd`, retrying partial writes and EINTR, so a
// reader never sees half a line. Returns false when the reader has gone
// (EPIPE); throws Error on any other failure.
bool write_line(int fd, const std::string& line);

}  // namespace netmon
