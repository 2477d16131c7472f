#include "config/selection.h"

#include <fnmatch.h>

#include <algorithm>
#include <cerrno>

#include "config/netmon_conf.h"
#include "config/uci.h"
#include "sys/error.h"

namespace netmon {
namespace {

std::string join(const std::vector<std::string>& words) {
  std::string out;
  for (const auto& w : words) {
    if (!out.empty()) out += ' ';
    out += w;
  }
  return out;
}

}  // namespace

Selection::Selection(std::vector<std::string> patterns, SelectionOrigin origin)
    : origin_(std::move(origin)) {
  for (auto& p : patterns) {
    if (std::find(patterns_.begin(), patterns_.end(), p) != patterns_.end()) continue;
    std::string problem = pattern_problem(p);
    if (!problem.empty()) {
      // Files validate with line numbers before getting here, so in practice
      // this is a command-line argument.
      // A bad argument is a usage error (exit 2), like a bad option value.
      if (origin_.kind == SelectionOrigin::Kind::kCommandLine)
        throw UsageError("invalid interface argument '" + p + "': " + problem);
      throw Error(origin_.where + ": invalid interface '" + p + "': " + problem);
    }
    patterns_.push_back(p);
    if (p == "all") {
      all_ = true;
    } else if (p.front() == '!') {
      excludes_.push_back({p.substr(1), is_glob(p.substr(1))});
    } else {
      includes_.push_back({p, is_glob(p)});
    }
  }
}

bool Selection::match_one(const Pattern& p, std::string_view ifname) {
  if (!p.glob) return p.text == ifname;
  // fnmatch needs a NUL-terminated name; interface names are short.
  std::string name(ifname);
  return fnmatch(p.text.c_str(), name.c_str(), 0) == 0;
}

bool Selection::matches(std::string_view ifname) const {
  auto hit = [&](const Pattern& p) { return match_one(p, ifname); };
  bool included = all_ || includes_.empty() || std::any_of(includes_.begin(), includes_.end(), hit);
  return included && std::none_of(excludes_.begin(), excludes_.end(), hit);
}

std::vector<std::string> Selection::literal_names() const {
  std::vector<std::string> out;
  for (const auto& p : includes_)
    if (!p.glob) out.push_back(p.text);
  return out;
}

std::string Selection::describe() const {
  std::string list = patterns_.empty() ? "all" : join(patterns_);
  // An exclusion-only list reads better with what it is taken from.
  if (!all_ && includes_.empty() && !excludes_.empty()) list = "all " + list;
  switch (origin_.kind) {
    case SelectionOrigin::Kind::kCommandLine:
      return "interfaces from command line: " + list;
    case SelectionOrigin::Kind::kConfigFile:
      return "interfaces from " + origin_.where + ": " + list;
    case SelectionOrigin::Kind::kUci:
      return "interfaces from UCI (" + origin_.where + "): " + list;
    case SelectionOrigin::Kind::kDefault:
      break;
  }
  return "interfaces: " + list + " (default)";
}

namespace {

constexpr const char* kUciPackage = "netmon";

std::optional<UciPackage> load_uci(const SelectionInputs& in) {
  if (in.uci_config_path) {
    auto text = read_text_file(*in.uci_config_path);
    if (!text) throw Error(errno_message(*in.uci_config_path + ": cannot read", ENOENT));
    check_text(*text, *in.uci_config_path);
    return parse_uci(*text, *in.uci_config_path);
  }
  if (!in.uci_program.empty()) {
    if (auto program = find_program(in.uci_program)) {
      // uci also applies uncommitted changes (`uci set` without commit) and
      // its own config dir, so it is the authority when present.
      if (auto out = run_uci_show(*program, kUciPackage)) {
        std::string where = "uci -q show " + std::string(kUciPackage);
        check_text(*out, where);
        return parse_uci_show(*out, kUciPackage, where);
      }
      // A non-zero exit means no such package, or one uci cannot parse; the
      // file itself tells which, with a line number.
    }
  }
  auto text = read_text_file(in.default_uci_path);
  if (!text) return std::nullopt;
  check_text(*text, in.default_uci_path);
  return parse_uci(*text, in.default_uci_path);
}

std::optional<UciSetting> setting(const std::optional<UciValue>& v, const std::string& where) {
  if (!v) return std::nullopt;
  return UciSetting{v->text, where + ":" + std::to_string(v->line)};
}

}  // namespace

ResolvedSelection resolve_selection(const SelectionInputs& in) {
  ResolvedSelection out;

  // UCI is read even when the interfaces come from elsewhere, for interval
  // and source; a broken UCI config is an error either way, as it would be
  // for the `uci` command.
  std::optional<UciNetmonConfig> uci;
  if (std::optional<UciPackage> package = load_uci(in)) {
    uci = extract_netmon_config(*package);
    out.interval = setting(uci->interval, uci->where);
    out.source = setting(uci->source, uci->where);
    out.uci_ledger = extract_ledger_config(*package);
  }

  if (!in.args.empty()) {
    out.selection = Selection(in.args, SelectionOrigin::command_line());
    return out;
  }

  const std::string& config_path = in.config_path ? *in.config_path : in.default_config_path;
  if (auto patterns = load_config_file(config_path)) {
    if (!patterns->empty()) {
      out.selection = Selection(std::move(*patterns), SelectionOrigin::config_file(config_path));
      return out;
    }
    // A file with only comments: an explicit --config is a mistake worth
    // stopping for, since the user named the file to get its interfaces.
    // The default path falls through, because a package may install a
    // commented-out template there while the router is configured in UCI.
    if (in.config_path) throw Error(config_path + ": no interfaces (only comments or blank lines)");
    out.warnings.push_back(config_path + " lists no interfaces; ignoring it");
  } else if (in.config_path) {
    throw Error(errno_message(config_path + ": cannot read", ENOENT));
  }

  if (uci && !uci->interfaces.empty()) {
    std::vector<std::string> patterns;
    for (const auto& v : uci->interfaces) patterns.push_back(v.text);
    out.selection = Selection(std::move(patterns), SelectionOrigin::uci(uci->where));
    return out;
  }
  return out;  // Selection() is "all", by default
}

}  // namespace netmon
