#include "config/text_file.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>

#include "sys/error.h"
#include "sys/fd.h"
#include "sys/file_kind.h"
#include "sys/utf8.h"

namespace netmon {
namespace {

std::string at(const std::string& path, int line) { return path + ":" + std::to_string(line); }

}  // namespace

std::optional<std::string> read_text_file(const std::string& path, std::size_t max_bytes) {
  // O_NONBLOCK: opening a FIFO for reading would otherwise wait for a
  // writer forever, before the check below could refuse it.
  Fd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NONBLOCK | O_NOCTTY));
  if (!fd) {
    if (errno == ENOENT || errno == ENOTDIR) return std::nullopt;
    throw Error(errno_message(path + ": cannot read", errno));
  }
  // A FIFO or a device never ends or blocks; a config is a file.
  std::string kind = non_regular_kind(fd.get(), path);
  if (!kind.empty()) throw Error(path + ": cannot read: not a regular file (" + kind + ")");
  std::string text;
  char buf[4096];
  for (;;) {
    ssize_t n = ::read(fd.get(), buf, sizeof(buf));
    if (n < 0) {
      if (errno == EINTR) continue;
      throw Error(errno_message(path + ": cannot read", errno));
    }
    if (n == 0) break;
    text.append(buf, static_cast<std::size_t>(n));
    if (text.size() > max_bytes)
      throw Error(path + ": larger than " + std::to_string(max_bytes) +
                  " bytes, not a config file");
  }
  return text;
}

void check_text(std::string_view text, const std::string& path) {
  int line = 1;
  for (std::size_t i = 0; i < text.size();) {
    unsigned char c = static_cast<unsigned char>(text[i]);
    if (c == '\n') {
      ++line;
    } else if (c == 0) {
      throw Error(at(path, line) + ": not a text file (NUL byte)");
    } else if ((c < 0x20 && c != '\t' && c != '\r') || c == 0x7f) {
      char hex[8];
      std::snprintf(hex, sizeof(hex), "0x%02x", c);
      throw Error(at(path, line) + ": not a text file (control character " + hex + ")");
    }
    std::size_t len = utf8_sequence_length(text, i);
    if (len == 0) throw Error(at(path, line) + ": not a text file (invalid UTF-8)");
    i += len;
  }
}

std::vector<std::string_view> split_words(std::string_view text, std::string_view blanks) {
  std::vector<std::string_view> words;
  std::size_t start = text.find_first_not_of(blanks);
  while (start != std::string_view::npos) {
    std::size_t end = text.find_first_of(blanks, start);
    words.push_back(text.substr(start, end == std::string_view::npos ? end : end - start));
    if (end == std::string_view::npos) break;
    start = text.find_first_not_of(blanks, end);
  }
  return words;
}

}  // namespace netmon
