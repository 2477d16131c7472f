#include "ledger/report.h"

#include <algorithm>
#include <cstdio>
#include <nlohmann/json.hpp>

namespace netmon::ledger {
namespace {

struct Kind {
  const char* word;
  PeriodKind kind;
  const char* title;
  const char* column;
};

const Kind kKinds[] = {
    {"fivemin", PeriodKind::kFiveMin, "five minutes", "time"},
    {"hours", PeriodKind::kHour, "hourly", "hour"},
    {"days", PeriodKind::kDay, "daily", "day"},
    {"months", PeriodKind::kMonth, "monthly", "month"},
    {"years", PeriodKind::kYear, "yearly", "year"},
    {"top", PeriodKind::kDay, "top days", "day"},
};

std::string pad_left(const std::string& s, size_t w) {
  return s.size() >= w ? s : std::string(w - s.size(), ' ') + s;
}
std::string pad_right(const std::string& s, size_t w) {
  return s.size() >= w ? s : s + std::string(w - s.size(), ' ');
}

uint64_t total(const Counts& c) { return c.rx_bytes + c.tx_bytes; }

void table(std::ostream& out, const std::string& name, const Kind& k, const std::vector<Row>& rows,
           const std::vector<std::string>& labels, const Row* estimate) {
  constexpr size_t kW = 12;
  size_t lw = std::string(k.column).size();
  for (const auto& l : labels) lw = std::max(lw, l.size());
  if (estimate) lw = std::max(lw, std::string("estimated").size());
  auto line = [&](const std::string& label, const std::string& rx, const std::string& tx,
                  const std::string& tot) {
    out << "  " << pad_right(label, lw) << "  " << pad_left(rx, kW) << " | " << pad_left(tx, kW)
        << " | " << pad_left(tot, kW) << "\n";
  };
  std::string rule = "  " + std::string(lw + 2 + kW + 1, '-') + "+" + std::string(kW + 2, '-') +
                     "+" + std::string(kW + 1, '-') + "\n";
  out << " " << name << "  /  " << k.title << "\n\n";
  line(k.column, "rx", "tx", "total");
  out << rule;
  if (rows.empty()) out << "  (no data)\n";
  for (size_t i = 0; i < rows.size(); ++i)
    line(labels[i], human_bytes(rows[i].counts.rx_bytes), human_bytes(rows[i].counts.tx_bytes),
         human_bytes(total(rows[i].counts)));
  out << rule;
  if (estimate)
    line("estimated", human_bytes(estimate->counts.rx_bytes),
         human_bytes(estimate->counts.tx_bytes), human_bytes(total(estimate->counts)));
  out << "\n";
}

// The current month extrapolated linearly to its end, as vnStat does.
bool month_estimate(const std::vector<Row>& rows, const ReportOptions& opts, Row* out) {
  if (rows.empty() || opts.now <= 0) return false;
  int64_t start = period_start(PeriodKind::kMonth, opts.now, opts.calendar);
  if (rows.back().period != period_label(PeriodKind::kMonth, start, opts.calendar)) return false;
  int64_t end = period_end(PeriodKind::kMonth, start, opts.calendar);
  long double f = static_cast<long double>(end - start) / std::max<int64_t>(opts.now - start, 1);
  const Counts& c = rows.back().counts;
  out->period = "estimated";
  out->counts = {static_cast<uint64_t>(c.rx_bytes * f), static_cast<uint64_t>(c.rx_packets * f),
                 static_cast<uint64_t>(c.tx_bytes * f), static_cast<uint64_t>(c.tx_packets * f)};
  return true;
}

}  // namespace

std::string human_bytes(uint64_t bytes) {
  static const char* const units[] = {"KiB", "MiB", "GiB", "TiB", "PiB", "EiB"};
  if (bytes < 1024) return std::to_string(bytes) + " B";
  long double v = bytes;
  int u = -1;
  while (v >= 1024 && u < 5) {
    v /= 1024;
    ++u;
  }
  char buf[32];
  snprintf(buf, sizeof buf, "%.2Lf %s", v, units[u]);
  return buf;
}

bool write_report(const Store& store, const ReportOptions& opts, std::ostream& out,
                  std::string* error) {
  const Kind* k = nullptr;
  for (const Kind& c : kKinds)
    if (opts.period == c.word) k = &c;
  if (!k) {
    *error = "unknown report period '" + opts.period +
             "': expected fivemin, hours, days, months, years or top";
    return false;
  }
  std::vector<std::string> known = store.interfaces();
  std::vector<std::string> names = opts.interfaces.empty() ? known : opts.interfaces;
  for (const auto& n : names)
    if (!std::binary_search(known.begin(), known.end(), n)) {
      *error = "interface '" + n + "' is not in the ledger '" + store.path() + "'";
      return false;
    }
  bool top = std::string(k->word) == "top";

  nlohmann::ordered_json doc;
  doc["interfaces"] = nlohmann::ordered_json::object();
  for (const auto& name : names) {
    std::vector<Row> rows = store.rows(k->kind, name);
    if (top) {
      // Busiest first; equal days oldest first (stable on the ordered rows).
      std::stable_sort(rows.begin(), rows.end(), [](const Row& a, const Row& b) {
        return total(a.counts) > total(b.counts);
      });
      if (rows.size() > opts.top) rows.resize(opts.top);
    }
    Row est;
    bool has_est = k->kind == PeriodKind::kMonth && month_estimate(rows, opts, &est);
    if (opts.json) {
      auto list = nlohmann::ordered_json::array();
      for (const Row& r : rows)
        list.push_back({{"period", r.period},
                        {"rx_bytes", r.counts.rx_bytes},
                        {"rx_packets", r.counts.rx_packets},
                        {"tx_bytes", r.counts.tx_bytes},
                        {"tx_packets", r.counts.tx_packets}});
      doc["interfaces"][name][k->word] = list;
    } else {
      std::vector<std::string> labels;
      for (size_t i = 0; i < rows.size(); ++i)
        labels.push_back(top ? std::to_string(i + 1) + ". " + rows[i].period : rows[i].period);
      table(out, name, *k, rows, labels, has_est ? &est : nullptr);
    }
  }
  if (opts.json) out << doc.dump() << "\n";
  return true;
}

}  // namespace netmon::ledger
