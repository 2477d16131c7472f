// The live page's files, compiled into the binary at build time (gzip -9n by
// agent/web/CMakeLists.txt), so the agent serves them with no file on the
// router's disk and no path from a request ever reaches the file system.
#pragma once

#include <cstddef>
#include <string_view>

namespace netmon::web {

struct WebAsset {
  std::string_view path;          // "/index.html", "/app.js", ...
  std::string_view content_type;  // "text/html; charset=utf-8", ...
  std::string_view gzip;          // the file, gzip-compressed; sent as it is
  std::size_t raw_size;           // the file's size before compression
};

// Response headers to send with every asset (each ends in CRLF), besides
// Content-Type and Content-Length: the body is gzip (every browser takes
// it); the page is re-fetched on each visit, since a new agent brings a new
// one; the CSP lets the page load only its own files and talk only to its
// own host.
inline constexpr std::string_view kWebAssetHeaders =
    "Content-Encoding: gzip\r\n"
    "Cache-Control: no-cache\r\n"
    "X-Content-Type-Options: nosniff\r\n"
    "Content-Security-Policy: default-src 'self'; frame-ancestors 'none'\r\n";

// The asset for a request path: "/" is "/index.html"; nullptr for anything
// else (the server answers 404).
const WebAsset* find_web_asset(std::string_view path);

// Every asset, for tests and the build's size check.
struct WebAssetTable {
  const WebAsset* begin;
  std::size_t count;
};
WebAssetTable web_assets();

}  // namespace netmon::web
