#include "app/rtnl_link_feed.h"

#include "sys/error.h"

namespace netmon {
namespace {

std::vector<Link> dump_links_over(RtnlSocket& rtnl) {
  std::vector<LinkInfo> infos;
  if (RtnlStatus status = dump_links(rtnl, infos)) throw Error(status.message());
  std::vector<Link> links;
  links.reserve(infos.size());
  for (LinkInfo& info : infos) links.push_back({info.ifindex, std::move(info.name)});
  return links;
}

}  // namespace

std::vector<Link> RtnlLinkFeed::dump() { return dump_links_over(rtnl_); }

std::optional<std::vector<LinkEvent>> RtnlLinkFeed::drain() {
  auto events = events_.drain();
  if (!events) return std::nullopt;
  std::vector<LinkEvent> out;
  out.reserve(events->size());
  for (auto& event : *events)
    out.push_back({event.deleted, {event.link.ifindex, std::move(event.link.name)}});
  return out;
}

std::vector<Link> dump_links_now() {
  RtnlSocket rtnl;
  return dump_links_over(rtnl);
}

}  // namespace netmon
