#include "output/ledger_reporter.h"

#include <spawn.h>
#include <spdlog/spdlog.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <csignal>
#include <cstring>
#include <fstream>

#include "output/json_writer.h"
#include "output/ndjson.h"

extern char** environ;

namespace netmon {
namespace {

int64_t system_wall_now() { return static_cast<int64_t>(::time(nullptr)); }

int64_t system_boot_now_ns() {
  timespec ts{};
  clock_gettime(CLOCK_BOOTTIME, &ts);
  return static_cast<int64_t>(ts.tv_sec) * 1'000'000'000 + ts.tv_nsec;
}

UsageBytes bytes_of(const ledger::Counts& c) { return {c.rx_bytes, c.tx_bytes}; }

}  // namespace

std::string read_boot_id(const std::string& path) {
  std::ifstream in(path);
  std::string id;
  if (!(in >> id)) return "";
  return id;
}

std::string quota_event_line(const ledger::QuotaAlert& alert, int64_t ts_ms) {
  std::string line;
  JsonWriter json(line);
  json.begin_object();
  json.key("event").value("quota");
  json.key("ts_ms").value(ts_ms);
  json.key("interface").value(alert.name);
  json.key("threshold").value(alert.threshold);
  json.key("period").value(alert.status.period);
  json.key("kind").value(ledger::period_name(alert.quota.period));
  json.key("direction").value(ledger::direction_name(alert.quota.direction));
  json.key("used_bytes").value(alert.status.used);
  json.key("limit_bytes").value(alert.status.limit);
  json.key("percent").value_whole_as_integer(std::round(alert.status.percent * 100) / 100);
  json.key("projected_bytes").value(alert.status.projected);
  json.end_object();
  line += '\n';
  return line;
}

LedgerReporter::LedgerReporter(LedgerReporterConfig config, std::unique_ptr<Reporter> inner)
    : config_(std::move(config)), inner_(std::move(inner)) {
  if (!config_.wall_now) config_.wall_now = system_wall_now;
  if (!config_.boot_now_ns) config_.boot_now_ns = system_boot_now_ns;
  ledger_ = std::make_unique<ledger::Ledger>(config_.ledger, config_.boot_id, config_.wall_now());
  spdlog::info("usage ledger {} (saved every {} s and at exit)", config_.ledger.path,
               config_.ledger.save_interval_s);
}

LedgerReporter::~LedgerReporter() {
  // finish() saves; without it (an exception unwinding the agent) the
  // ledger still books what it holds.
  if (!finished_) {
    try {
      ledger_->close();
    } catch (const std::exception& e) {
      spdlog::error("usage ledger: {}", e.what());
    }
  }
  reap_hooks();
}

bool LedgerReporter::report(const std::vector<Link>& links, const std::vector<CounterMap>& readings,
                            int64_t monotonic_ns, int64_t wall_ms) {
  reap_hooks();
  now_ = config_.wall_now();
  tick_ms_ = wall_ms;
  // Refilled in place each tick: the names' buffers are reused, so an idle
  // tick allocates nothing for 1,000 interfaces.
  const CounterMap& counters = readings.at(0);
  size_t n = 0;
  for_each_counted(links, counters, [&](const Link& link, const Counters& c) {
    if (n == book_.size()) book_.emplace_back();
    ledger::Reading& r = book_[n++];
    if (r.name != link.name) r.name = link.name;
    r.ifindex = static_cast<uint32_t>(link.ifindex);
    r.counts = {c.rx_bytes, c.rx_packets, c.tx_bytes, c.tx_packets};
  });
  book_.resize(n);
  const int64_t boot_ns = config_.boot_now_ns();
  ledger_->tick(now_, boot_ns, book_, this);
  ledger_->maybe_save(boot_ns);
  bool ok = inner_->report(links, readings, monotonic_ns, wall_ms);
  return ok && output_ok_;
}

void LedgerReporter::finish() {
  if (!finished_) {
    finished_ = true;
    ledger::SaveStatus status = ledger_->close();
    if (status == ledger::SaveStatus::kOk)
      spdlog::info("usage ledger saved ({} saves)", ledger_->stats().saves);
    else
      spdlog::error("usage ledger: the final save failed; what it held is lost");
  }
  inner_->finish();
}

void LedgerReporter::enrich(Snapshot& snapshot) {
  const int64_t now = now_ ? now_ : config_.wall_now();
  const std::pair<int64_t, int64_t> periods = ledger_->day_and_month(now);
  if (periods != labelled_) {
    const ledger::Calendar& cal = config_.ledger.calendar;
    labelled_ = periods;
    day_label_ = ledger::period_label(ledger::PeriodKind::kDay, periods.first, cal);
    month_label_ = ledger::period_label(ledger::PeriodKind::kMonth, periods.second, cal);
  }
  snapshot.usage_day = day_label_;
  snapshot.usage_month = month_label_;
  // The snapshot of the readings just booked lists them in book_'s order
  // (both are walked by for_each_counted): the ledger finds each interface
  // by its position. Any other snapshot is looked up by name.
  const bool positions_match = snapshot.interfaces.size() == book_.size();
  for (size_t i = 0; i < snapshot.interfaces.size(); ++i) {
    InterfaceSnapshot& entry = snapshot.interfaces[i];
    ledger::Counts today, this_month;
    if (positions_match)
      ledger_->usage_at(i, now, &today, &this_month);
    else
      ledger_->usage(entry.link.name, now, &today, &this_month);
    InterfaceUsage& usage = entry.usage.emplace();
    usage.today = bytes_of(today);
    usage.this_month = bytes_of(this_month);
    if (!config_.ledger.quotas.empty()) usage.quota = quota_usage(entry.link.name, now);
  }
}

std::shared_ptr<const QuotaUsage> LedgerReporter::quota_usage(const std::string& name,
                                                              int64_t now) {
  for (const ledger::Quota& q : config_.ledger.quotas) {
    if (q.name != name) continue;
    std::optional<ledger::QuotaStatus> status = ledger_->quota_status(name, now);
    if (!status) return nullptr;
    return std::make_shared<const QuotaUsage>(QuotaUsage{
        status->period, ledger::period_name(q.period), ledger::direction_name(q.direction),
        status->used, status->limit, status->percent, status->projected});
  }
  return nullptr;
}

void LedgerReporter::on_quota(const ledger::QuotaAlert& alert) {
  // The ledger has logged the crossing (one line); here the event and the hook.
  ++quota_events_;
  if (config_.out_fd >= 0 && output_ok_)
    output_ok_ = write_line(config_.out_fd, quota_event_line(alert, tick_ms_));
  if (config_.on_quota) run_hook(alert);
}

// The command is the operator's own text and runs through /bin/sh; the
// figures, including the interface name (any bytes a peer's tunnel may
// choose), only ever reach it as environment values.
void LedgerReporter::run_hook(const ledger::QuotaAlert& alert) {
  std::vector<std::string> env;
  for (char** e = environ; e && *e; ++e)
    if (std::string_view(*e).rfind("NETMON_", 0) != 0) env.emplace_back(*e);
  env.push_back("NETMON_INTERFACE=" + alert.name);
  env.push_back("NETMON_THRESHOLD=" + std::to_string(alert.threshold));
  env.push_back("NETMON_USED_BYTES=" + std::to_string(alert.status.used));
  env.push_back("NETMON_LIMIT_BYTES=" + std::to_string(alert.status.limit));
  env.push_back("NETMON_PROJECTED_BYTES=" + std::to_string(alert.status.projected));
  char percent[32];
  std::snprintf(percent, sizeof(percent), "%.2f", alert.status.percent);
  env.push_back(std::string("NETMON_PERCENT=") + percent);
  env.push_back("NETMON_PERIOD=" + alert.status.period);
  env.push_back(std::string("NETMON_PERIOD_KIND=") + ledger::period_name(alert.quota.period));
  env.push_back(std::string("NETMON_DIRECTION=") + ledger::direction_name(alert.quota.direction));
  std::vector<char*> envp;
  for (std::string& e : env) envp.push_back(e.data());
  envp.push_back(nullptr);
  std::string sh = "/bin/sh", dash_c = "-c", cmd = *config_.on_quota;
  char* argv[] = {sh.data(), dash_c.data(), cmd.data(), nullptr};
  // stdout is the NDJSON stream: the hook's own output goes to stderr.
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_adddup2(&actions, STDERR_FILENO, STDOUT_FILENO);
  // The agent blocks its stop signals and ignores SIGPIPE; the hook must not.
  posix_spawnattr_t attr;
  posix_spawnattr_init(&attr);
  sigset_t none, defaults;
  sigemptyset(&none);
  sigemptyset(&defaults);
  sigaddset(&defaults, SIGPIPE);
  posix_spawnattr_setsigmask(&attr, &none);
  posix_spawnattr_setsigdefault(&attr, &defaults);
  posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF);
  pid_t pid = 0;
  int rc = posix_spawn(&pid, "/bin/sh", &actions, &attr, argv, envp.data());
  posix_spawnattr_destroy(&attr);
  posix_spawn_file_actions_destroy(&actions);
  if (rc != 0) {
    spdlog::error("--on-quota: cannot run /bin/sh: {}", std::strerror(rc));
    return;
  }
  hooks_.push_back(pid);
}

void LedgerReporter::reap_hooks() {
  for (size_t i = 0; i < hooks_.size();) {
    int status = 0;
    pid_t r = waitpid(hooks_[i], &status, WNOHANG);
    if (r == 0) {
      ++i;
      continue;
    }
    if (r > 0 && WIFEXITED(status) && WEXITSTATUS(status) != 0)
      spdlog::warn("--on-quota command exited with status {}", WEXITSTATUS(status));
    hooks_[i] = hooks_.back();
    hooks_.pop_back();
  }
}

}  // namespace netmon
