// Logging goes to stderr only: stdout carries data and nothing else.
#pragma once

#include <string>
#include <string_view>

namespace netmon {

// `text` as it can safely reach a terminal: every byte a terminal would act
// on is written as \xNN (C0 controls but tab, DEL, the C1 controls U+0080 to
// U+009F, bytes that are not UTF-8). Interface names are bytes to the kernel
// (an ESC is a valid name), and /proc files and configs may hold anything.
std::string escape_for_terminal(std::string_view text);

// 0 = warnings and errors, 1 = info (the default), 2 = debug, 3+ = trace,
// which adds libbpf's own messages, routed into the same logger. Every line
// goes through escape_for_terminal(), so no log call needs to escape the
// names it prints.
void setup_logging(int verbosity);

}  // namespace netmon
