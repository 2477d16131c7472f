#include "sources/proc/proc_format.h"

#include <netmon/abi.h>

#include <array>
#include <climits>
#include <cstdint>
#include <optional>

#include "sys/error.h"

namespace netmon {
namespace {

static_assert(NETMON_PROC_VERSION == kProcFormatVersion,
              "the parser must follow the module's /proc/netmon format");

// Linux interface names are at most IFNAMSIZ - 1 bytes.
constexpr size_t kMaxNameLength = 15;

// Columns every format-1 file has; the rest of the known ones are checked
// as numbers but not used (Counters carries only these four).
enum Column { kIface, kIfindex, kRxBytes, kRxPackets, kTxBytes, kTxPackets, kRequiredColumns };
constexpr std::array<std::string_view, kRequiredColumns> kRequired = {
    "iface", "ifindex", "rx_bytes", "rx_packets", "tx_bytes", "tx_packets"};
constexpr std::array<std::string_view, 4> kKnownNumeric = {"rx_errors", "tx_errors", "rx_dropped",
                                                           "tx_dropped"};

bool is_space(char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\v' || c == '\f'; }

std::vector<std::string_view> split_fields(std::string_view line) {
  std::vector<std::string_view> fields;
  size_t i = 0;
  while (i < line.size()) {
    while (i < line.size() && is_space(line[i])) ++i;
    size_t start = i;
    while (i < line.size() && !is_space(line[i])) ++i;
    if (i > start) fields.push_back(line.substr(start, i - start));
  }
  return fields;
}

// A token as it can safely appear in a one-line message: bounded length,
// control and non-ASCII bytes escaped (the input may be anything).
std::string quoted(std::string_view token) {
  constexpr size_t kShown = 32;
  static const char kHex[] = "0123456789abcdef";
  std::string out = "'";
  for (size_t i = 0; i < token.size() && i < kShown; ++i) {
    auto c = static_cast<unsigned char>(token[i]);
    if (c >= 0x20 && c < 0x7f && c != '\'' && c != '\\') {
      out += static_cast<char>(c);
    } else {
      out += "\\x";
      out += kHex[c >> 4];
      out += kHex[c & 0xf];
    }
  }
  if (token.size() > kShown) out += "...";
  return out + "'";
}

// Strict unsigned decimal: digits only (no sign, no spaces, no hex), and
// nothing that would not fit: a counter is either exact or an error.
std::optional<uint64_t> parse_u64(std::string_view text, bool& overflow) {
  overflow = false;
  if (text.empty()) return std::nullopt;
  uint64_t value = 0;
  for (char c : text) {
    if (c < '0' || c > '9') return std::nullopt;
    auto digit = static_cast<uint64_t>(c - '0');
    if (value > (UINT64_MAX - digit) / 10) {
      overflow = true;
      return std::nullopt;
    }
    value = value * 10 + digit;
  }
  return value;
}

class Parser {
 public:
  explicit Parser(std::string_view origin) : origin_(origin) {}

  [[noreturn]] void fail(size_t line, const std::string& what) const {
    throw Error(std::string(origin_) + ":" + std::to_string(line) + ": " + what);
  }
  [[noreturn]] void fail_newer(size_t line, const std::string& what) const {
    throw ProcNewerFormat(std::string(origin_) + ":" + std::to_string(line) + ": " + what);
  }

  void marker(size_t line_no, std::string_view line) {
    std::vector<std::string_view> f = split_fields(line);
    // "# netmon 1", tolerating "#netmon 1"; a minor version ("1.2") would be
    // a compatible addition, so only the major number is checked.
    if (!f.empty() && f[0].size() > 1 && f[0][0] == '#') {
      f[0].remove_prefix(1);
      f.insert(f.begin(), "#");
    }
    if (f.size() < 3 || f[0] != "#" || f[1] != "netmon")
      fail(line_no, "missing the '# netmon <version>' marker: not a netmon_proc file");
    std::string_view version = f[2];
    const size_t dot = version.find('.');
    std::string_view major_text = version.substr(0, dot);
    bool overflow = false;
    const uint64_t major = parse_u64(major_text, overflow).value_or(0);
    bool minor_ok = true;
    if (dot != std::string_view::npos) {
      bool minor_overflow = false;
      minor_ok = parse_u64(version.substr(dot + 1), minor_overflow).has_value() || minor_overflow;
    }
    if (minor_ok && (overflow || major > static_cast<uint64_t>(kProcFormatVersion)))
      fail_newer(line_no, "written by a newer netmon_proc (format " +
                              std::string(major_text.substr(0, 20)) +
                              "); this agent reads format " + std::to_string(kProcFormatVersion));
    if (!minor_ok || major < 1)
      fail(line_no, "invalid format version " + quoted(version) + " in the marker");
  }

  void header(size_t line_no, std::string_view line) {
    if (line.empty() || line[0] != '#')
      fail(line_no, "missing the column header ('# iface ifindex rx_bytes ...')");
    line.remove_prefix(1);
    std::vector<std::string_view> names = split_fields(line);
    required_.fill(-1);
    numeric_.clear();
    for (size_t i = 0; i < names.size(); ++i) {
      for (size_t j = 0; j < i; ++j)
        if (names[j] == names[i]) fail(line_no, "column " + quoted(names[i]) + " appears twice");
      for (size_t r = 0; r < kRequired.size(); ++r)
        if (names[i] == kRequired[r]) required_[r] = static_cast<int>(i);
      for (std::string_view known : kKnownNumeric)
        if (names[i] == known) numeric_.push_back({i, known});
    }
    std::string missing;
    for (size_t r = 0; r < kRequired.size(); ++r) {
      if (required_[r] >= 0) continue;
      if (!missing.empty()) missing += ", ";
      missing += kRequired[r];
    }
    if (!missing.empty()) fail(line_no, "column header lacks " + missing);
    columns_ = names.size();
  }

  ProcRow row(size_t line_no, std::string_view line) const {
    std::vector<std::string_view> f = split_fields(line);
    if (f.size() != columns_)
      fail(line_no, "expected " + std::to_string(columns_) + " fields as in the header, found " +
                        std::to_string(f.size()));
    ProcRow row;
    std::string_view name = f[required_[kIface]];
    if (name.size() > kMaxNameLength ||
        name.find_first_of(std::string_view("/:\0", 3)) != std::string_view::npos)
      fail(line_no, quoted(name) + " is not an interface name");
    row.name = std::string(name);

    uint64_t ifindex = number(line_no, f[required_[kIfindex]], "ifindex");
    if (ifindex < 1 || ifindex > static_cast<uint64_t>(INT_MAX))
      fail(line_no, "ifindex " + std::to_string(ifindex) + " is out of range");
    row.ifindex = static_cast<int>(ifindex);

    row.counters.rx_bytes = number(line_no, f[required_[kRxBytes]], "rx_bytes");
    row.counters.rx_packets = number(line_no, f[required_[kRxPackets]], "rx_packets");
    row.counters.tx_bytes = number(line_no, f[required_[kTxBytes]], "tx_bytes");
    row.counters.tx_packets = number(line_no, f[required_[kTxPackets]], "tx_packets");
    // Known but unused columns are still format-1 counters: garbage there
    // means the file is not what we think it is.
    for (const auto& [index, column] : numeric_) number(line_no, f[index], column);
    return row;
  }

 private:
  uint64_t number(size_t line_no, std::string_view text, std::string_view column) const {
    bool overflow = false;
    std::optional<uint64_t> value = parse_u64(text, overflow);
    if (overflow)
      fail(line_no, std::string(column) + " " + quoted(text) + " does not fit in 64 bits");
    if (!value)
      fail(line_no,
           std::string(column) + " " + quoted(text) + " is not an unsigned decimal number");
    return *value;
  }

  std::string_view origin_;
  std::array<int, kRequiredColumns> required_{};
  std::vector<std::pair<size_t, std::string_view>> numeric_;
  size_t columns_ = 0;
};

}  // namespace

std::vector<ProcRow> parse_proc_netmon(std::string_view text, std::string_view origin) {
  Parser parser(origin);
  std::vector<ProcRow> rows;
  size_t line_no = 0;
  size_t pos = 0;
  while (pos < text.size()) {
    size_t end = text.find('\n', pos);
    const bool terminated = end != std::string_view::npos;
    if (!terminated) end = text.size();
    std::string_view line = text.substr(pos, end - pos);
    pos = end + 1;
    ++line_no;

    if (line_no == 1) {
      parser.marker(line_no, line);
      continue;
    }
    if (line_no == 2) {
      parser.header(line_no, line);
      continue;
    }
    if (split_fields(line).empty()) continue;
    // The module ends every line with '\n'; a last line without one may
    // have been cut short, and a cut number is a wrong number.
    if (!terminated) parser.fail(line_no, "incomplete last line (no newline): file cut short?");
    rows.push_back(parser.row(line_no, line));
  }
  if (line_no == 0) parser.fail(1, "empty file: not written by netmon_proc");
  if (line_no == 1) parser.fail(2, "missing the column header ('# iface ifindex rx_bytes ...')");
  return rows;
}

}  // namespace netmon
