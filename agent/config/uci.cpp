#include "config/uci.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cctype>
#include <cerrno>
#include <cstdlib>
#include <functional>

#include "config/pattern.h"
#include "config/text_file.h"
#include "sys/error.h"
#include "sys/fd.h"
#include "sys/stop.h"

extern char** environ;

namespace netmon {
namespace {

std::string at(const std::string& where, int line) { return where + ":" + std::to_string(line); }

bool is_alnum(char c) { return std::isalnum(static_cast<unsigned char>(c)) != 0; }

// libuci's uci_validate_str(): section and option names are [A-Za-z0-9_]+;
// package names may also hold '-'; types are any printable non-space ASCII.
bool valid_name(std::string_view s, bool package = false) {
  if (s.empty()) return false;
  for (char c : s)
    if (!is_alnum(c) && c != '_' && !(package && c == '-')) return false;
  return true;
}

bool valid_type(std::string_view s) {
  if (s.empty()) return false;
  for (char c : s)
    if (static_cast<unsigned char>(c) < 33 || static_cast<unsigned char>(c) > 126) return false;
  return true;
}

struct Token {
  std::string text;
  int line = 0;
  bool quoted = false;  // any part was quoted: such a word is never a keyword
};

// One command: the words between newlines or ';'.
using Command = std::vector<Token>;

// Splits UCI file text into commands, following libuci's parse_str():
// quotes may span lines and keep the newlines, a backslash outside single
// quotes takes the next character literally (libuci does not decode \n and
// friends either) or, before a newline, joins the lines.
class Tokenizer {
 public:
  Tokenizer(std::string_view text, const std::string& where) : text_(text), where_(where) {}

  std::vector<Command> run() {
    std::vector<Command> commands;
    Command current;
    auto finish = [&] {
      if (!current.empty()) commands.push_back(std::move(current));
      current.clear();
    };
    while (pos_ < text_.size()) {
      char c = text_[pos_];
      if (c == '\n') {
        finish();
        ++line_;
        ++pos_;
      } else if (c == ';') {
        finish();
        ++pos_;
      } else if (c == '#') {
        while (pos_ < text_.size() && text_[pos_] != '\n') ++pos_;
      } else if (is_whitespace(c)) {
        ++pos_;
      } else if (c == '\\' && joins_line(pos_ + 1)) {
        // A lone line continuation between words.
        skip_continuation();
      } else {
        current.push_back(word());
      }
    }
    finish();
    return commands;
  }

 private:
  // True when a backslash before text_[p] ends the line (or the file).
  bool joins_line(std::size_t p) const {
    if (p >= text_.size() || text_[p] == '\n') return true;
    return text_[p] == '\r' && p + 1 < text_.size() && text_[p + 1] == '\n';
  }

  // At a backslash for which joins_line() holds: steps past it and the EOL.
  void skip_continuation() {
    ++pos_;
    if (pos_ < text_.size() && text_[pos_] == '\r') ++pos_;
    if (pos_ < text_.size()) {
      ++pos_;
      ++line_;
    }
  }

  // Outside single quotes: at a backslash, appends what it escapes.
  void backslash(std::string& out) {
    if (joins_line(pos_ + 1)) {
      skip_continuation();
      return;
    }
    out += text_[pos_ + 1];
    pos_ += 2;
  }

  void quoted(char quote, std::string& out) {
    int opened = line_;
    ++pos_;
    for (;;) {
      if (pos_ >= text_.size())
        throw Error(at(where_, opened) + ": unterminated " + quote + " (the quote opened here)");
      char c = text_[pos_];
      if (c == quote) {
        ++pos_;
        return;
      }
      if (c == '\\' && quote == '"') {
        backslash(out);
        continue;
      }
      if (c == '\n') ++line_;
      out += c;
      ++pos_;
    }
  }

  Token word() {
    Token t;
    t.line = line_;
    while (pos_ < text_.size()) {
      char c = text_[pos_];
      if (c == '\'' || c == '"') {
        t.quoted = true;
        quoted(c, t.text);
      } else if (c == '\\') {
        backslash(t.text);
      } else if (c == '#' || c == ';' || is_whitespace(c)) {
        break;
      } else {
        t.text += c;
        ++pos_;
      }
    }
    return t;
  }

  std::string_view text_;
  const std::string& where_;
  std::size_t pos_ = 0;
  int line_ = 1;
};

UciOption* find_option(UciSection& s, std::string_view name) {
  for (auto& o : s.options)
    if (o.name == name) return &o;
  return nullptr;
}

// option: replace, or delete on an empty value (as uci_set() does).
void set_option(UciSection& s, const std::string& name, UciValue value) {
  UciOption* o = find_option(s, name);
  if (value.text.empty()) {
    if (o) s.options.erase(s.options.begin() + (o - s.options.data()));
    return;
  }
  if (!o) {
    s.options.push_back({name, false, {}});
    o = &s.options.back();
  }
  o->is_list = false;
  o->values = {std::move(value)};
}

// list: append, turning a former option into the list's first element (as
// uci_add_list() does).
void add_list(UciSection& s, const std::string& name, UciValue value) {
  UciOption* o = find_option(s, name);
  if (!o) {
    s.options.push_back({name, true, {}});
    o = &s.options.back();
  }
  o->is_list = true;
  o->values.push_back(std::move(value));
}

std::string quote(std::string_view s) { return "'" + std::string(s) + "'"; }

}  // namespace

const UciOption* UciSection::find(std::string_view option) const {
  for (const auto& o : options)
    if (o.name == option) return &o;
  return nullptr;
}

UciPackage parse_uci(std::string_view text, const std::string& where) {
  UciPackage pkg;
  pkg.where = where;
  UciSection* section = nullptr;  // the one `option`/`list` add to

  for (const Command& cmd : Tokenizer(text, where).run()) {
    const Token& verb = cmd[0];
    auto fail = [&](const std::string& what) { throw Error(at(where, verb.line) + ": " + what); };
    auto keyword = [&](const char* full) {
      return !verb.quoted && (verb.text == full || verb.text == std::string(1, full[0]));
    };
    auto max_args = [&](std::size_t n) {
      if (cmd.size() > n + 1)
        fail("too many arguments to '" + verb.text + "' (" + quote(cmd[n + 1].text) +
             "); quote values that contain spaces");
    };

    if (keyword("package")) {
      if (cmd.size() < 2) fail("'package' without a name");
      if (!valid_name(cmd[1].text, true)) fail("invalid package name " + quote(cmd[1].text));
      max_args(1);
      // The file is one package whatever this says: libuci ignores the line
      // too when it loads /etc/config/<name>.
    } else if (keyword("config")) {
      if (cmd.size() < 2 || cmd[1].text.empty()) fail("'config' without a section type");
      const std::string& type = cmd[1].text;
      if (!valid_type(type)) fail("invalid section type " + quote(type));
      std::string name = cmd.size() > 2 ? cmd[2].text : "";
      if (!name.empty() && !valid_name(name))
        fail("invalid section name " + quote(name) + " (letters, digits and '_' only)");
      max_args(2);
      section = nullptr;
      if (!name.empty()) {
        for (auto& s : pkg.sections) {
          if (s.name != name) continue;
          if (s.type != type)
            fail("section " + quote(name) + " redefined with type " + quote(type) + " (was " +
                 quote(s.type) + " on line " + std::to_string(s.line) + ")");
          section = &s;
        }
      }
      if (!section) {
        pkg.sections.push_back({type, name, name.empty(), verb.line, {}});
        section = &pkg.sections.back();
      }
    } else if (keyword("option") || keyword("list")) {
      bool list = verb.text[0] == 'l';
      if (!section) fail("'" + verb.text + "' before the first 'config' section");
      if (cmd.size() < 2 || cmd[1].text.empty()) fail("'" + verb.text + "' without a name");
      const std::string& name = cmd[1].text;
      if (!valid_name(name))
        fail("invalid option name " + quote(name) + " (letters, digits and '_' only)");
      max_args(2);
      UciValue value{cmd.size() > 2 ? cmd[2].text : "", verb.line};
      if (list)
        add_list(*section, name, std::move(value));
      else
        set_option(*section, name, std::move(value));
    } else {
      fail("invalid command " + quote(verb.text) +
           " (expected 'package', 'config', 'option' or 'list')");
    }
  }
  return pkg;
}

namespace {

// The value side of a `uci show` line: words separated by spaces, each made
// of 'quoted' parts, backslash escapes and bare characters, as uci's own
// escaping ('it'\''s') produces.
std::vector<std::string> show_words(std::string_view s,
                                    const std::function<void(std::string)>& fail) {
  std::vector<std::string> words;
  std::size_t i = 0;
  while (i < s.size()) {
    if (is_whitespace(s[i])) {
      ++i;
      continue;
    }
    std::string w;
    while (i < s.size() && !is_whitespace(s[i])) {
      if (s[i] == '\'') {
        std::size_t end = s.find('\'', i + 1);
        if (end == std::string_view::npos) fail("unterminated '");
        w.append(s.substr(i + 1, end - i - 1));
        i = end + 1;
      } else if (s[i] == '\\' && i + 1 < s.size()) {
        w += s[i + 1];
        i += 2;
      } else {
        w += s[i++];
      }
    }
    words.push_back(std::move(w));
  }
  return words;
}

}  // namespace

UciPackage parse_uci_show(std::string_view text, std::string_view package,
                          const std::string& where) {
  UciPackage pkg;
  pkg.where = where;
  const std::string prefix = std::string(package) + ".";
  int line = 0;
  auto find_section = [&](const std::string& name) -> UciSection* {
    for (auto& s : pkg.sections)
      if (s.name == name) return &s;
    return nullptr;
  };

  while (!text.empty()) {
    ++line;
    std::size_t eol = text.find('\n');
    std::string_view l = text.substr(0, eol);
    text.remove_prefix(eol == std::string_view::npos ? text.size() : eol + 1);
    if (!l.empty() && l.back() == '\r') l.remove_suffix(1);
    if (l.empty()) continue;
    auto fail = [&](const std::string& what) {
      throw Error(at(where, line) + ": " + what + " in " + quote(l));
    };

    if (l.substr(0, prefix.size()) != prefix)
      fail("not a line of package '" + std::string(package) + "'");
    std::string_view key = l.substr(prefix.size());
    // The section part may be "@type[N]", whose type may hold '.' or '='.
    std::size_t sect_end = 0;
    if (!key.empty() && key[0] == '@') {
      sect_end = key.find(']');
      if (sect_end == std::string_view::npos) fail("unterminated '@type[N]'");
      ++sect_end;
    } else {
      sect_end = key.find_first_of(".=");
      if (sect_end == std::string_view::npos) fail("missing '='");
    }
    std::string section_name(key.substr(0, sect_end));
    std::string_view rest = key.substr(sect_end);
    bool anonymous = section_name[0] == '@';
    if (!anonymous && !valid_name(section_name)) fail("invalid section name");

    if (!rest.empty() && rest[0] == '=') {
      // pkg.section=type: uci prints types bare.
      std::string type(rest.substr(1));
      if (!valid_type(type)) fail("invalid section type");
      if (UciSection* s = find_section(section_name)) {
        s->type = type;
      } else {
        pkg.sections.push_back({type, section_name, anonymous, line, {}});
      }
      continue;
    }
    if (rest.empty() || rest[0] != '.') fail("expected '=' or '.'");
    rest.remove_prefix(1);
    std::size_t eq = rest.find('=');
    if (eq == std::string_view::npos) fail("missing '='");
    std::string option(rest.substr(0, eq));
    if (!valid_name(option)) fail("invalid option name");
    std::vector<std::string> words = show_words(rest.substr(eq + 1), fail);

    UciSection* s = find_section(section_name);
    if (!s) {
      // uci prints the section line first; tolerate an odd order anyway.
      pkg.sections.push_back({"", section_name, anonymous, line, {}});
      s = &pkg.sections.back();
    }
    // A one-element list prints like an option; netmon treats both alike.
    if (words.size() == 1) {
      set_option(*s, option, {words[0], line});
    } else {
      for (auto& w : words) add_list(*s, option, {std::move(w), line});
    }
  }
  return pkg;
}

UciNetmonConfig extract_netmon_config(const UciPackage& package) {
  UciNetmonConfig out;
  out.where = package.where;
  auto add_interfaces = [&](const UciValue& v) {
    // Several names may share one value, separated by spaces, as in many
    // OpenWrt options ("option ifname 'eth0 eth1'").
    for (std::string_view word : split_words(v.text, kWhitespace)) {
      std::string name(word);
      std::string problem = pattern_problem(name);
      if (!problem.empty())
        throw Error(at(package.where, v.line) + ": invalid interface " + quote(name) + ": " +
                    problem);
      out.interfaces.push_back({std::move(name), v.line});
    }
  };

  for (const UciSection& s : package.sections) {
    if (s.type == "netmon") {
      if (const UciOption* o = s.find("interface"))
        for (const auto& v : o->values) add_interfaces(v);
      // The last value, as for an option repeated in one section.
      if (const UciOption* o = s.find("interval"); o && !o->values.empty())
        out.interval = o->values.back();
      if (const UciOption* o = s.find("source"); o && !o->values.empty())
        out.source = o->values.back();
    } else if (s.anonymous) {
      continue;  // some other kind of section; not ours to judge
    } else if (s.name == "interface") {
      add_interfaces({s.type, s.line});
    } else if (s.name == "interval") {
      out.interval = UciValue{s.type, s.line};
    } else if (s.name == "source") {
      out.source = UciValue{s.type, s.line};
    }
  }
  return out;
}

std::optional<std::string> find_program(const std::string& program) {
  if (program.empty()) return std::nullopt;
  if (program.find('/') != std::string::npos) {
    if (::access(program.c_str(), X_OK) == 0) return program;
    return std::nullopt;
  }
  const char* path = std::getenv("PATH");
  std::string_view dirs = path ? path : "/usr/bin:/bin";
  while (true) {
    std::size_t colon = dirs.find(':');
    std::string dir(dirs.substr(0, colon));
    if (dir.empty()) dir = ".";
    std::string candidate = dir + "/" + program;
    if (::access(candidate.c_str(), X_OK) == 0) return candidate;
    if (colon == std::string_view::npos) break;
    dirs.remove_prefix(colon + 1);
  }
  return std::nullopt;
}

std::optional<std::string> run_uci_show(const std::string& program, const std::string& package) {
  const std::string what = program + " -q show " + package;
  int fds[2];
  if (::pipe2(fds, O_CLOEXEC) != 0) throw Error(errno_message("cannot run " + what, errno));
  Fd read_end(fds[0]);
  Fd write_end(fds[1]);

  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_adddup2(&actions, write_end.get(), STDOUT_FILENO);
  posix_spawn_file_actions_addopen(&actions, STDERR_FILENO, "/dev/null", O_WRONLY, 0);
  posix_spawn_file_actions_addopen(&actions, STDIN_FILENO, "/dev/null", O_RDONLY, 0);
  std::string q = "-q", show = "show", pkg = package, prog = program;
  char* argv[] = {prog.data(), q.data(), show.data(), pkg.data(), nullptr};
  // The agent blocks its stop signals and ignores SIGPIPE; uci gets the
  // defaults, so that it can be stopped like any command.
  posix_spawnattr_t attr;
  posix_spawnattr_init(&attr);
  sigset_t none, defaults;
  sigemptyset(&none);
  sigemptyset(&defaults);
  for (int sig : {SIGINT, SIGTERM, SIGHUP, SIGPIPE}) sigaddset(&defaults, sig);
  posix_spawnattr_setsigmask(&attr, &none);
  posix_spawnattr_setsigdefault(&attr, &defaults);
  posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF);
  pid_t pid;
  int err = posix_spawn(&pid, program.c_str(), &actions, &attr, argv, environ);
  posix_spawn_file_actions_destroy(&actions);
  posix_spawnattr_destroy(&attr);
  if (err != 0) throw Error(errno_message("cannot run " + what, err));
  write_end.reset();

  std::string out;
  bool too_big = false;
  char buf[4096];
  for (;;) {
    // A uci that hangs must not make start-up deaf to SIGTERM.
    pollfd waits[2] = {{read_end.get(), POLLIN, 0}, {stop_fd(), POLLIN, 0}};
    if (::poll(waits, waits[1].fd >= 0 ? 2 : 1, -1) < 0) {
      if (errno == EINTR) continue;
      throw Error(errno_message("cannot wait for " + what, errno));
    }
    if (waits[1].fd >= 0 && waits[1].revents) {
      ::kill(pid, SIGKILL);
      while (::waitpid(pid, nullptr, 0) < 0 && errno == EINTR) {
      }
      throw_if_stop_requested();
    }
    if (!waits[0].revents) continue;
    ssize_t n = ::read(read_end.get(), buf, sizeof(buf));
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    if (out.size() + static_cast<std::size_t>(n) > kMaxConfigBytes) {
      // Keep draining, so the child is not stuck on a full pipe.
      too_big = true;
      continue;
    }
    out.append(buf, static_cast<std::size_t>(n));
  }
  int status = 0;
  while (::waitpid(pid, &status, 0) < 0) {
    if (errno != EINTR) throw Error(errno_message("cannot wait for " + what, errno));
  }
  if (too_big)
    throw Error(what + ": output larger than " + std::to_string(kMaxConfigBytes) + " bytes");
  if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) return std::nullopt;
  return out;
}

}  // namespace netmon
