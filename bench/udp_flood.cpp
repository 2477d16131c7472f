// A bounded UDP flood from one network namespace to another, for
// bench/bpf-cost.sh: fixed-size datagrams to a sink socket that never reads
// (the kernel drops them at the socket: no ICMP comes back), as fast as
// sendmmsg() goes, until --seconds or --count runs out.
//
// usage: netmon_udp_flood FROM_NETNS SRC_IP TO_NETNS DST_IP
//            [--payload BYTES] [--seconds S] [--count N] [--cpu N]
// prints: packets=N seconds=T pps=R
#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <sched.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <stdexcept>
#include <string>
#include <vector>

#include "fd.h"

namespace netmon {
namespace {

constexpr uint16_t kPort = 9;  // discard
constexpr unsigned kBatch = 64;

[[noreturn]] void fail(const std::string& what) {
  fprintf(stderr, "netmon_udp_flood: %s: %s\n", what.c_str(), strerror(errno));
  exit(1);
}

sockaddr_in address(const char* ip) {
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(kPort);
  if (inet_pton(AF_INET, ip, &addr.sin_addr) != 1) {
    errno = EINVAL;
    fail(std::string("bad address ") + ip);
  }
  return addr;
}

// A UDP socket bound to `ip` in namespace `netns`; the thread returns home.
Fd socket_in(const char* netns, const char* ip) {
  Fd home(open("/proc/thread-self/ns/net", O_RDONLY | O_CLOEXEC));
  Fd there(open((std::string("/run/netns/") + netns).c_str(), O_RDONLY | O_CLOEXEC));
  if (!home || !there) fail(std::string("open netns ") + netns);
  if (setns(there.get(), CLONE_NEWNET) != 0) fail(std::string("setns ") + netns);
  Fd fd(socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0));
  if (!fd) fail("socket");
  sockaddr_in addr = address(ip);
  if (bind(fd.get(), reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0)
    fail(std::string("bind ") + ip);
  if (setns(home.get(), CLONE_NEWNET) != 0) fail("setns back");
  return fd;
}

int run(int argc, char** argv) {
  if (argc < 5) {
    fprintf(stderr,
            "usage: netmon_udp_flood FROM_NETNS SRC_IP TO_NETNS DST_IP [--payload BYTES] "
            "[--seconds S] [--count N] [--cpu N]\n");
    return 2;
  }
  size_t payload = 18;  // 60-byte frame: 64 on the wire with the FCS
  double seconds = 2;
  uint64_t count = UINT64_MAX;
  int cpu = -1;
  for (int i = 5; i + 1 < argc; i += 2) {
    std::string flag = argv[i];
    if (flag == "--payload") payload = std::stoul(argv[i + 1]);
    else if (flag == "--seconds") seconds = std::stod(argv[i + 1]);
    else if (flag == "--count") count = std::stoull(argv[i + 1]);
    else if (flag == "--cpu") cpu = std::stoi(argv[i + 1]);
    else return fprintf(stderr, "netmon_udp_flood: unknown option %s\n", flag.c_str()), 2;
  }
  if (cpu >= 0) {
    cpu_set_t set;
    CPU_ZERO(&set);
    CPU_SET(cpu, &set);
    if (sched_setaffinity(0, sizeof(set), &set) != 0) fail("sched_setaffinity");
  }

  Fd sink = socket_in(argv[3], argv[4]);
  int small = 4096;  // drop early, at the socket: we measure the datapath
  setsockopt(sink.get(), SOL_SOCKET, SO_RCVBUF, &small, sizeof(small));
  Fd sender = socket_in(argv[1], argv[2]);
  sockaddr_in dst = address(argv[4]);
  if (connect(sender.get(), reinterpret_cast<sockaddr*>(&dst), sizeof(dst)) != 0) fail("connect");

  std::vector<char> data(payload, 'n');
  iovec iov{data.data(), payload};
  std::vector<mmsghdr> batch(kBatch);
  for (mmsghdr& m : batch) {
    m.msg_hdr = {};
    m.msg_hdr.msg_iov = &iov;
    m.msg_hdr.msg_iovlen = 1;
  }

  using Clock = std::chrono::steady_clock;
  const auto start = Clock::now();
  const auto end = start + std::chrono::duration_cast<Clock::duration>(
                               std::chrono::duration<double>(seconds));
  uint64_t sent = 0;
  while (sent < count && Clock::now() < end) {
    unsigned want = static_cast<unsigned>(std::min<uint64_t>(kBatch, count - sent));
    int n = sendmmsg(sender.get(), batch.data(), want, 0);
    if (n < 0) {
      if (errno == ENOBUFS || errno == EAGAIN || errno == EINTR) continue;
      fail("sendmmsg");
    }
    sent += static_cast<uint64_t>(n);
  }
  const double elapsed = std::chrono::duration<double>(Clock::now() - start).count();
  printf("packets=%llu seconds=%.3f pps=%.0f\n", static_cast<unsigned long long>(sent), elapsed,
         sent / elapsed);
  return 0;
}

}  // namespace
}  // namespace netmon

int main(int argc, char** argv) { return netmon::run(argc, argv); }
