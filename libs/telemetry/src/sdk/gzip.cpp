// gzip for OTLP/HTTP bodies (zlib). Compression uses level 1: telemetry bodies compress well at
// any level and the exporter's CPU budget matters more than the last few percent of size.
// Gunzip stops as soon as the output would exceed the caller's limit (zip-bomb protection).
#include <zlib.h>

#include <climits>

#include "chat/telemetry/sdk/otlp.hpp"

namespace chat::telemetry::sdk {

core::Result<std::string> Gzip(std::string_view data) {
  z_stream zs{};
  // 15 + 16: default window, gzip wrapper (RFC 1952) instead of zlib's.
  if (deflateInit2(&zs, 1, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY) != Z_OK) {
    return core::Internal("deflateInit2 failed");
  }
  std::string out;
  out.resize(deflateBound(&zs, static_cast<uLong>(data.size())) + 32);
  zs.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(data.data()));
  zs.next_out = reinterpret_cast<Bytef*>(out.data());
  size_t in_left = data.size();
  int rc = Z_OK;
  while (rc == Z_OK || rc == Z_BUF_ERROR) {
    // avail_in is a uInt: feed very large inputs in chunks.
    uInt chunk = static_cast<uInt>(std::min<size_t>(in_left, UINT_MAX));
    zs.avail_in = chunk;
    auto produced = static_cast<size_t>(zs.next_out - reinterpret_cast<Bytef*>(out.data()));
    if (produced == out.size()) out.resize(out.size() * 2);
    zs.next_out = reinterpret_cast<Bytef*>(out.data()) + produced;
    zs.avail_out = static_cast<uInt>(std::min<size_t>(out.size() - produced, UINT_MAX));
    rc = deflate(&zs, chunk == in_left ? Z_FINISH : Z_NO_FLUSH);
    in_left -= chunk - zs.avail_in;
    if (rc == Z_STREAM_END) break;
  }
  auto produced = static_cast<size_t>(zs.next_out - reinterpret_cast<Bytef*>(out.data()));
  deflateEnd(&zs);
  if (rc != Z_STREAM_END) return core::Internal("deflate failed");
  out.resize(produced);
  return out;
}

core::Result<std::string> Gunzip(std::string_view data, size_t max_output) {
  z_stream zs{};
  if (inflateInit2(&zs, 15 + 16) != Z_OK) return core::Internal("inflateInit2 failed");
  std::string out;
  char buf[16384];
  zs.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(data.data()));
  size_t in_left = data.size();
  core::Status error;
  while (true) {
    uInt chunk = static_cast<uInt>(std::min<size_t>(in_left, UINT_MAX));
    zs.avail_in = chunk;
    zs.next_out = reinterpret_cast<Bytef*>(buf);
    zs.avail_out = sizeof buf;
    int rc = inflate(&zs, Z_NO_FLUSH);
    in_left -= chunk - zs.avail_in;
    size_t produced = sizeof buf - zs.avail_out;
    if (out.size() + produced > max_output) {
      error = core::ResourceExhausted("gzip body inflates beyond " + std::to_string(max_output) +
                                      " bytes");
      break;
    }
    out.append(buf, produced);
    if (rc == Z_STREAM_END) {
      if (in_left == 0) break;
      // Concatenated gzip members (RFC 1952 §2.2) decode as one stream.
      if (inflateReset(&zs) != Z_OK) {
        error = core::InvalidArgument("gzip reset failed");
        break;
      }
      continue;
    }
    if (rc == Z_BUF_ERROR && in_left == 0 && produced == 0) {
      error = core::InvalidArgument("truncated gzip body");
      break;
    }
    if (rc != Z_OK && rc != Z_BUF_ERROR) {
      error = core::InvalidArgument(std::string("invalid gzip body: ") +
                                    (zs.msg != nullptr ? zs.msg : "inflate error"));
      break;
    }
  }
  inflateEnd(&zs);
  if (!error.ok()) return error;
  return out;
}

}  // namespace chat::telemetry::sdk
