#include "config/netmon_conf.h"

#include "config/pattern.h"
#include "sys/error.h"

namespace netmon {
namespace {

std::string at(const std::string& path, int line) { return path + ":" + std::to_string(line); }

}  // namespace

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
    for (std::string_view word : split_words(rest, kLineBlanks)) {
      std::string token(word);

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
