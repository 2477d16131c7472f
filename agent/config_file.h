// /etc/netmon.conf: interface names, globs and '!' exclusions separated by
// whitespace or newlines, '#' comments to the end of the line, "all" allowed.
// Also the small text-file helpers the UCI reader shares.
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace netmon {

// Config files are a few lines; the cap keeps `--config /dev/zero` from
// eating memory.
constexpr std::size_t kMaxConfigBytes = 1 << 20;

// The whole file, or std::nullopt when it does not exist (ENOENT/ENOTDIR:
// the caller decides whether that matters). Throws Error
// "<path>: cannot read: <strerror>" when it exists but cannot be read (a
// directory, no permission) and "<path>: larger than N bytes" past the cap.
std::optional<std::string> read_text_file(const std::string& path,
                                          std::size_t max_bytes = kMaxConfigBytes);

// Throws Error("<path>:<line>: ...") when `text` is not a text file: NUL
// bytes, control characters other than tab/CR/LF, or invalid UTF-8.
void check_text(std::string_view text, const std::string& path);

// The patterns of a netmon.conf, in order; empty when it holds only comments
// and blanks. Every token is checked with pattern_problem(); quotes and '='
// are rejected too, since they are valid in kernel names but in this file
// mean the user wrote another syntax (UCI, key=value) that would silently
// match nothing. Throws Error("<path>:<line>: <what>").
std::vector<std::string> parse_config_file(std::string_view text, const std::string& path);

// read_text_file() + check_text() + parse_config_file(); std::nullopt when
// the file does not exist.
std::optional<std::vector<std::string>> load_config_file(const std::string& path);

}  // namespace netmon
