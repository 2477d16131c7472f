// Holds programs attached for bench/bpf-cost.sh: netmon's (through
// BpfSource, exactly as the agent attaches them) and/or a do-nothing program
// on the same rx hook, so both see the same packets. Attaches in the current
// network namespace, prints "ready", waits for stdin to close, then prints
// each rx-hook program's run statistics and detaches.
//
// usage: netmon_bench_attach [--ours auto|tcx|tc|xdp IFNAME]...
//            [--empty[=PROGRAM] tcx-first|tcx-last|tcx-egress|tc-first|tc-last|xdp IFNAME]...
//            [--stats]
// PROGRAM, for the tc positions: empty (default), array_lookup, array_count or
// hash_lookup (the calibration programs of bpf/empty.bpf.c).
// prints per program: IFNAME NAME run_cnt=N run_time_ns=N
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <net/if.h>
#include <unistd.h>

#include <cstdio>
#include <cstring>
#include <memory>
#include <string>
#include <vector>

#include "sources/bpf/bpf_source.h"
#include "sys/error.h"
#include "sys/fd.h"
#include "sys/log.h"
#include "netmon_empty.skel.h"
#include "sources/bpf/tc_attach.h"

namespace netmon {
namespace {

constexpr auto kBpfTcxIngress = static_cast<bpf_attach_type>(46);
constexpr auto kBpfTcxEgress = static_cast<bpf_attach_type>(47);
constexpr uint32_t kBpfFBefore = 1u << 3;
constexpr uint32_t kEmptyTcHandle = 0x4e4e;

struct EmptyDeleter {
  void operator()(netmon_empty* skeleton) const { netmon_empty__destroy(skeleton); }
};

// The tc program named by --empty=PROGRAM. The hash calibration program
// gets the interface's key, so its lookups hit as netmon's would.
int tc_program_fd(const netmon_empty& skeleton, const std::string& program, const Link& link) {
  if (program == "empty") return bpf_program__fd(skeleton.progs.empty_tc);
  if (program == "array_lookup") return bpf_program__fd(skeleton.progs.array_lookup_tc);
  if (program == "array_count") return bpf_program__fd(skeleton.progs.array_count_tc);
  if (program == "hash_lookup") {
    const uint32_t key = static_cast<uint32_t>(link.ifindex);
    std::vector<uint64_t> zero(4 * static_cast<size_t>(libbpf_num_possible_cpus()));
    if (bpf_map_update_elem(bpf_map__fd(skeleton.maps.calibration_hash), &key, zero.data(),
                            BPF_ANY) != 0)
      throw Error(errno_message("failed to fill the calibration hash", errno));
    return bpf_program__fd(skeleton.progs.hash_lookup_tc);
  }
  throw Error("unknown --empty program '" + program + "'");
}

// The empty program on one interface's rx hook, detached on destruction.
class EmptyAttachment {
 public:
  EmptyAttachment(const netmon_empty& skeleton, const std::string& program,
                  const std::string& where, const Link& link)
      : link_(link), where_(where) {
    const int tc_fd = tc_program_fd(skeleton, program, link);
    if (where == "tcx-first" || where == "tcx-last" || where == "tcx-egress") {
      LIBBPF_OPTS(bpf_link_create_opts, opts, .flags = where == "tcx-last" ? 0 : kBpfFBefore);
      link_fd_ = Fd(bpf_link_create(tc_fd, link.ifindex,
                                    where == "tcx-egress" ? kBpfTcxEgress : kBpfTcxIngress, &opts));
    } else if (where == "xdp") {
      link_fd_ = Fd(bpf_link_create(bpf_program__fd(skeleton.progs.empty_xdp), link.ifindex,
                                    BPF_XDP, nullptr));
    } else if (where == "tc-first" || where == "tc-last") {
      // cls_bpf runs the newest filter of a priority first: added after
      // netmon's at its priority, ours runs before netmon's; at the next
      // priority, after.
      clsact_ = ensure_clsact(link);
      hook_ = {};
      hook_.sz = sizeof(hook_);
      hook_.ifindex = link.ifindex;
      hook_.attach_point = BPF_TC_INGRESS;
      tc_opts_ = {};
      tc_opts_.sz = sizeof(tc_opts_);
      tc_opts_.handle = kEmptyTcHandle;
      tc_opts_.priority = where == "tc-first" ? kTcPriority : kTcPriority + 1;
      tc_opts_.prog_fd = tc_fd;
      if (int err = bpf_tc_attach(&hook_, &tc_opts_)) {
        errno = -err;
      } else {
        tc_attached_ = true;
        return;
      }
    } else {
      throw Error("unknown --empty position '" + where + "'");
    }
    if (!link_fd_ && !tc_attached_)
      throw Error(
          errno_message("failed to attach the empty program to '" + link.name + "'", errno));
  }
  ~EmptyAttachment() {
    if (link_fd_) bpf_link_detach(link_fd_.get());
    if (tc_attached_) {
      bpf_tc_opts opts{};
      opts.sz = sizeof(opts);
      opts.handle = tc_opts_.handle;
      opts.priority = tc_opts_.priority;
      bpf_tc_detach(&hook_, &opts);
    }
  }

 private:
  Link link_;
  std::string where_;
  Fd link_fd_;
  std::unique_ptr<Attachment> clsact_;  // outlives the destructor body, which detaches the filter
  bpf_tc_hook hook_{};
  bpf_tc_opts tc_opts_{};
  bool tc_attached_ = false;
};

void print_program(const std::string& ifname, uint32_t prog_id) {
  Fd fd(bpf_prog_get_fd_by_id(prog_id));
  if (!fd) return;
  bpf_prog_info info{};
  uint32_t len = sizeof(info);
  if (bpf_obj_get_info_by_fd(fd.get(), &info, &len) != 0) return;
  printf("%s %s run_cnt=%llu run_time_ns=%llu\n", ifname.c_str(), info.name,
         static_cast<unsigned long long>(info.run_cnt),
         static_cast<unsigned long long>(info.run_time_ns));
}

uint32_t tc_prog_id(int ifindex, uint32_t handle, uint32_t priority) {
  bpf_tc_hook hook{};
  hook.sz = sizeof(hook);
  hook.ifindex = ifindex;
  hook.attach_point = BPF_TC_INGRESS;
  bpf_tc_opts opts{};
  opts.sz = sizeof(opts);
  opts.handle = handle;
  opts.priority = priority;
  return bpf_tc_query(&hook, &opts) == 0 ? opts.prog_id : 0;
}

// Every program on the rx hooks, wherever it came from.
void print_rx_programs(const Link& link) {
  uint32_t ids[16];
  uint32_t count = 16;
  uint32_t flags = 0;
  if (bpf_prog_query(link.ifindex, kBpfTcxIngress, 0, &flags, ids, &count) == 0)
    for (uint32_t i = 0; i < count; ++i) print_program(link.name, ids[i]);
  for (uint32_t priority : {kTcPriority, kTcPriority + 1})
    for (uint32_t handle : {kTcHandle, kEmptyTcHandle})
      if (uint32_t id = tc_prog_id(link.ifindex, handle, priority)) print_program(link.name, id);
  uint32_t xdp_id = 0;
  if (bpf_xdp_query_id(link.ifindex, 0, &xdp_id) == 0 && xdp_id) print_program(link.name, xdp_id);
}

Link link_named(const std::string& name) {
  int ifindex = static_cast<int>(if_nametoindex(name.c_str()));
  if (!ifindex) throw Error("no interface '" + name + "'");
  return {ifindex, name};
}

int run(int argc, char** argv) {
  std::string ours_mode;
  std::vector<Link> ours;
  struct EmptyWanted {
    std::string program;
    std::string where;
    Link link;
  };
  std::vector<EmptyWanted> empties_wanted;
  std::vector<Link> links;  // every interface named, for the report
  bool stats = false;
  for (int i = 1; i < argc; ++i) {
    std::string arg = argv[i];
    if (arg == "--ours" && i + 2 < argc) {
      if (!ours_mode.empty() && ours_mode != argv[i + 1])
        throw Error("one --ours mode per run: a BpfSource has one");
      ours_mode = argv[i + 1];
      ours.push_back(link_named(argv[i + 2]));
      links.push_back(ours.back());
      i += 2;
    } else if ((arg == "--empty" || arg.rfind("--empty=", 0) == 0) && i + 2 < argc) {
      const std::string program = arg == "--empty" ? "empty" : arg.substr(8);
      empties_wanted.push_back({program, argv[i + 1], link_named(argv[i + 2])});
      links.push_back(empties_wanted.back().link);
      i += 2;
    } else if (arg == "--stats") {
      stats = true;
    } else {
      throw Error(
          "usage: netmon_bench_attach [--ours MODE IFNAME]... [--empty[=PROGRAM] WHERE IFNAME]... "
          "[--stats]");
    }
  }

  // Run-time accounting only while we hold this fd: no sysctl to restore.
  Fd stats_fd;
  if (stats) {
    stats_fd = Fd(bpf_enable_stats(BPF_STATS_RUN_TIME));
    if (!stats_fd) throw Error(errno_message("failed to enable bpf run-time stats", errno));
  }

  std::unique_ptr<BpfSource> source;
  if (!ours.empty()) {
    source = std::make_unique<BpfSource>(parse_attach_mode(ours_mode));
    for (const Link& link : ours) source->watch(link);
  }
  std::unique_ptr<netmon_empty, EmptyDeleter> skeleton;
  std::vector<std::unique_ptr<EmptyAttachment>> empties;
  if (!empties_wanted.empty()) {
    skeleton.reset(netmon_empty__open_and_load());
    if (!skeleton) throw Error(errno_message("failed to load the empty programs", errno));
    for (const EmptyWanted& wanted : empties_wanted)
      empties.push_back(
          std::make_unique<EmptyAttachment>(*skeleton, wanted.program, wanted.where, wanted.link));
  }

  printf("ready\n");
  fflush(stdout);
  char buffer[256];
  while (read(STDIN_FILENO, buffer, sizeof(buffer)) > 0) {
  }
  for (const Link& link : links) print_rx_programs(link);
  if (source) {
    CounterMap counts = source->read(ours);
    for (const Link& link : ours)
      printf("%s counted rx_packets=%llu tx_packets=%llu\n", link.name.c_str(),
             static_cast<unsigned long long>(counts[link.ifindex].rx_packets),
             static_cast<unsigned long long>(counts[link.ifindex].tx_packets));
  }
  fflush(stdout);
  return 0;
}

}  // namespace
}  // namespace netmon

int main(int argc, char** argv) {
  netmon::setup_logging(0);
  try {
    return netmon::run(argc, argv);
  } catch (const netmon::Error& e) {
    fprintf(stderr, "netmon_bench_attach: %s\n", e.what());
    return 1;
  }
}
