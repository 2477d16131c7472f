// Counters from netmon's own eBPF programs on tc ingress/egress (tcx or
// legacy clsact) or XDP, summed over the per-CPU maps they fill.
//
// A BpfSource works in the network namespace of the thread that created it:
// ifindexes, tc netlink requests and tcx/XDP links all resolve there, so
// watch, unwatch, read and destruction must happen in that namespace too.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "core/source.h"
#include "netmon/abi.h"
#include "sources/bpf/pin.h"
#include "sources/bpf/tc_attach.h"
#include "sources/bpf/tc_guard.h"

// The generated skeleton's `struct netmon` would clash with namespace netmon,
// so bpf_source.cpp includes it inside this namespace instead.
namespace netmon_skel {
struct netmon;
}

namespace netmon {

class BpfSource : public Source {
 public:
  enum class AttachMode {
    kAuto,  // tcx where the kernel has it (6.6+), else kTc
    kTcx,   // tcx links on ingress and egress
    kTc,    // clsact qdisc + cls_bpf filters on ingress and egress
    kXdp,   // rx in XDP; tx on tc egress (tcx where available)
  };

  // Loads the programs; attaches nothing yet. `array_entries` sizes the
  // per-CPU array indexed by ifindex (0: from the interfaces present now,
  // with room to grow). Counts for larger ifindexes go to a per-CPU hash:
  // still exact, somewhat slower per packet. Throws Error naming the missing
  // capability (CAP_BPF / CAP_NET_ADMIN) or the load failure.
  //
  // With `pin_dir` (--pin) the maps, programs and attachments live in a
  // pinned set there (see pin.h) that outlives this object: a set found
  // there is adopted (its maps reused, its attachments swapped to the
  // programs loaded now, its array size kept), and its attach mode wins
  // unless `mode_given`; a set in another mode than a given one is an Error.
  explicit BpfSource(AttachMode mode, uint32_t array_entries = 0, const std::string& pin_dir = {},
                     bool mode_given = true);
  // Detaches from every watched link; with a pin directory, leaves them
  // attached and counting instead.
  ~BpfSource() override;

  BpfSource(const BpfSource&) = delete;
  BpfSource& operator=(const BpfSource&) = delete;

  const char* kind() const override { return "bpf"; }

  // Zeroes the link's counters, then attaches rx and tx (a reused ifindex
  // thus starts from 0). A link whose every hook the pinned set still holds
  // is adopted instead: programs swapped in place, counters not zeroed. Watching a watched ifindex
  // again re-attaches and re-zeroes it. Throws Error ("failed to attach to 'eth0' (tc ingress):
  // ..."), leaving nothing attached to that link.
  void watch(const Link& link) override;

  // Detaches (and unpins); quiet if the interface is already gone. After
  // exiting(), with a pin directory, leaves the link attached instead.
  void unwatch(const Link& link) override;
  void exiting() override { exiting_ = true; }
  // Detaches what the pinned set holds on interfaces not watched now (no
  // longer selected): nothing of it would ever be read again.
  void started() override;

  // Totals since watch() for every watched link among `links` (others are
  // absent). Throws Error if the maps cannot be read at all.
  CounterMap read(const std::vector<Link>& links) override;

  // Packets counted nowhere: their ifindex was beyond the array and the
  // overflow hash was full. Non-zero means the counts are short; the agent
  // warns and a larger array (restart) fixes it.
  uint64_t lost_packets() const;

  // With legacy tc filters: the TC notifications that tell when another
  // filter got in front of ours (see tc_guard.h); -1 otherwise.
  int event_fd() const override { return guard_ ? guard_->fd() : -1; }
  void handle_events() override;
  // With legacy tc filters: how often and how long another filter was in
  // front of ours. std::nullopt with tcx and XDP alone.
  std::optional<SourceHealth> health() const override;

  // What kAuto resolved to: kTcx, kTc or kXdp.
  AttachMode attach_mode() const { return mode_; }
  // Whether egress (and, but for kXdp, ingress) uses tcx rather than clsact.
  bool uses_tcx() const { return tcx_; }
  uint32_t array_entries() const { return array_entries_; }

 private:
  struct SkeletonDeleter {
    void operator()(netmon_skel::netmon* skeleton) const;
  };
  using SkeletonPtr = std::unique_ptr<netmon_skel::netmon, SkeletonDeleter>;
  // Members go in reverse order: tx and rx detach first, the clsact qdisc
  // goes once the filters on it are gone.
  struct Watched {
    Link link;
    std::unique_ptr<Attachment> clsact;
    std::unique_ptr<Attachment> rx;
    std::unique_ptr<Attachment> tx;
  };

  // Zeroes the link's slot and attaches both hooks afresh (recording them in
  // the pinned set with --pin).
  void attach(const Link& link, Watched& w);
  void zero_counters(const Link& link);
  void open_skeleton();
  void adopt_pinned_maps();
  void pin_after_load();
  bool adopt(const Link& link, Watched& w);
  std::pair<Hook, Hook> hooks() const;
  void record_pins(const Link& link, const Watched& w, uint32_t old_flags);
  void drop_pins(int ifindex);
  void read_array(const std::vector<int>& ifindexes, CounterMap& out);
  Counters read_one(int map_fd, int ifindex, bool* found);

  AttachMode mode_;
  bool tcx_ = false;
  uint32_t array_entries_ = 0;
  size_t ncpus_ = 0;
  SkeletonPtr skeleton_;
  // Before watched_: forgets an interface before its filters go, and outlives
  // them so a clsact qdisc it had to re-create is removed after them.
  std::unique_ptr<TcGuard> guard_;
  std::map<int, Watched> watched_;  // after skeleton_: detached before unload
  bool batch_lookup_ = true;        // false once the kernel refused it
  uint64_t lost_reported_ = 0;      // lost_packets() already warned about
  std::vector<uint32_t> batch_keys_;
  std::vector<netmon_counters> batch_values_;
  std::unique_ptr<PinnedSet> pin_;
  bool exiting_ = false;
  // The set's tcx/XDP links not adopted yet: ifindex -> hook name -> fd.
  std::map<int, std::map<std::string, Fd>> pinned_links_;
  std::vector<Fd> liveness_;  // see claim_program_liveness()
};

// "auto", "tcx", "tc", "xdp".
const char* attach_mode_name(BpfSource::AttachMode mode);
// Inverse of attach_mode_name(); throws UsageError (exit 2) for anything
// else: the one check of --attach.
BpfSource::AttachMode parse_attach_mode(std::string_view name);

// The BPF object the agent loads: the skeleton's ELF bytes, or in tests the
// file named by NETMON_TEST_BPF_OBJECT (the --pin upgrade tests load a
// variant object that way, as an upgraded agent would carry).
std::string_view embedded_bpf_object();
// FNV-1a over embedded_bpf_object(): equal exactly for equal objects.
uint64_t embedded_bpf_object_id();

}  // namespace netmon
