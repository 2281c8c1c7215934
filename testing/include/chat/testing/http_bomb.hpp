// Request-body bombs for the HTTP servers' limit tests (issue 11 §4): compressed bodies that
// inflate to many megabytes (gzip, deflate = zlib stream, br), a chunked body streamed until the
// server answers, over a raw socket so nothing in between buffers or rewrites them; and the peak
// resident size (VmHWM) of a process, to show a refusal cost no memory.
#pragma once

#include <sys/types.h>

#include <cstddef>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace chat::testing {

enum class BombEncoding { kGzip, kDeflate, kBrotli };

// The Content-Encoding token: "gzip", "deflate", "br".
std::string_view EncodingToken(BombEncoding encoding);

// `inflated_bytes` zero bytes compressed, streamed through the encoder in small pieces so the
// test process never holds the inflated size (64 MiB of zeros: ~65 KB gzip, ~few KB br).
std::string CompressedZeros(BombEncoding encoding, size_t inflated_bytes);

using HeaderList = std::vector<std::pair<std::string, std::string>>;

struct RawResponse {
  int status = 0;    // 0: no answer (connection error or timeout)
  std::string head;  // status line and headers
  std::string body;
  size_t body_bytes_sent = 0;  // how much of the request body left before the answer came
  std::string error;           // what went wrong when status is 0
};

// `method path HTTP/1.1` to 127.0.0.1:`port` with `headers`, Host and Content-Length added, then
// `body`. Stops sending as soon as the server answers or closes (a refusal need not wait for the
// whole body).
RawResponse SendWithLength(int port, const std::string& method, const std::string& path,
                           const HeaderList& headers, const std::string& body);

// The same with Transfer-Encoding: chunked and `total_bytes` zero bytes in 64 KiB chunks.
RawResponse SendChunked(int port, const std::string& method, const std::string& path,
                        const HeaderList& headers, size_t total_bytes);

// VmHWM (peak resident set) in KiB from /proc/<pid>/status (pid 0 = this process); 0 if unknown.
// How much a server's peak RSS may grow while it refuses the bombs (issue 11 item 4: 5 MiB).
// Under AddressSanitizer every allocation also costs shadow pages and sits in the allocator's
// quarantine after it is freed, so the same bounded reads leave more resident memory behind;
// the unbounded code this guards against grew by 100-350 MB, far above either bound.
#if defined(__SANITIZE_ADDRESS__)
inline constexpr long kBombMaxRssGrowthKib = 32 * 1024;
#else
inline constexpr long kBombMaxRssGrowthKib = long{5} * 1024;
#endif

long PeakRssKib(pid_t pid = 0);

}  // namespace chat::testing
