#include "ledger/ledger.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <utility>

namespace netmon::ledger {
namespace {

constexpr PeriodKind kStored[5] = {PeriodKind::kFiveMin, PeriodKind::kHour, PeriodKind::kDay,
                                   PeriodKind::kMonth, PeriodKind::kYear};
constexpr int kDaySlot = 2, kMonthSlot = 3;

const LedgerOptions& checked(const LedgerOptions& opts) {
  if (auto why = validate(opts.calendar)) throw LedgerError(*why);
  if (opts.save_interval_s < 1) throw LedgerError("ledger save interval must be at least 1 s");
  for (int t : opts.thresholds)
    if (t < 1 || t > 1000)
      throw LedgerError("quota threshold " + std::to_string(t) + " out of range");
  return opts;
}

void log_note(const Note& n) {
  switch (n.kind) {
    case NoteKind::kClockHeld:
      spdlog::warn("ledger: {}", n.detail);
      break;
    case NoteKind::kClockReleased:
    case NoteKind::kRecreated:
    case NoteKind::kReset:
    case NoteKind::kRebootCredit:
    case NoteKind::kRestartCredit:
      spdlog::info("ledger: {}{}{}", n.name, n.name.empty() ? "" : ": ", n.detail);
      break;
    default:
      spdlog::debug("ledger: {}: {}", n.name, n.detail);
  }
}

}  // namespace

Ledger::Ledger(LedgerOptions opts, std::string boot_id, int64_t now)
    : opts_(std::move(opts)),
      store_(Store::open(checked(opts_).path, opts_.store, now)),
      booker_(opts_.booking, std::move(boot_id)) {
  booker_.restore(store_.identities());
  booker_.set_clock_floor(store_.clock_floor());
  marks_ = store_.quota_marks();
}

Ledger::~Ledger() {
  if (closed_) return;
  try {
    close();
  } catch (const std::exception& e) {
    spdlog::error("ledger database '{}': final save failed: {}", opts_.path, e.what());
  }
}

Counts& Ledger::current(const std::string& name, int which, int64_t start) {
  return current(pending(name, kNoPosition), name, which, start);
}

Counts& Ledger::current(Pending& p, const std::string& name, int which, int64_t start) {
  Slot& cur = p.current[which];
  if (p.current_valid[which] && cur.start == start) return cur.counts;
  PeriodKind kind = which == 0 ? PeriodKind::kDay : PeriodKind::kMonth;
  cur.start = start;
  cur.counts = store_.total(kind, name, period_label(kind, start, opts_.calendar));
  cur.counts += unsaved(p, which == 0 ? kDaySlot : kMonthSlot, start);
  p.current_valid[which] = true;
  return cur.counts;
}

Ledger::Pending& Ledger::pending(const std::string& name, size_t position) {
  const uint32_t interface = booker_.interface_at(position);
  if (interface != Booker::kUnknown && booker_.name_of(interface) == name)
    return pending_of(interface);
  auto [entry, added] = by_name_.try_emplace(name, static_cast<uint32_t>(pending_.size()));
  if (added) pending_.emplace_back().name = name;
  return pending_[entry->second];
}

Ledger::Pending& Ledger::pending_of(uint32_t interface) {
  if (interface >= of_interface_.size()) of_interface_.resize(interface + 1, kUnknown);
  uint32_t& known = of_interface_[interface];
  if (known == kUnknown) {
    const std::string& name = booker_.name_of(interface);
    auto [entry, added] = by_name_.try_emplace(name, static_cast<uint32_t>(pending_.size()));
    if (added) pending_.emplace_back().name = name;
    known = entry->second;
  }
  return pending_[known];
}

uint32_t Ledger::epoch_of(const int64_t (&start)[5]) {
  // Few: one per five minutes between saves, the newest last.
  for (size_t e = epochs_.size(); e-- > 0;)
    if (std::equal(std::begin(start), std::end(start), epochs_[e].start))
      return static_cast<uint32_t>(e);
  Epoch& added = epochs_.emplace_back();
  std::copy(std::begin(start), std::end(start), added.start);
  return static_cast<uint32_t>(epochs_.size() - 1);
}

void Ledger::add_unsaved(Pending& p, uint32_t epoch, const Counts& delta) {
  if (p.open_used && p.open_epoch == epoch) {
    p.open += delta;  // the usual case
    return;
  }
  if (!p.open_used) {
    p.open_used = true;
    p.open_epoch = epoch;
    p.open = delta;
    return;
  }
  // The newest epoch stays open: older ones (a period that ended before
  // the save, traffic held while the clock was wrong) go aside.
  uint32_t aside = epoch;
  Counts aside_counts = delta;
  if (epochs_[epoch].start[0] > epochs_[p.open_epoch].start[0]) {
    aside = p.open_epoch;
    aside_counts = p.open;
    p.open_epoch = epoch;
    p.open = delta;
  }
  for (auto& [e, counts] : p.older)
    if (e == aside) {
      counts += aside_counts;
      return;
    }
  p.older.emplace_back(aside, aside_counts);
}

Counts Ledger::unsaved(const Pending& p, int kind, int64_t start) const {
  Counts sum;
  if (p.open_used && epochs_[p.open_epoch].start[kind] == start) sum += p.open;
  for (const auto& [e, counts] : p.older)
    if (epochs_[e].start[kind] == start) sum += counts;
  return sum;
}

void Ledger::rows(const Pending& p, std::vector<Row>& rows) const {
  rows.clear();
  auto add = [&](uint32_t epoch, const Counts& counts) {
    for (int kind = 0; kind < 5; ++kind) {
      const int64_t start = epochs_[epoch].start[kind];
      auto row = std::find_if(rows.begin(), rows.end(),
                              [&](const Row& r) { return r.kind == kind && r.start == start; });
      if (row == rows.end())
        rows.push_back({kind, start, counts});
      else
        row->counts += counts;
    }
  };
  for (const auto& [e, counts] : p.older) add(e, counts);
  if (p.open_used) add(p.open_epoch, p.open);
}

void Ledger::book(const Booking& b) {
  if (!starts_of(b.wall).has_epoch) {
    starts_.epoch = epoch_of(starts_.start);
    starts_.has_epoch = true;
  }
  Pending& p = pending_of(b.interface);
  add_unsaved(p, starts_.epoch, b.delta);
  for (int w = 0; w < 2; ++w) {
    int64_t s = starts_.start[w == 0 ? kDaySlot : kMonthSlot];
    Slot& cur = p.current[w];
    if (p.current_valid[w] && cur.start == s)
      cur.counts += b.delta;
    else if (!p.current_valid[w] || s > cur.start)
      current(p, p.name, w, s);  // loads store + pending, which already holds b
  }
}

void Ledger::tick(int64_t wall, int64_t mono_ns, const std::vector<Reading>& readings,
                  LedgerEvents* events) {
  if (pending_.empty()) {  // as in Booker::tick: the first tick sizes for all
    pending_.reserve(readings.size());
    by_name_.reserve(readings.size());
    of_interface_.reserve(readings.size());
  }
  const TickResult& r = booker_.tick(wall, mono_ns, readings);
  for (const Note& n : r.notes) {
    log_note(n);
    if (events) events->on_note(n);
  }
  for (const Booking& b : r.bookings) book(b);
  if (!booker_.holding()) last_wall_ = wall;
  if (last_save_mono_ < 0) last_save_mono_ = mono_ns;
  if (!booker_.holding()) check_quotas(wall, events);
}

void Ledger::check_quotas(int64_t now, LedgerEvents* events) {
  bool fired = false;
  for (const Quota& q : opts_.quotas) {
    QuotaStatus st = evaluate(q, usage(q.name, q.period, now), now, opts_.calendar);
    for (int t : q.thresholds.empty() ? opts_.thresholds : q.thresholds) {
      if (st.used < threshold_bytes(q.limit, t)) break;
      QuotaMark m{q.name, q.key(), st.period, t};
      if (!marks_.insert(m).second) continue;
      unsaved_marks_.push_back(m);
      fired = true;
      spdlog::warn("quota: {} has used {} of {} bytes ({:.1f} %, threshold {} %) in {} {}", q.name,
                   st.used, st.limit, st.percent, t, period_name(q.period), st.period);
      if (events) events->on_quota({q.name, q, t, st});
    }
  }
  // Saved at once: a restart right after an alert must not repeat it.
  if (fired) save();
}

bool Ledger::maybe_save(int64_t mono_ns) {
  if (last_save_mono_ < 0) {
    last_save_mono_ = mono_ns;
    return false;
  }
  if (mono_ns - last_save_mono_ < opts_.save_interval_s * 1'000'000'000) return false;
  last_save_mono_ = mono_ns;
  save();
  return true;
}

SaveStatus Ledger::save() {
  SaveBatch batch;
  // Every interface shares the same few periods: one label per period.
  std::map<std::pair<int, int64_t>, std::string> labels;
  std::vector<Row> of_one;
  batch.deltas = [&](const std::function<bool(const PeriodDelta&)>& each) {
    for (const Pending& p : pending_) {
      rows(p, of_one);
      for (const Row& row : of_one) {
        auto it = labels.find({row.kind, row.start});
        if (it == labels.end())
          it = labels
                   .emplace(std::make_pair(row.kind, row.start),
                            period_label(kStored[row.kind], row.start, opts_.calendar))
                   .first;
        if (!each({kStored[row.kind], p.name, it->second, row.counts})) return;
      }
    }
  };
  batch.identities = [&](const std::function<bool(const Identity&)>& each) {
    booker_.visit_identities(/*changed_only=*/true, each);
  };
  batch.marks = unsaved_marks_;
  batch.now = last_wall_;
  batch.newest_slot = booker_.clock_floor();
  // An hour-old clock floor after a crash only narrows what a restart
  // can tell about a clock gone back; close() always writes it.
  batch.housekeeping = closed_ || last_housekeeping_ < 0 ||
                       last_wall_ - last_housekeeping_ >= 3600 || last_wall_ < last_housekeeping_;
  std::string err;
  SaveStatus st = store_.save(batch, &err);
  if (st == SaveStatus::kOk) {
    for (Pending& p : pending_) {
      p.open_used = false;
      p.older.clear();
    }
    epochs_.clear();
    starts_.has_epoch = false;  // its epoch is gone
    unsaved_marks_.clear();
    booker_.mark_saved();
    ++stats_.saves;
    if (batch.housekeeping) last_housekeeping_ = last_wall_;
  } else {
    ++stats_.failed_saves;
    spdlog::warn(
        "ledger database '{}': {} ({}); keeping {} unsaved totals in memory for the next save",
        opts_.path, st == SaveStatus::kFull ? "disk full" : "save failed", err, pending_rows());
  }
  return st;
}

SaveStatus Ledger::close() {
  for (const Booking& b : booker_.flush_held()) book(b);
  closed_ = true;
  return save();
}

Counts Ledger::usage(const std::string& name, PeriodKind kind, int64_t now) {
  int which = kind == PeriodKind::kDay ? 0 : 1;
  return current(name, which, starts_of(now).start[which == 0 ? kDaySlot : kMonthSlot]);
}

void Ledger::usage(const std::string& name, int64_t now, Counts* day, Counts* month,
                   size_t position) {
  day_and_month_usage(pending(name, position), now, day, month);
}

void Ledger::usage_at(size_t position, int64_t now, Counts* day, Counts* month) {
  const uint32_t interface = booker_.interface_at(position);
  if (interface == Booker::kUnknown) {
    *day = *month = Counts{};
    return;
  }
  day_and_month_usage(pending_of(interface), now, day, month);
}

void Ledger::day_and_month_usage(Pending& p, int64_t now, Counts* day, Counts* month) {
  const Starts& starts = starts_of(now);
  // Every interface, every tick: the totals in hand, without a call.
  auto of = [&](int which, int64_t start) -> const Counts& {
    const Slot& cur = p.current[which];
    return p.current_valid[which] && cur.start == start ? cur.counts
                                                        : current(p, p.name, which, start);
  };
  *day = of(0, starts.start[kDaySlot]);
  *month = of(1, starts.start[kMonthSlot]);
}

std::pair<int64_t, int64_t> Ledger::day_and_month(int64_t now) {
  const Starts& starts = starts_of(now);
  return {starts.start[kDaySlot], starts.start[kMonthSlot]};
}

const Ledger::Starts& Ledger::starts_of(int64_t wall) {
  if (starts_.wall == wall) return starts_;
  // A tick's bookings and its snapshots ask about the same wall time. The
  // day, month and year starts come from mktime, which stats
  // /etc/localtime on each call when TZ is unset: they are worked out again
  // only when the five-minute period (localtime_r alone) is another one,
  // as every longer period can only change with it.
  const int64_t five_min = period_start(kStored[0], wall, opts_.calendar);
  if (starts_.wall < 0 || five_min != starts_.start[0]) {
    starts_.start[0] = five_min;
    for (int i = 1; i < 5; ++i) starts_.start[i] = period_start(kStored[i], wall, opts_.calendar);
    starts_.has_epoch = false;
  }
  starts_.wall = wall;
  return starts_;
}

std::optional<QuotaStatus> Ledger::quota_status(const std::string& name, int64_t now) {
  for (const Quota& q : opts_.quotas)
    if (q.name == name) return evaluate(q, usage(name, q.period, now), now, opts_.calendar);
  return std::nullopt;
}

size_t Ledger::pending_rows() const {
  size_t n = 0;
  std::vector<Row> of_one;
  for (const Pending& p : pending_) {
    rows(p, of_one);
    n += of_one.size();
  }
  return n;
}

}  // namespace netmon::ledger
