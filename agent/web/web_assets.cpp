#include "web_assets.h"

namespace netmon::web {

const WebAsset* find_web_asset(std::string_view path) {
  if (path == "/") path = "/index.html";
  WebAssetTable table = web_assets();
  for (std::size_t i = 0; i < table.count; ++i) {
    if (table.begin[i].path == path) return &table.begin[i];
  }
  return nullptr;
}

}  // namespace netmon::web
