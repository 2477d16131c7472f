// Which interfaces the agent monitors: patterns from the command line,
// /etc/netmon.conf or UCI, and the precedence between those places.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "config/pattern.h"
#include "config/uci_ledger.h"

namespace netmon {

// Where a Selection came from. It decides what a missing interface means: a
// name typed on the command line must exist now (a typo is an error), while
// a name from a config file or UCI may appear later (a modem interface comes
// up after boot), so it only earns a warning.
struct SelectionOrigin {
  enum class Kind { kCommandLine, kConfigFile, kUci, kDefault };

  Kind kind = Kind::kDefault;
  // The file path for kConfigFile; the file path or "uci -q show netmon" for
  // kUci; empty otherwise.
  std::string where;

  static SelectionOrigin command_line() { return {Kind::kCommandLine, {}}; }
  static SelectionOrigin config_file(std::string path) {
    return {Kind::kConfigFile, std::move(path)};
  }
  static SelectionOrigin uci(std::string where) { return {Kind::kUci, std::move(where)}; }
  static SelectionOrigin by_default() { return {Kind::kDefault, {}}; }

  // True when a literal name that does not exist is fatal.
  bool names_must_exist() const { return kind == Kind::kCommandLine; }
};

// An immutable set of include and exclude patterns. An interface matches
// when some include pattern matches it (or there are none: an exclusion-only
// list, or an empty one, means "all") and no exclusion does.
class Selection {
 public:
  // Everything, by default.
  Selection() : Selection({"all"}, SelectionOrigin::by_default()) {}

  // Throws Error naming the first invalid pattern. Duplicates are dropped.
  Selection(std::vector<std::string> patterns, SelectionOrigin origin);

  bool matches(std::string_view ifname) const;

  // Include patterns that are plain names (not "all", not globs, not
  // exclusions), in the order given: the names the caller checks for
  // existence at start-up (see SelectionOrigin::names_must_exist()).
  std::vector<std::string> literal_names() const;

  const std::vector<std::string>& patterns() const { return patterns_; }
  const SelectionOrigin& origin() const { return origin_; }

  // The one stderr line saying where the selection came from, e.g.
  // "interfaces from /etc/netmon.conf: rmnet_data0".
  std::string describe() const;

 private:
  struct Pattern {
    std::string text;  // without the '!'
    bool glob = false;
  };
  static bool match_one(const Pattern& p, std::string_view ifname);

  std::vector<std::string> patterns_;  // as given, minus duplicates
  SelectionOrigin origin_;
  bool all_ = false;  // "all" was among the includes
  std::vector<Pattern> includes_;
  std::vector<Pattern> excludes_;
};

// Everything resolve_selection() looks at. Defaults are the real paths; tests
// point them into a temp dir and disable or fake the uci command.
struct SelectionInputs {
  std::vector<std::string> args;               // interface arguments from argv
  std::optional<std::string> config_path;      // --config
  std::optional<std::string> uci_config_path;  // --uci-config
  std::string default_config_path = "/etc/netmon.conf";
  std::string default_uci_path = "/etc/config/netmon";
  // Run as `<uci_program> -q show netmon` when it is found (a name is looked
  // up on PATH) and no --uci-config is given; empty never runs anything.
  std::string uci_program = "uci";
};

// A setting read from UCI, with "path:line" for error messages about its
// value (the CLI parses it).
struct UciSetting {
  std::string value;
  std::string where;
};

struct ResolvedSelection {
  Selection selection;
  // From UCI regardless of where the interfaces came from: UCI is the only
  // place besides argv that holds them, and argv flags override them.
  std::optional<UciSetting> interval;
  std::optional<UciSetting> source;
  // The usage ledger's UCI settings, likewise (app/ledger_settings.h).
  std::optional<UciLedgerConfig> uci_ledger;
  // Non-fatal findings for the caller to log as warnings.
  std::vector<std::string> warnings;
};

// Interfaces come from the first of: argv; the config file (--config, which
// must exist, else the default path if it exists); UCI (--uci-config, which
// must exist, else `uci -q show netmon`, else the default UCI path if it
// exists); "all". A config source that exists but names no interfaces falls
// through to the next level, except an explicit --config (see .cpp).
// Throws Error for anything malformed, with "path:line: " where known.
ResolvedSelection resolve_selection(const SelectionInputs& inputs);

}  // namespace netmon
