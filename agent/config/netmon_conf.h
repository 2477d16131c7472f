// /etc/netmon.conf: interface names, globs and '!' exclusions separated by
// whitespace or newlines, '#' comments to the end of the line, "all" allowed.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "config/text_file.h"

namespace netmon {

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
