#include "sys/capabilities.h"

#include <dirent.h>
#include <linux/capability.h>
#include <signal.h>
#include <spdlog/spdlog.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <chrono>
#include <cstdlib>
#include <fstream>
#include <sstream>
#include <thread>

#include "sys/error.h"

#ifndef CAP_BPF
#define CAP_BPF 39
#endif
#ifndef PR_CAP_AMBIENT
#define PR_CAP_AMBIENT 47
#define PR_CAP_AMBIENT_CLEAR_ALL 4
#endif

namespace netmon {
namespace {

// The last capability the kernel knows: PR_CAPBSET_READ fails beyond it.
int last_capability() {
  int cap = 0;
  while (cap < 63 && ::prctl(PR_CAPBSET_READ, cap + 1, 0, 0, 0) >= 0) ++cap;
  return cap;
}

// What every thread does, with raw syscalls only: it also runs in a signal
// handler. Returns 0 or an errno.
int drop_in_this_thread(uint64_t keep, int last_cap) {
  __user_cap_header_struct header{_LINUX_CAPABILITY_VERSION_3, 0};
  __user_cap_data_struct data[2]{};
  if (::syscall(SYS_capget, &header, data) < 0) return errno;
  const uint64_t permitted = data[0].permitted | (uint64_t{data[1].permitted} << 32);
  const bool can_setpcap = (data[0].effective >> CAP_SETPCAP) & 1;
  // The bounding set first: dropping from it needs CAP_SETPCAP, which the
  // capset below removes.
  if (can_setpcap)
    for (int cap = 0; cap <= last_cap; ++cap)
      if (!((keep >> cap) & 1) && ::prctl(PR_CAPBSET_DROP, cap, 0, 0, 0) < 0 && errno != EINVAL)
        return errno;
  // Kernels before 4.3 have no ambient set (EINVAL): nothing to clear there.
  if (::prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0) < 0 && errno != EINVAL)
    return errno;
  const uint64_t kept = keep & permitted;
  for (int i = 0; i < 2; ++i) {
    data[i].effective = data[i].permitted = static_cast<uint32_t>(kept >> (32 * i));
    data[i].inheritable = 0;
  }
  if (::syscall(SYS_capset, &header, data) < 0) return errno;
  if (::prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0) return errno;
  return 0;
}

std::atomic<uint64_t> g_keep{0};
std::atomic<int> g_last_cap{0};
std::atomic<int> g_done{0};
std::atomic<int> g_error{0};

void drop_handler(int) {
  const int saved = errno;
  const int err = drop_in_this_thread(g_keep, g_last_cap);
  if (err) g_error = err;
  ++g_done;
  errno = saved;
}

uint64_t hex_field(const std::string& status, const std::string& name, bool* found) {
  const std::string key = "\n" + name + ":";
  size_t at = ("\n" + status).find(key);
  if (at == std::string::npos) {
    *found = false;
    return 0;
  }
  return std::strtoull(status.c_str() + at + name.size() + 1, nullptr, 16);
}

std::string read_status(const std::string& path) {
  std::ifstream in(path);
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

std::string link_target(const std::string& path) {
  char target[4096];
  const ssize_t n = ::readlink(path.c_str(), target, sizeof(target));
  return n > 0 ? std::string(target, static_cast<size_t>(n)) : std::string();
}

// The agent's other threads. Under qemu-user, /proc/self/task also lists
// the emulator's own threads, which run no agent code and never take the
// drop signal. qemu answers /proc/self/exe with the guest program but not
// /proc/self/task/N/exe, so a thread whose executable differs is the
// emulator's and is left out. On a real kernel every thread shares one
// executable: nothing is left out there.
std::vector<pid_t> other_threads() {
  std::vector<pid_t> tids;
  DIR* dir = ::opendir("/proc/self/task");
  if (!dir) throw Error(errno_message("cannot list the agent's threads", errno));
  const pid_t self = static_cast<pid_t>(::syscall(SYS_gettid));
  const std::string ours = link_target("/proc/self/exe");
  while (dirent* entry = ::readdir(dir)) {
    const pid_t tid = static_cast<pid_t>(std::atoi(entry->d_name));
    if (tid <= 0 || tid == self) continue;
    const std::string its = link_target("/proc/self/task/" + std::to_string(tid) + "/exe");
    if (!ours.empty() && !its.empty() && ours != its) {
      spdlog::debug("thread {} runs {}, not {}: not the agent's (an emulator's?), left as it is",
                    tid, its, ours);
      continue;
    }
    tids.push_back(tid);
  }
  ::closedir(dir);
  return tids;
}

}  // namespace

bool kernel_has_cap_bpf() { return ::prctl(PR_CAPBSET_READ, CAP_BPF, 0, 0, 0) >= 0; }

bool parse_capability_sets(const std::string& status, CapabilitySets* out) {
  bool found = true;
  out->effective = hex_field(status, "CapEff", &found);
  out->permitted = hex_field(status, "CapPrm", &found);
  out->inheritable = hex_field(status, "CapInh", &found);
  out->bounding = hex_field(status, "CapBnd", &found);
  out->ambient = hex_field(status, "CapAmb", &found);
  out->no_new_privs = hex_field(status, "NoNewPrivs", &found) != 0;
  return found;
}

void drop_capabilities(const std::vector<int>& keep_list) {
  uint64_t keep = 0;
  for (int cap : keep_list) keep |= uint64_t{1} << cap;
  const int last_cap = last_capability();
  g_keep = keep;
  g_last_cap = last_cap;
  g_done = 0;
  g_error = 0;

  // Other threads first (the HTTP server's): each drops its own in the
  // handler. A real-time signal, so that none is lost or merged.
  const int signo = SIGRTMIN + 2;
  struct sigaction action {};
  action.sa_handler = drop_handler;
  sigemptyset(&action.sa_mask);
  if (::sigaction(signo, &action, nullptr) < 0)
    throw Error(errno_message("cannot drop capabilities", errno));
  const std::vector<pid_t> threads = other_threads();
  int sent = 0;
  for (pid_t tid : threads)
    if (::syscall(SYS_tgkill, ::getpid(), tid, signo) == 0) ++sent;  // else: it just ended
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(5);
  while (g_done < sent && std::chrono::steady_clock::now() < deadline)
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  // The handler stays: a late delivery must not meet the default action
  // (which ends the process).
  if (int err = drop_in_this_thread(keep, last_cap)) g_error = err;
  if (g_error) throw Error(errno_message("cannot drop capabilities", g_error));

  // Trust, but verify: a thread that blocked the signal, or one started
  // meanwhile by a thread that had not dropped yet, would still hold all.
  for (pid_t tid : other_threads()) {
    const std::string path = "/proc/self/task/" + std::to_string(tid) + "/status";
    const std::string status = read_status(path);
    CapabilitySets sets;
    if (status.empty()) continue;  // ended
    if (!parse_capability_sets(status, &sets))
      throw Error("cannot drop capabilities: " + path + " shows no capability sets");
    if ((sets.permitted & ~keep) || sets.inheritable || sets.ambient || !sets.no_new_privs)
      throw Error("cannot drop capabilities: thread " + std::to_string(tid) +
                  " still holds them (it blocks signals?)");
  }
}

}  // namespace netmon
