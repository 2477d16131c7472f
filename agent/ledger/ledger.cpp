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
  return current(pending_[name], name, which, start);
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
  if (position < at_position_.size()) {
    auto [known, p] = at_position_[position];
    if (known && *known == name) return *p;
  }
  auto entry = pending_.try_emplace(name).first;
  if (position != Booking::kNoPosition) {
    if (position >= at_position_.size()) at_position_.resize(position + 1);
    at_position_[position] = {&entry->first, &entry->second};
  }
  return entry->second;
}

void Ledger::add_unsaved(Pending& p, int kind, int64_t start, const Counts& delta) {
  Slot& open = p.open[kind];
  if (p.open_used[kind] && open.start == start) {
    open.counts += delta;  // the usual case
    return;
  }
  for (auto& [k, slot] : p.older)
    if (k == kind && slot.start == start) {
      slot.counts += delta;
      return;
    }
  if (!p.open_used[kind]) {
    open = {start, delta};
    p.open_used[kind] = true;
  } else if (start > open.start) {
    p.older.emplace_back(kind, open);
    open = {start, delta};
  } else {
    p.older.emplace_back(kind, Slot{start, delta});
  }
}

Counts Ledger::unsaved(const Pending& p, int kind, int64_t start) {
  Counts sum;
  if (p.open_used[kind] && p.open[kind].start == start) sum += p.open[kind].counts;
  for (const auto& [k, slot] : p.older)
    if (k == kind && slot.start == start) sum += slot.counts;
  return sum;
}

void Ledger::book(const Booking& b) {
  if (starts_.wall != b.wall) {
    // One tick books every interface at the same time: the period starts
    // (localtime_r, mktime) are worked out once, not per interface.
    starts_.wall = b.wall;
    for (int i = 0; i < 5; ++i) starts_.start[i] = period_start(kStored[i], b.wall, opts_.calendar);
  }
  Pending& p = pending(b.name, b.position);
  if (b.position != Booking::kNoPosition)
    moved_.push_back(b.position);
  else
    moved_others_ = true;
  for (int i = 0; i < 5; ++i) add_unsaved(p, i, starts_.start[i], b.delta);
  for (int w = 0; w < 2; ++w) {
    int64_t s = starts_.start[w == 0 ? kDaySlot : kMonthSlot];
    Slot& cur = p.current[w];
    if (p.current_valid[w] && cur.start == s)
      cur.counts += b.delta;
    else if (!p.current_valid[w] || s > cur.start)
      current(p, b.name, w, s);  // loads store + pending, which already holds b
  }
}

void Ledger::tick(int64_t wall, int64_t mono_ns, const std::vector<Reading>& readings,
                  LedgerEvents* events) {
  moved_.clear();
  moved_others_ = false;
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
  batch.deltas.reserve(pending_rows());
  // Every interface shares the same few periods: one label per period.
  std::map<std::pair<int, int64_t>, std::string> labels;
  auto add = [&](const std::string& name, int kind, const Slot& s) {
    auto it = labels.find({kind, s.start});
    if (it == labels.end())
      it = labels
               .emplace(std::make_pair(kind, s.start),
                        period_label(kStored[kind], s.start, opts_.calendar))
               .first;
    batch.deltas.push_back({kStored[kind], name, it->second, s.counts});
  };
  for (const auto& [name, p] : pending_) {
    for (const auto& [kind, slot] : p.older) add(name, kind, slot);
    for (int i = 0; i < 5; ++i)
      if (p.open_used[i]) add(name, i, p.open[i]);
  }
  batch.identities = booker_.identities(/*changed_only=*/true);
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
    for (auto& [name, p] : pending_) {
      std::fill(std::begin(p.open_used), std::end(p.open_used), false);
      p.older.clear();
    }
    unsaved_marks_.clear();
    booker_.mark_saved();
    ++stats_.saves;
    if (batch.housekeeping) last_housekeeping_ = last_wall_;
  } else {
    ++stats_.failed_saves;
    spdlog::warn(
        "ledger database '{}': {} ({}); keeping {} unsaved totals in memory for the next save",
        opts_.path, st == SaveStatus::kFull ? "disk full" : "save failed", err,
        batch.deltas.size());
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
  usage_periods(now);
  return current(name, which, usage_starts_.start[which]);
}

void Ledger::usage(const std::string& name, int64_t now, Counts* day, Counts* month,
                   size_t position) {
  usage_periods(now);
  Pending& p = pending(name, position);
  *day = current(p, name, 0, usage_starts_.start[0]);
  *month = current(p, name, 1, usage_starts_.start[1]);
}

void Ledger::usage_periods(int64_t now) {
  if (usage_starts_.wall != now) {
    // Every snapshot asks for each interface at the same `now`: the day and
    // month starts (mktime, which stats /etc/localtime on each call when TZ
    // is unset) are worked out once per tick, not twice per interface.
    usage_starts_.wall = now;
    usage_starts_.start[0] = period_start(PeriodKind::kDay, now, opts_.calendar);
    usage_starts_.start[1] = period_start(PeriodKind::kMonth, now, opts_.calendar);
  }
}

std::optional<QuotaStatus> Ledger::quota_status(const std::string& name, int64_t now) {
  for (const Quota& q : opts_.quotas)
    if (q.name == name) return evaluate(q, usage(name, q.period, now), now, opts_.calendar);
  return std::nullopt;
}

size_t Ledger::pending_rows() const {
  size_t n = 0;
  for (const auto& [name, p] : pending_)
    n += p.older.size() + std::count(std::begin(p.open_used), std::end(p.open_used), true);
  return n;
}

}  // namespace netmon::ledger
