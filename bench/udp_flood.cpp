// A bounded UDP flood from one network namespace to another, for
// bench/bpf-cost.sh: fixed-size datagrams to a sink socket that never reads
// (the kernel drops them at the socket: no ICMP comes back), as fast as
// sendmmsg() goes, until --seconds or --count runs out. With several
// destinations, consecutive datagrams take turns: two links see the same
// flood at the same moments.
//
// usage: netmon_udp_flood FROM_NETNS TO_NETNS DST_IP[,DST_IP...]
//            [--payload BYTES] [--seconds S] [--count N] [--cpu N] [--rt 1]
// --rt 1 floods as SCHED_FIFO, so other load on a shared machine preempts
// (and evicts the caches of) the measured path less; the kernel's RT
// throttling still leaves others 5% of the CPU.
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

#include "sys/fd.h"

namespace netmon {
namespace {

constexpr uint16_t kPort = 9;  // discard
constexpr unsigned kBatch = 64;

[[noreturn]] void fail(const std::string& what) {
  fprintf(stderr, "netmon_udp_flood: %s: %s\n", what.c_str(), strerror(errno));
  exit(1);
}

sockaddr_in address(const std::string& ip) {
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(kPort);
  if (inet_pton(AF_INET, ip.c_str(), &addr.sin_addr) != 1) {
    errno = EINVAL;
    fail("bad address " + ip);
  }
  return addr;
}

// A UDP socket bound to port `port` of any address in namespace `netns`;
// the thread returns home afterwards, the socket stays there.
Fd socket_in(const char* netns, uint16_t port) {
  Fd home(open("/proc/thread-self/ns/net", O_RDONLY | O_CLOEXEC));
  Fd there(open((std::string("/run/netns/") + netns).c_str(), O_RDONLY | O_CLOEXEC));
  if (!home || !there) fail(std::string("open netns ") + netns);
  if (setns(there.get(), CLONE_NEWNET) != 0) fail(std::string("setns ") + netns);
  Fd fd(socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0));
  if (!fd) fail("socket");
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(port);
  if (bind(fd.get(), reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0) fail("bind");
  if (setns(home.get(), CLONE_NEWNET) != 0) fail("setns back");
  return fd;
}

int run(int argc, char** argv) {
  if (argc < 4) {
    fprintf(stderr,
            "usage: netmon_udp_flood FROM_NETNS TO_NETNS DST_IP[,DST_IP...] [--payload BYTES] "
            "[--seconds S] [--count N] [--cpu N] [--rt 1]\n");
    return 2;
  }
  size_t payload = 18;  // 60-byte frame: 64 on the wire with the FCS
  double seconds = 2;
  uint64_t count = UINT64_MAX;
  int cpu = -1;
  bool realtime = false;
  for (int i = 4; i + 1 < argc; i += 2) {
    std::string flag = argv[i];
    if (flag == "--payload")
      payload = std::stoul(argv[i + 1]);
    else if (flag == "--seconds")
      seconds = std::stod(argv[i + 1]);
    else if (flag == "--count")
      count = std::stoull(argv[i + 1]);
    else if (flag == "--cpu")
      cpu = std::stoi(argv[i + 1]);
    else if (flag == "--rt")
      realtime = std::stoi(argv[i + 1]) != 0;
    else
      return fprintf(stderr, "netmon_udp_flood: unknown option %s\n", flag.c_str()), 2;
  }
  std::vector<sockaddr_in> destinations;
  for (std::string list = argv[3]; !list.empty();) {
    size_t comma = list.find(',');
    destinations.push_back(address(list.substr(0, comma)));
    list = comma == std::string::npos ? "" : list.substr(comma + 1);
  }
  if (cpu >= 0) {
    cpu_set_t set;
    CPU_ZERO(&set);
    CPU_SET(cpu, &set);
    if (sched_setaffinity(0, sizeof(set), &set) != 0) fail("sched_setaffinity");
  }

  if (realtime) {
    sched_param param{};
    param.sched_priority = 1;
    if (sched_setscheduler(0, SCHED_FIFO, &param) != 0) fail("sched_setscheduler");
  }

  Fd sink = socket_in(argv[2], kPort);
  int small = 4096;  // drop early, at the socket: we measure the datapath
  setsockopt(sink.get(), SOL_SOCKET, SO_RCVBUF, &small, sizeof(small));
  Fd sender = socket_in(argv[1], 0);

  std::vector<char> data(payload, 'n');
  iovec iov{data.data(), payload};
  std::vector<mmsghdr> batch(kBatch);
  for (size_t i = 0; i < batch.size(); ++i) {
    msghdr& m = batch[i].msg_hdr;
    m = {};
    m.msg_name = &destinations[i % destinations.size()];
    m.msg_namelen = sizeof(sockaddr_in);
    m.msg_iov = &iov;
    m.msg_iovlen = 1;
  }

  using Clock = std::chrono::steady_clock;
  const auto start = Clock::now();
  const auto end =
      start + std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(seconds));
  uint64_t sent = 0;
  // Whole batches keep the destinations' turns in step (kBatch is even).
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
