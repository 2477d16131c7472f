// Whether the agent that loaded a BPF program is still alive.
#pragma once

#include <cstdint>
#include <optional>

#include "sys/fd.h"

namespace netmon {

// Liveness of the agent whose program a legacy tc filter runs. A filter
// outlives a killed agent, and whether that agent still lives cannot be read
// from the kernel without CAP_SYS_ADMIN or other processes' /proc/PID/fd. So
// each agent binds an abstract unix socket named after each program id it
// loaded ("\0netmon-prog-<id>"): the kernel frees the name when the process
// dies, and abstract names are per network namespace, like tc filters.
Fd claim_program_liveness(uint32_t prog_id);
// nullopt: no live agent holds `prog_id`; else its pid (0 if it cannot be
// named).
std::optional<int> live_agent_of(uint32_t prog_id);

}  // namespace netmon
