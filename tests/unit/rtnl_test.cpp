// The rtnetlink exchange loop against a scripted peer: what a dump does when
// recv() is interrupted, when the kernel marks a dump inconsistent, when a
// reply is truncated or an error. Before this loop, the tc filter count
// returned the filters seen so far when recv() hit EINTR, and the clsact
// cleanup could then remove a qdisc that still held another tool's filters.
#include "sys/rtnl.h"

#include <gtest/gtest.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>

#include <cerrno>
#include <cstring>
#include <deque>
#include <vector>

#include "sys/rtnl_tc.h"

using netmon::count_tc_filters;
using netmon::NetlinkChannel;
using netmon::RtnlStatus;

namespace {

// One recv() result: a datagram of messages, or an errno.
struct Reply {
  int err = 0;
  std::vector<nlmsghdr> messages;  // headers only; seq filled in on send
  size_t claimed_length = 0;       // > 0: pretend the datagram was this long
  bool stale = false;              // answers an earlier request (another seq)
};

nlmsghdr message(uint16_t type, uint16_t flags = NLM_F_MULTI) {
  nlmsghdr h{};
  h.nlmsg_len = NLMSG_LENGTH(0);
  h.nlmsg_type = type;
  h.nlmsg_flags = flags;
  return h;
}

nlmsghdr filter(uint16_t extra_flags = 0) {
  return message(RTM_NEWTFILTER, NLM_F_MULTI | extra_flags);
}
nlmsghdr done() { return message(NLMSG_DONE); }

// Plays one script per request sent: a dump that is restarted gets the next.
class ScriptedChannel : public NetlinkChannel {
 public:
  std::deque<std::deque<Reply>> scripts;
  int sends = 0;

  ssize_t send(const void* data, size_t len) override {
    EXPECT_GE(len, sizeof(nlmsghdr));
    seq_ = static_cast<const nlmsghdr*>(data)->nlmsg_seq;
    ++sends;
    EXPECT_FALSE(scripts.empty()) << "unexpected request";
    if (scripts.empty()) {
      errno = EIO;
      return -1;
    }
    current_ = std::move(scripts.front());
    scripts.pop_front();
    return static_cast<ssize_t>(len);
  }

  ssize_t recv(void* buffer, size_t len) override {
    if (current_.empty()) {
      ADD_FAILURE() << "recv() past the end of the script";
      errno = EIO;
      return -1;
    }
    Reply reply = std::move(current_.front());
    current_.pop_front();
    if (reply.err) {
      errno = reply.err;
      return -1;
    }
    size_t used = 0;
    for (nlmsghdr h : reply.messages) {
      h.nlmsg_seq = reply.stale ? seq_ - 1 : seq_;
      if (h.nlmsg_type == NLMSG_ERROR) h.nlmsg_len = NLMSG_LENGTH(sizeof(nlmsgerr));
      EXPECT_LE(used + NLMSG_ALIGN(h.nlmsg_len), len);
      std::memset(static_cast<char*>(buffer) + used, 0, NLMSG_ALIGN(h.nlmsg_len));
      std::memcpy(static_cast<char*>(buffer) + used, &h, sizeof(h));
      if (h.nlmsg_type == NLMSG_ERROR) {
        nlmsgerr err{};
        err.error = -error_;
        std::memcpy(static_cast<char*>(buffer) + used + NLMSG_HDRLEN, &err, sizeof(err));
      }
      used += NLMSG_ALIGN(h.nlmsg_len);
    }
    return static_cast<ssize_t>(reply.claimed_length ? reply.claimed_length : used);
  }

  int error_ = 0;  // what an NLMSG_ERROR reply carries

 private:
  uint32_t seq_ = 0;
  std::deque<Reply> current_;
};

}  // namespace

TEST(Rtnl, CountsEveryFilterOfAMultiPartDump) {
  ScriptedChannel channel;
  channel.scripts = {{{0, {filter(), filter()}}, {0, {filter(), done()}}}};
  int count = -1;
  EXPECT_FALSE(count_tc_filters(channel, 7, true, count));
  EXPECT_EQ(count, 3);
}

TEST(Rtnl, AnInterruptedReceiveIsRetriedNotTakenForTheEnd) {
  // Two filters, then a signal, then the third and the end: all three count.
  ScriptedChannel channel;
  channel.scripts = {{{0, {filter(), filter()}}, {EINTR, {}}, {0, {filter(), done()}}}};
  int count = -1;
  RtnlStatus status = count_tc_filters(channel, 7, false, count);
  EXPECT_FALSE(status) << status.message();
  EXPECT_EQ(count, 3);
  EXPECT_EQ(channel.sends, 1);
}

TEST(Rtnl, ADumpTheKernelMarksInterruptedStartsOver) {
  // The first pass saw the table change under it (NLM_F_DUMP_INTR): its
  // count may miss or repeat filters, so the dump runs again from zero.
  ScriptedChannel channel;
  channel.scripts = {{{0, {filter(), filter(NLM_F_DUMP_INTR), done()}}}, {{0, {filter(), done()}}}};
  int count = -1;
  EXPECT_FALSE(count_tc_filters(channel, 7, true, count));
  EXPECT_EQ(count, 1);
  EXPECT_EQ(channel.sends, 2);
}

TEST(Rtnl, ADumpInterruptedEveryTimeGivesUpWithEagain) {
  ScriptedChannel channel;
  for (int i = 0; i < 5; ++i) channel.scripts.push_back({{0, {filter(NLM_F_DUMP_INTR), done()}}});
  int count = -1;
  RtnlStatus status = count_tc_filters(channel, 7, true, count);
  EXPECT_EQ(status.err, EAGAIN);
  EXPECT_EQ(status.message(), "rtnetlink dump failed: Resource temporarily unavailable");
}

TEST(Rtnl, AnErrorReplyIsTheStatusNotACount) {
  ScriptedChannel channel;
  channel.error_ = EINVAL;
  channel.scripts = {{{0, {filter(), message(NLMSG_ERROR, 0)}}}};
  int count = -1;
  RtnlStatus status = count_tc_filters(channel, 7, true, count);
  EXPECT_EQ(status.err, EINVAL);
  EXPECT_EQ(status.message(), "rtnetlink dump failed: Invalid argument");
}

TEST(Rtnl, ATruncatedDatagramIsAnErrorNotAPartialParse) {
  ScriptedChannel channel;
  Reply truncated{0, {filter()}, 128 * 1024};
  channel.scripts = {{truncated}};
  int count = -1;
  EXPECT_EQ(count_tc_filters(channel, 7, true, count).err, EMSGSIZE);
}

TEST(Rtnl, AReceiveFailureNamesTheStep) {
  ScriptedChannel channel;
  channel.scripts = {{{ENOBUFS, {}}}};
  int count = -1;
  RtnlStatus status = count_tc_filters(channel, 7, true, count);
  EXPECT_EQ(status.message(), "rtnetlink receive failed: No buffer space available");
}

TEST(Rtnl, RepliesToAnotherRequestAreIgnored) {
  ScriptedChannel channel;
  Reply stale{0, {filter(), filter(), done()}};
  stale.stale = true;
  channel.scripts = {{stale, {0, {filter(), done()}}}};
  int count = -1;
  EXPECT_FALSE(count_tc_filters(channel, 7, true, count));
  EXPECT_EQ(count, 1);
}
