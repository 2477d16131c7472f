// Logging goes to stderr only: stdout carries data and nothing else.
#pragma once

namespace netmon {

// 0 = warnings and errors, 1 = info (the default), 2+ = debug, including
// libbpf's own messages, which are routed into the same logger one level down.
void setup_logging(int verbosity);

}  // namespace netmon
