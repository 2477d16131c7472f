#include "config_file.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>

#include "error.h"
#include "fd.h"
#include "selection.h"

namespace netmon {
namespace {

std::string at(const std::string& path, int line) { return path + ":" + std::to_string(line); }

// Length of the UTF-8 sequence starting at s[i], or 0 if it is invalid
// (truncated, overlong, a surrogate, or above U+10FFFF).
std::size_t utf8_length(std::string_view s, std::size_t i) {
  auto byte = [&](std::size_t k) -> unsigned { return static_cast<unsigned char>(s[k]); };
  unsigned c = byte(i);
  std::size_t len;
  unsigned cp;
  if (c < 0x80) return 1;
  if (c >= 0xc2 && c <= 0xdf) {
    len = 2;
    cp = c & 0x1f;
  } else if (c >= 0xe0 && c <= 0xef) {
    len = 3;
    cp = c & 0x0f;
  } else if (c >= 0xf0 && c <= 0xf4) {
    len = 4;
    cp = c & 0x07;
  } else {
    return 0;
  }
  if (i + len > s.size()) return 0;
  for (std::size_t k = 1; k < len; ++k) {
    if ((byte(i + k) & 0xc0) != 0x80) return 0;
    cp = (cp << 6) | (byte(i + k) & 0x3f);
  }
  if ((len == 3 && cp < 0x800) || (len == 4 && cp < 0x10000)) return 0;  // overlong
  if (cp >= 0xd800 && cp <= 0xdfff) return 0;                            // surrogate
  if (cp > 0x10ffff) return 0;
  return len;
}

bool is_blank(char c) { return c == ' ' || c == '\t' || c == '\r'; }

}  // namespace

std::optional<std::string> read_text_file(const std::string& path, std::size_t max_bytes) {
  Fd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
  if (!fd) {
    if (errno == ENOENT || errno == ENOTDIR) return std::nullopt;
    throw Error(errno_message(path + ": cannot read", errno));
  }
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
    std::size_t len = utf8_length(text, i);
    if (len == 0) throw Error(at(path, line) + ": not a text file (invalid UTF-8)");
    i += len;
  }
}

std::vector<std::string> parse_config_file(std::string_view text, const std::string& path) {
  // Editors on other systems may leave a byte-order mark; it is not a name.
  if (text.substr(0, 3) == "\xEF\xBB\xBF") text.remove_prefix(3);

  std::vector<std::string> patterns;
  int line = 0;
  while (!text.empty()) {
    ++line;
    std::size_t eol = text.find('\n');
    std::string_view rest = text.substr(0, eol);
    text.remove_prefix(eol == std::string_view::npos ? text.size() : eol + 1);

    // '#' starts a comment anywhere, even inside a word: the kernel allows
    // it in names, but a config that needs such a name can use a glob.
    rest = rest.substr(0, rest.find('#'));
    while (!rest.empty()) {
      std::size_t start = 0;
      while (start < rest.size() && is_blank(rest[start])) ++start;
      std::size_t end = start;
      while (end < rest.size() && !is_blank(rest[end])) ++end;
      std::string token(rest.substr(start, end - start));
      rest.remove_prefix(end);
      if (token.empty()) continue;

      std::string problem;
      if (token.find_first_of("'\"") != std::string::npos)
        problem = "quotes are not part of interface names; write them bare";
      else if (token.find('=') != std::string::npos)
        problem = "this file lists bare interface names, not key=value settings";
      else
        problem = pattern_problem(token);
      if (!problem.empty())
        throw Error(at(path, line) + ": invalid interface '" + token + "': " + problem);
      patterns.push_back(std::move(token));
    }
  }
  return patterns;
}

std::optional<std::vector<std::string>> load_config_file(const std::string& path) {
  auto text = read_text_file(path);
  if (!text) return std::nullopt;
  check_text(*text, path);
  return parse_config_file(*text, path);
}

}  // namespace netmon
