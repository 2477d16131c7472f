#include "config/pattern.h"

#include "config/text_file.h"

namespace netmon {
namespace {

// IFNAMSIZ counts the terminating NUL.
constexpr std::size_t kMaxIfnameLen = 15;

}  // namespace

bool is_glob(std::string_view pattern) {
  return pattern.find_first_of("*?[") != std::string_view::npos;
}

std::string pattern_problem(std::string_view pattern) {
  if (pattern.empty()) return "empty interface name";
  std::string_view body = pattern;
  bool exclude = false;
  if (body.front() == '!') {
    exclude = true;
    body.remove_prefix(1);
    if (body.empty()) return "'!' without an interface name";
  }
  if (body == "all") return exclude ? "'!all' would exclude every interface" : "";
  for (char c : body) {
    if (c == '/') return "'/' is not allowed in interface names";
    if (c == ':') return "':' is not allowed in interface names";
    if (is_whitespace(c)) return "whitespace is not allowed in interface names";
    if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f)
      return "control characters are not allowed in interface names";
  }
  if (body == "." || body == "..") return "'" + std::string(body) + "' is not an interface name";
  if (!is_glob(body) && body.size() > kMaxIfnameLen)
    return "longer than " + std::to_string(kMaxIfnameLen) + " characters (IFNAMSIZ)";
  return "";
}

}  // namespace netmon
