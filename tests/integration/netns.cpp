#include "netns.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <sched.h>
#include <sys/mount.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <sstream>
#include <stdexcept>
#include <vector>

#include "agent_process.h"  // run()
#include "sys/fd.h"

namespace netmon::testing {
namespace {

constexpr uint16_t kUdpPort = 9;  // discard

std::runtime_error errno_error(const std::string& what) {
  return std::runtime_error(what + ": " + std::strerror(errno));
}

Fd open_netns(const std::string& netns) {
  Fd fd(open(("/run/netns/" + netns).c_str(), O_RDONLY | O_CLOEXEC));
  if (!fd) throw errno_error("cannot open network namespace '" + netns + "'");
  return fd;
}

Fd bound_udp_socket(const VethEnd& end) {
  NetnsScope in(end.netns);
  Fd fd(socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0));
  if (!fd) throw errno_error("socket");
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(kUdpPort);
  inet_pton(AF_INET, end.ip.c_str(), &addr.sin_addr);
  if (bind(fd.get(), reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0)
    throw errno_error("bind " + end.ip);
  return fd;
}

int drain(int fd, size_t payload) {
  std::vector<char> buffer(payload + 1);
  int received = 0;
  for (;;) {
    ssize_t n = recv(fd, buffer.data(), buffer.size(), MSG_DONTWAIT);
    if (n < 0) return received;
    if (static_cast<size_t>(n) != payload) throw std::runtime_error("datagram of unexpected size");
    ++received;
  }
}

uint64_t read_number(std::istream& in, const std::string& what) {
  uint64_t value = 0;
  if (!(in >> value)) throw std::runtime_error("cannot parse " + what);
  return value;
}

}  // namespace

NetnsScope::NetnsScope(const std::string& netns) {
  original_ = open("/proc/thread-self/ns/net", O_RDONLY | O_CLOEXEC);
  if (original_ < 0) throw errno_error("cannot open this thread's network namespace");
  Fd target = open_netns(netns);
  if (setns(target.get(), CLONE_NEWNET) != 0) {
    close(original_);
    throw errno_error("cannot enter network namespace '" + netns + "'");
  }
}

NetnsScope::~NetnsScope() {
  // Failing to return would run the rest of the test in the wrong place.
  if (setns(original_, CLONE_NEWNET) != 0) std::abort();
  close(original_);
}

VethPair::VethPair(int first_ifindex) : first_ifindex_(first_ifindex) {
  static std::atomic<int> sequence{0};
  const std::string base = "nmt" + std::to_string(getpid()) + "x" + std::to_string(sequence++);
  a_ = {base + "a", base + "a", 0, "198.18.0.1"};
  b_ = {base + "b", base + "b", 0, "198.18.0.2"};

  run("ip netns add " + a_.netns);
  try {
    run("ip netns add " + b_.netns);
    for (const VethEnd* end : {&a_, &b_})
      run("ip netns exec " + end->netns +
          " sysctl -qw net.ipv6.conf.all.disable_ipv6=1 net.ipv6.conf.default.disable_ipv6=1");
    create_link();
  } catch (...) {
    run_status("ip netns del " + a_.netns);
    run_status("ip netns del " + b_.netns);
    throw;
  }
}

void VethPair::create_link() {
  const std::string mac_a = "02:00:c6:12:00:01";
  const std::string mac_b = "02:00:c6:12:00:02";
  auto index = [this](int offset) {
    return first_ifindex_ ? " index " + std::to_string(first_ifindex_ + offset) : std::string();
  };
  // Created in place, so each end gets its namespace's IPv6-off defaults.
  run("ip -n " + a_.netns + " link add " + a_.ifname + index(0) + " address " + mac_a +
      " type veth peer name " + b_.ifname + index(1) + " address " + mac_b + " netns " + b_.netns);
  run("ip -n " + a_.netns + " addr add " + a_.ip + "/24 dev " + a_.ifname);
  run("ip -n " + b_.netns + " addr add " + b_.ip + "/24 dev " + b_.ifname);
  run("ip -n " + a_.netns + " neigh add " + b_.ip + " lladdr " + mac_b + " nud permanent dev " +
      a_.ifname);
  run("ip -n " + b_.netns + " neigh add " + a_.ip + " lladdr " + mac_a + " nud permanent dev " +
      b_.ifname);
  run("ip -n " + a_.netns + " link set " + a_.ifname + " up");
  run("ip -n " + b_.netns + " link set " + b_.ifname + " up");
  for (VethEnd* end : {&a_, &b_})
    end->ifindex = std::stoi(
        run("ip netns exec " + end->netns + " cat /sys/class/net/" + end->ifname + "/ifindex"));
}

VethPair::~VethPair() {
  run_status("ip netns del " + a_.netns);
  run_status("ip netns del " + b_.netns);
}

void VethPair::send_udp(const VethEnd& from, int count, size_t payload) const {
  const VethEnd& to = peer(from);
  Fd receiver = bound_udp_socket(to);
  Fd sender = bound_udp_socket(from);
  sockaddr_in dst{};
  dst.sin_family = AF_INET;
  dst.sin_port = htons(kUdpPort);
  inet_pton(AF_INET, to.ip.c_str(), &dst.sin_addr);

  std::vector<char> data(payload, 'n');
  int received = 0;
  for (int i = 0; i < count; ++i) {
    for (;;) {
      ssize_t n = sendto(sender.get(), data.data(), payload, 0, reinterpret_cast<sockaddr*>(&dst),
                         sizeof(dst));
      if (n == static_cast<ssize_t>(payload)) break;
      // A full socket buffer only delays; anything else is a broken setup.
      if (n < 0 && (errno == EAGAIN || errno == ENOBUFS)) {
        received += drain(receiver.get(), payload);
        usleep(1000);
        continue;
      }
      throw errno_error("sendto " + to.ip);
    }
    // Drain as we go: the receive buffer holds only a few hundred datagrams.
    received += drain(receiver.get(), payload);
  }
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(5);
  while (received < count && std::chrono::steady_clock::now() < deadline) {
    pollfd pfd{receiver.get(), POLLIN, 0};
    poll(&pfd, 1, 100);
    received += drain(receiver.get(), payload);
  }
  if (received != count)
    throw std::runtime_error("sent " + std::to_string(count) + " datagrams from " + from.ifname +
                             ", " + to.ifname + " received " + std::to_string(received));
}

Counters VethPair::kernel_counters(const VethEnd& end) {
  const std::string dir = "/sys/class/net/" + end.ifname + "/statistics/";
  std::istringstream in(run("ip netns exec " + end.netns + " cat " + dir + "rx_bytes " + dir +
                            "rx_packets " + dir + "tx_bytes " + dir + "tx_packets"));
  Counters counters;
  counters.rx_bytes = read_number(in, "rx_bytes");
  counters.rx_packets = read_number(in, "rx_packets");
  counters.tx_bytes = read_number(in, "tx_bytes");
  counters.tx_packets = read_number(in, "tx_packets");
  return counters;
}

void VethPair::delete_link() const { run("ip -n " + a_.netns + " link del " + a_.ifname); }

Bpffs::Bpffs(const char* mode) {
  char dir[] = "/tmp/netmon-pin-test-XXXXXX";
  if (!mkdtemp(dir)) throw std::runtime_error("mkdtemp failed");
  mount_ = dir;
  if (mount("bpf", dir, "bpf", 0, mode) != 0) {
    rmdir(dir);
    throw std::runtime_error("cannot mount bpffs");
  }
}

Bpffs::~Bpffs() {
  umount2(mount_.c_str(), MNT_DETACH);
  rmdir(mount_.c_str());
}

}  // namespace netmon::testing
