#include <gtest/gtest.h>
#include <zlib.h>

#include <fstream>
#include <set>
#include <sstream>
#include <string>

#include "web_assets.h"

namespace netmon::web {
namespace {

std::string read_source(std::string_view path) {
  std::ifstream in(std::string(NETMON_WEB_DIR) + std::string(path), std::ios::binary);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

std::string gunzip(std::string_view gz) {
  z_stream z{};
  EXPECT_EQ(inflateInit2(&z, 16 + MAX_WBITS), Z_OK);
  z.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(gz.data()));
  z.avail_in = static_cast<uInt>(gz.size());
  std::string out;
  char buf[16384];
  int rc;
  do {
    z.next_out = reinterpret_cast<Bytef*>(buf);
    z.avail_out = sizeof buf;
    rc = inflate(&z, Z_NO_FLUSH);
    out.append(buf, sizeof buf - z.avail_out);
  } while (rc == Z_OK);
  EXPECT_EQ(rc, Z_STREAM_END);
  EXPECT_EQ(z.avail_in, 0u);  // one member, nothing after it
  inflateEnd(&z);
  return out;
}

TEST(WebAssets, EmbeddedBytesAreTheGzippedSourceFiles) {
  WebAssetTable table = web_assets();
  ASSERT_EQ(table.count, 3u);
  for (std::size_t i = 0; i < table.count; ++i) {
    const WebAsset& a = table.begin[i];
    SCOPED_TRACE(std::string(a.path));
    ASSERT_GE(a.gzip.size(), 18u);
    EXPECT_EQ(static_cast<unsigned char>(a.gzip[0]), 0x1f);
    EXPECT_EQ(static_cast<unsigned char>(a.gzip[1]), 0x8b);
    // gzip -n: no file name, no timestamp, so builds are reproducible.
    EXPECT_EQ(a.gzip[3] & 0x08, 0);
    EXPECT_EQ(a.gzip.substr(4, 4), std::string(4, '\0'));
    std::string source = read_source(a.path);
    ASSERT_FALSE(source.empty());
    EXPECT_EQ(a.raw_size, source.size());
    EXPECT_EQ(gunzip(a.gzip), source);
  }
}

TEST(WebAssets, PageAndScriptWellUnder50KiBGzipped) {
  std::size_t total = 0;
  for (const char* path : {"/index.html", "/app.js", "/style.css"}) {
    const WebAsset* a = find_web_asset(path);
    ASSERT_NE(a, nullptr) << path;
    total += a->gzip.size();
  }
  EXPECT_LT(total, 50u * 1024);
  std::cout << "[ INFO     ] page + script + style gzipped: " << total << " bytes\n";
}

TEST(WebAssets, LookupByPathOnly) {
  const WebAsset* index = find_web_asset("/");
  ASSERT_NE(index, nullptr);
  EXPECT_EQ(index->path, "/index.html");
  EXPECT_EQ(index->content_type, "text/html; charset=utf-8");
  EXPECT_EQ(find_web_asset("/app.js")->content_type, "text/javascript; charset=utf-8");
  EXPECT_EQ(find_web_asset("/style.css")->content_type, "text/css; charset=utf-8");
  for (const char* miss : {"", "/index", "/index.html/", "//app.js", "/../web/app.js",
                           "/web/app.js", "/APP.JS", "/metrics", "/events", "/ws"}) {
    EXPECT_EQ(find_web_asset(miss), nullptr) << miss;
  }
}

TEST(WebAssets, HeadersDeclareGzipAndLockThePageDown) {
  std::string h(kWebAssetHeaders);
  EXPECT_NE(h.find("Content-Encoding: gzip\r\n"), std::string::npos);
  EXPECT_NE(h.find("X-Content-Type-Options: nosniff\r\n"), std::string::npos);
  EXPECT_NE(h.find("Content-Security-Policy: default-src 'self'"), std::string::npos);
}

}  // namespace
}  // namespace netmon::web
