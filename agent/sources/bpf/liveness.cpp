#include "sources/bpf/liveness.h"

#include <spdlog/spdlog.h>
#include <sys/socket.h>
#include <sys/un.h>

#include <cerrno>
#include <cstddef>
#include <cstdio>
#include <cstring>

namespace netmon {
namespace {

sockaddr_un liveness_address(uint32_t prog_id, socklen_t* len) {
  sockaddr_un address{};
  address.sun_family = AF_UNIX;
  int n = snprintf(address.sun_path + 1, sizeof(address.sun_path) - 1, "netmon-prog-%u", prog_id);
  *len = static_cast<socklen_t>(offsetof(sockaddr_un, sun_path) + 1 + n);
  return address;
}

}  // namespace

Fd claim_program_liveness(uint32_t prog_id) {
  Fd fd(::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0));
  socklen_t len = 0;
  sockaddr_un address = liveness_address(prog_id, &len);
  if (!fd || ::bind(fd.get(), reinterpret_cast<sockaddr*>(&address), len) != 0 ||
      ::listen(fd.get(), 16) != 0) {
    spdlog::warn("cannot claim the liveness name of bpf program {}: {}", prog_id,
                 std::strerror(errno));
    return Fd();
  }
  return fd;
}

std::optional<int> live_agent_of(uint32_t prog_id) {
  Fd fd(::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0));
  if (!fd) return 0;  // cannot tell: never remove what may be alive
  socklen_t len = 0;
  sockaddr_un address = liveness_address(prog_id, &len);
  if (::connect(fd.get(), reinterpret_cast<sockaddr*>(&address), len) != 0) {
    if (errno == ECONNREFUSED || errno == ENOENT) return std::nullopt;
    return 0;  // EAGAIN: a full backlog is a listener, hence alive
  }
  ucred peer{};
  socklen_t peer_len = sizeof(peer);
  if (getsockopt(fd.get(), SOL_SOCKET, SO_PEERCRED, &peer, &peer_len) != 0) return 0;
  return peer.pid;
}

}  // namespace netmon
