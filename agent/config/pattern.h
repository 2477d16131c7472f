// Interface patterns: "all", names, shell globs and '!' exclusions, as
// argv, netmon.conf and UCI all spell them.
#pragma once

#include <string>
#include <string_view>

namespace netmon {

// Why `pattern` cannot select an interface, or "" when it can. Patterns are
// "all", a name, a shell glob (`*`, `?`, `[...]`, matched with fnmatch), or
// either of the latter two prefixed with '!' to exclude. Names follow the
// kernel's rules (dev_valid_name): shorter than IFNAMSIZ (16), no '/', ':' or
// whitespace, not "." or "..". Globs are only checked for those characters,
// since their length says nothing about what they match.
std::string pattern_problem(std::string_view pattern);

// True when `pattern` (after any '!') contains glob characters.
bool is_glob(std::string_view pattern);

}  // namespace netmon
