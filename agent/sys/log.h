// Logging goes to stderr only: stdout carries data and nothing else.
#pragma once

namespace netmon {

// 0 = warnings and errors, 1 = info (the default), 2 = debug, 3+ = trace,
// which adds libbpf's own messages, routed into the same logger.
void setup_logging(int verbosity);

}  // namespace netmon
