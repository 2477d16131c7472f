// OpenWrt UCI: a parser of the config file syntax (/etc/config/netmon), a
// parser of `uci -q show netmon` output, and what netmon takes from either.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace netmon {

struct UciValue {
  std::string text;
  int line = 0;  // where it was set, for "path:line: " in later errors
};

struct UciOption {
  std::string name;
  bool is_list = false;
  std::vector<UciValue> values;  // exactly one unless is_list
};

struct UciSection {
  std::string type;
  // Empty for an anonymous section read from a file; "@type[N]" for one read
  // from `uci show`, which names them that way.
  std::string name;
  bool anonymous = false;
  int line = 0;
  std::vector<UciOption> options;

  const UciOption* find(std::string_view option) const;
};

struct UciPackage {
  // The file path or "uci -q show netmon": the prefix of error messages.
  std::string where;
  std::vector<UciSection> sections;  // in file order
};

// Parses UCI's file syntax as libuci does in strict mode (the default of the
// `uci` command): `package <name>`, `config <type> [<name>]`,
// `option <name> [<value>]`, `list <name> <value>` (or their one-letter
// forms), separated by newlines or ';'. Words are unquoted, 'single quoted'
// (no escapes), or "double quoted"; outside single quotes a backslash takes
// the next character literally and a backslash at the end of a line joins
// the next; quoted strings may span lines; an unquoted '#' starts a comment.
// Like libuci, a repeated named section is reopened (a different type is an
// error), `option` replaces and an empty value deletes, `list` appends (to a
// former option's value too). Throws Error("<where>:<line>: <what>").
UciPackage parse_uci(std::string_view text, const std::string& where);

// Parses `uci -q show <package>` output: `pkg.section=type` and
// `pkg.section.option=<values>`, where values are shell-quoted words
// ('a' 'b' for a list, 'it'\''s' for a quote) and anonymous sections are
// named `@type[N]`. Throws Error("<where>:<line>: <what>").
UciPackage parse_uci_show(std::string_view text, std::string_view package,
                          const std::string& where);

// What netmon reads from its UCI package.
struct UciNetmonConfig {
  std::string where;                 // UciPackage::where
  std::vector<UciValue> interfaces;  // patterns, checked with pattern_problem()
  std::optional<UciValue> interval;
  std::optional<UciValue> source;
};

// Two layouts are understood, and may be mixed:
//  - the idiomatic one: sections of type `netmon` (named or anonymous) with
//    `option interface` and/or `list interface` (an option's value may hold
//    several names separated by spaces), `option interval`, `option source`;
//  - the seed's `uci set netmon.interface='wwan0'`, which UCI stores as a
//    section NAMED `interface` whose TYPE is `wwan0` (`config wwan0
//    'interface'`); `interval` and `source` sections work the same way.
//    A section of type `netmon` is always the idiomatic layout, whatever its
//    name.
// Interfaces from all sections are combined; for interval and source the
// last one in file order wins, as with a repeated option. Throws
// Error("<where>:<line>: invalid interface ...") for a bad pattern.
UciNetmonConfig extract_netmon_config(const UciPackage& package);

// The path of `program` if it is executable: as given when it contains '/',
// else the first match on $PATH.
std::optional<std::string> find_program(const std::string& program);

// Runs `<program> -q show <package>` (program as found by find_program())
// with stderr discarded, and returns its stdout when it exits 0. std::nullopt
// when it exits non-zero: the package does not exist, or uci could not parse
// it, which the caller then reports by parsing the file itself. Throws Error
// when it cannot be run at all or its output exceeds the config size cap.
std::optional<std::string> run_uci_show(const std::string& program, const std::string& package);

}  // namespace netmon
