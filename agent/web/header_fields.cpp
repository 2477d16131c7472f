#include "header_fields.h"

#include <cctype>
#include <cstring>

namespace netmon::web {
namespace {

bool is_token_char(char c) {
  return std::isalnum(static_cast<unsigned char>(c)) || std::strchr("!#$%&'*+-.^_`|~", c);
}

}  // namespace

bool iequals(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i) {
    if (std::tolower(static_cast<unsigned char>(a[i])) !=
        std::tolower(static_cast<unsigned char>(b[i])))
      return false;
  }
  return true;
}

std::optional<HeaderFields> parse_header_fields(std::string_view head) {
  HeaderFields fields;
  std::size_t eol = head.find('\n');
  if (eol == std::string_view::npos) return fields;  // a request line only
  head.remove_prefix(eol + 1);
  while (!head.empty()) {
    eol = head.find('\n');
    std::string_view line = head.substr(0, eol);
    head.remove_prefix(eol == std::string_view::npos ? head.size() : eol + 1);
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    if (line.empty()) break;
    if (line.front() == ' ' || line.front() == '\t') return std::nullopt;
    std::size_t colon = line.find(':');
    if (colon == std::string_view::npos || colon == 0) return std::nullopt;
    std::string_view name = line.substr(0, colon);
    for (char c : name) {
      if (!is_token_char(c)) return std::nullopt;
    }
    std::string_view value = line.substr(colon + 1);
    for (char c : value) {
      if ((static_cast<unsigned char>(c) < 0x20 && c != '\t') || c == 0x7f) return std::nullopt;
    }
    while (!value.empty() && (value.front() == ' ' || value.front() == '\t'))
      value.remove_prefix(1);
    while (!value.empty() && (value.back() == ' ' || value.back() == '\t')) value.remove_suffix(1);
    fields.emplace_back(std::string(name), std::string(value));
  }
  return fields;
}

std::optional<std::string_view> single_header(const HeaderFields& fields, std::string_view name) {
  std::optional<std::string_view> found;
  for (const auto& [n, v] : fields) {
    if (!iequals(n, name)) continue;
    if (found) return std::nullopt;
    found = v;
  }
  return found;
}

}  // namespace netmon::web
