// Small text files (netmon.conf, /etc/config/netmon): reading one with a size
// cap, checking that it is text, and splitting words.
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
// "<path>: cannot read: <strerror>" when it exists but cannot be read (no
// permission), "<path>: cannot read: not a regular file (a FIFO)" for
// anything but a regular file (a directory, a FIFO, a device: a FIFO with no
// writer would block forever) and "<path>: larger than N bytes" past the cap.
std::optional<std::string> read_text_file(const std::string& path,
                                          std::size_t max_bytes = kMaxConfigBytes);

// Throws Error("<path>:<line>: ...") when `text` is not a text file: NUL
// bytes, control characters other than tab/CR/LF, or invalid UTF-8.
void check_text(std::string_view text, const std::string& path);

// Blanks for split_words(): a line's spaces, tabs and CR (netmon.conf, split
// by line first), or every C isspace() character (UCI values).
inline constexpr std::string_view kLineBlanks = " \t\r";
inline constexpr std::string_view kWhitespace = " \t\n\r\v\f";

// The words of `text`: maximal runs of bytes not in `blanks`, in order.
std::vector<std::string_view> split_words(std::string_view text, std::string_view blanks);

// Whether `c` is one of kWhitespace.
inline bool is_whitespace(char c) { return kWhitespace.find(c) != std::string_view::npos; }

}  // namespace netmon
