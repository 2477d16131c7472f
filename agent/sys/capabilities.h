// Dropping capabilities once everything privileged is done (issue 13, 2.9):
// a root agent would otherwise keep all of them for its whole life, while
// its HTTP thread parses network input.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace netmon {

// Keeps only `keep` (capability numbers, e.g. CAP_BPF) of the capabilities
// the process holds, in every thread: effective and permitted become
// `keep` ∩ permitted; inheritable and ambient become empty; the bounding set
// loses everything else when CAP_SETPCAP allows it (root), else it is left
// as is (no_new_privs and an empty inheritable set make it moot); and
// no_new_privs is set. Credentials are per thread in Linux, so every other
// thread is made to do the same (a signal handler, as glibc does for
// setuid()), then each thread's /proc status is checked. Throws Error.
void drop_capabilities(const std::vector<int>& keep);

// Whether the running kernel knows CAP_BPF (5.8+); before it, BPF needs
// CAP_SYS_ADMIN.
bool kernel_has_cap_bpf();

// One thread's sets as /proc/<pid>/task/<tid>/status shows them.
struct CapabilitySets {
  uint64_t effective = 0, permitted = 0, inheritable = 0, bounding = 0, ambient = 0;
  bool no_new_privs = false;
};
// Reads them from a status file's text; false if a field is missing.
bool parse_capability_sets(const std::string& status, CapabilitySets* out);

}  // namespace netmon
