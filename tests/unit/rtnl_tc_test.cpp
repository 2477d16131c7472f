// dump_tc_filters() against a scripted kernel: the order it returns is the
// order the tc guard trusts to mean "runs first".
#include "sys/rtnl_tc.h"

#include <gtest/gtest.h>
#include <linux/netlink.h>
#include <linux/pkt_cls.h>
#include <linux/rtnetlink.h>

#include <cstring>
#include <string>
#include <vector>

namespace netmon {
namespace {

// Appends an rtattr with `len` bytes of payload.
void put_attr(std::string& out, uint16_t type, const void* data, size_t len) {
  size_t at = out.size();
  rtattr rta{};
  rta.rta_type = type;
  rta.rta_len = static_cast<uint16_t>(RTA_LENGTH(len));
  out.append(reinterpret_cast<const char*>(&rta), sizeof(rta));
  out.append(static_cast<const char*>(data), len);
  out.resize(at + RTA_ALIGN(rta.rta_len), '\0');
}

struct Filter {
  uint32_t chain;
  uint32_t prio;
  uint32_t handle;
  std::string kind;
  uint32_t prog_id = 0;
  std::string name;
};

std::string filter_message(const Filter& f) {
  std::string body(NLMSG_ALIGN(sizeof(tcmsg)), '\0');
  tcmsg tc{};
  tc.tcm_handle = f.handle;
  tc.tcm_info = TC_H_MAKE(f.prio << 16, 0);
  std::memcpy(&body[0], &tc, sizeof(tc));
  put_attr(body, TCA_KIND, f.kind.c_str(), f.kind.size() + 1);
  put_attr(body, TCA_CHAIN, &f.chain, sizeof(f.chain));
  if (f.prog_id) {
    std::string options;
    put_attr(options, TCA_BPF_ID, &f.prog_id, sizeof(f.prog_id));
    put_attr(options, TCA_BPF_NAME, f.name.c_str(), f.name.size() + 1);
    put_attr(body, TCA_OPTIONS, options.data(), options.size());
  }
  nlmsghdr h{};
  h.nlmsg_len = static_cast<uint32_t>(NLMSG_LENGTH(body.size()));
  h.nlmsg_type = RTM_NEWTFILTER;
  h.nlmsg_flags = NLM_F_MULTI;
  std::string out(reinterpret_cast<const char*>(&h), sizeof(h));
  out += body;
  out.resize(NLMSG_ALIGN(out.size()), '\0');
  return out;
}

// Answers one dump with one datagram of `messages` and NLMSG_DONE.
class OneDump : public NetlinkChannel {
 public:
  explicit OneDump(std::vector<Filter> filters) : filters_(std::move(filters)) {}
  ssize_t send(const void* data, size_t len) override {
    seq_ = static_cast<const nlmsghdr*>(data)->nlmsg_seq;
    return static_cast<ssize_t>(len);
  }
  ssize_t recv(void* buffer, size_t len) override {
    std::string datagram;
    for (const Filter& f : filters_) datagram += filter_message(f);
    nlmsghdr done{};
    done.nlmsg_len = NLMSG_LENGTH(0);
    done.nlmsg_type = NLMSG_DONE;
    datagram.append(reinterpret_cast<const char*>(&done), sizeof(done));
    for (size_t at = 0; at < datagram.size();) {
      auto* h = reinterpret_cast<nlmsghdr*>(&datagram[at]);
      h->nlmsg_seq = seq_;
      at += NLMSG_ALIGN(h->nlmsg_len);
    }
    EXPECT_LE(datagram.size(), len);
    std::memcpy(buffer, datagram.data(), datagram.size());
    return static_cast<ssize_t>(datagram.size());
  }

 private:
  std::vector<Filter> filters_;
  uint32_t seq_ = 0;
};

TEST(RtnlTc, FiltersComeInRunOrderWithoutHeadersAndChainZeroFirst) {
  OneDump kernel({{5, 1, 0, "bpf"},
                  {5, 1, 0x7, "bpf", 40, "elsewhere"},
                  {0, 1, 0, "bpf"},
                  {0, 1, 0x1, "bpf", 42, "drop.o:[tc]"},
                  {0, 1, 0x4e4d, "bpf", 41, "netmon_ingress"},
                  {0, 7, 0x800, "u32"}});
  std::vector<TcFilterEntry> filters;
  ASSERT_FALSE(dump_tc_filters(kernel, 3, true, filters));
  ASSERT_EQ(filters.size(), 4u);
  EXPECT_EQ(filters[0].handle, 0x1u);
  EXPECT_EQ(filters[0].priority, 1u);
  EXPECT_EQ(filters[0].kind, "bpf");
  EXPECT_EQ(filters[0].bpf_prog_id, 42u);
  EXPECT_EQ(filters[0].bpf_name, "drop.o:[tc]");
  EXPECT_EQ(filters[1].bpf_name, "netmon_ingress");
  EXPECT_EQ(filters[2].kind, "u32");
  EXPECT_EQ(filters[2].priority, 7u);
  EXPECT_EQ(filters[2].bpf_prog_id, 0u);
  EXPECT_EQ(filters[3].chain, 5u) << "another chain runs only when jumped to";
}

}  // namespace
}  // namespace netmon
