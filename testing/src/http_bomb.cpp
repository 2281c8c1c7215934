#include "chat/testing/http_bomb.hpp"

#include <arpa/inet.h>
#include <brotli/encode.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>
#include <zlib.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstdlib>
#include <cstring>
#include <fstream>

#include "chat/core/status.hpp"

namespace chat::testing {
namespace {

constexpr size_t kPiece = size_t{64} * 1024;

std::string ZlibZeros(size_t inflated_bytes, int window_bits) {
  z_stream zs{};
  if (deflateInit2(&zs, 9, Z_DEFLATED, window_bits, 8, Z_DEFAULT_STRATEGY) != Z_OK) return {};
  std::vector<unsigned char> zeros(kPiece, 0);
  std::vector<unsigned char> out(kPiece);
  std::string result;
  size_t left = inflated_bytes;
  int rc = Z_OK;
  do {
    size_t n = std::min(left, kPiece);
    left -= n;
    zs.next_in = zeros.data();
    zs.avail_in = static_cast<uInt>(n);
    const int flush = left == 0 ? Z_FINISH : Z_NO_FLUSH;
    do {
      zs.next_out = out.data();
      zs.avail_out = static_cast<uInt>(out.size());
      rc = deflate(&zs, flush);
      result.append(reinterpret_cast<char*>(out.data()), out.size() - zs.avail_out);
    } while (zs.avail_out == 0);
  } while (left > 0);
  deflateEnd(&zs);
  return rc == Z_STREAM_END ? result : std::string();
}

std::string BrotliZeros(size_t inflated_bytes) {
  BrotliEncoderState* st = BrotliEncoderCreateInstance(nullptr, nullptr, nullptr);
  if (st == nullptr) return {};
  // A small window and a middling quality keep the encoder's own memory to a few hundred KiB.
  BrotliEncoderSetParameter(st, BROTLI_PARAM_QUALITY, 5);
  BrotliEncoderSetParameter(st, BROTLI_PARAM_LGWIN, 16);
  std::vector<uint8_t> zeros(kPiece, 0);
  std::string result;
  size_t left = inflated_bytes;
  bool ok = true;
  while (ok) {
    size_t n = std::min(left, kPiece);
    left -= n;
    const uint8_t* next_in = zeros.data();
    size_t avail_in = n;
    const BrotliEncoderOperation op =
        left == 0 ? BROTLI_OPERATION_FINISH : BROTLI_OPERATION_PROCESS;
    do {
      size_t avail_out = 0;
      if (!BrotliEncoderCompressStream(st, op, &avail_in, &next_in, &avail_out, nullptr, nullptr)) {
        ok = false;
        break;
      }
      size_t size = 0;
      const uint8_t* produced = BrotliEncoderTakeOutput(st, &size);
      result.append(reinterpret_cast<const char*>(produced), size);
    } while (avail_in > 0 || BrotliEncoderHasMoreOutput(st));
    if (left == 0) break;
  }
  ok = ok && BrotliEncoderIsFinished(st);
  BrotliEncoderDestroyInstance(st);
  return ok ? result : std::string();
}

int Connect(int port, std::string& error) {
  int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) {
    error = "socket failed";
    return -1;
  }
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<uint16_t>(port));
  ::inet_pton(AF_INET, "127.0.0.1", &addr.sin_addr);
  if (::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0) {
    error = std::string("connect failed: ") + core::ErrnoMessage(errno);
    ::close(fd);
    return -1;
  }
  return fd;
}

// Source of the request bytes: the head, then the body pieces.
class Payload {
 public:
  virtual ~Payload() = default;
  // Next bytes to send; empty when everything went.
  virtual std::string_view Next() = 0;
  virtual void Consumed(size_t n) = 0;
  size_t body_sent = 0;
};

class FixedPayload final : public Payload {
 public:
  FixedPayload(std::string head, const std::string& body) : head_(std::move(head)), body_(body) {}
  std::string_view Next() override {
    if (head_pos_ < head_.size()) return std::string_view(head_).substr(head_pos_);
    return std::string_view(body_).substr(body_pos_);
  }
  void Consumed(size_t n) override {
    if (head_pos_ < head_.size()) {
      head_pos_ += n;
    } else {
      body_pos_ += n;
      body_sent += n;
    }
  }

 private:
  std::string head_;
  const std::string& body_;
  size_t head_pos_ = 0;
  size_t body_pos_ = 0;
};

class ChunkedPayload final : public Payload {
 public:
  ChunkedPayload(std::string head, size_t total) : buffer_(std::move(head)), left_(total) {}
  std::string_view Next() override {
    if (pos_ == buffer_.size()) Refill();
    return std::string_view(buffer_).substr(pos_);
  }
  void Consumed(size_t n) override {
    pos_ += n;
    if (in_body_) body_sent += n;
  }

 private:
  void Refill() {
    buffer_.clear();
    pos_ = 0;
    if (done_) return;
    in_body_ = true;
    if (left_ == 0) {
      buffer_ = "0\r\n\r\n";
      done_ = true;
      return;
    }
    size_t n = std::min(left_, kPiece);
    left_ -= n;
    char size_line[32];
    std::snprintf(size_line, sizeof size_line, "%zx\r\n", n);
    buffer_ = size_line;
    buffer_.append(n, '\0');
    buffer_ += "\r\n";
  }
  std::string buffer_;
  size_t pos_ = 0;
  size_t left_;
  bool in_body_ = false;
  bool done_ = false;
};

void ParseResponse(RawResponse& r, const std::string& raw) {
  size_t end = raw.find("\r\n\r\n");
  if (raw.rfind("HTTP/1.", 0) != 0 || end == std::string::npos) {
    r.error = "no complete HTTP answer (" + std::to_string(raw.size()) + " bytes)";
    return;
  }
  r.head = raw.substr(0, end);
  r.body = raw.substr(end + 4);
  r.status = std::atoi(raw.c_str() + 9);
}

bool HeadComplete(const std::string& raw, size_t& need) {
  size_t end = raw.find("\r\n\r\n");
  if (end == std::string::npos) return false;
  std::string lower = raw.substr(0, end);
  for (char& c : lower) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  size_t cl = lower.find("\r\ncontent-length:");
  size_t body_len =
      cl == std::string::npos ? 0 : std::strtoul(lower.c_str() + cl + 17, nullptr, 10);
  need = end + 4 + body_len;
  return true;
}

RawResponse Exchange(int port, Payload& payload) {
  RawResponse r;
  int fd = Connect(port, r.error);
  if (fd < 0) return r;
  ::fcntl(fd, F_SETFL, ::fcntl(fd, F_GETFL) | O_NONBLOCK);
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
  std::string raw;
  bool sending = true;
  size_t need = 0;
  while (std::chrono::steady_clock::now() < deadline) {
    if (HeadComplete(raw, need) && raw.size() >= need) break;
    pollfd p{fd, static_cast<short>(POLLIN | (sending ? POLLOUT : 0)), 0};
    if (::poll(&p, 1, 200) <= 0) continue;
    if (p.revents & (POLLIN | POLLHUP | POLLERR)) {
      sending = false;  // the server answered (or gave up): the rest of the body stays unsent
      char buf[16384];
      ssize_t n = ::recv(fd, buf, sizeof buf, 0);
      if (n > 0) {
        raw.append(buf, static_cast<size_t>(n));
        continue;
      }
      if (n == 0 || (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR)) break;
      continue;
    }
    if (sending && (p.revents & POLLOUT)) {
      std::string_view next = payload.Next();
      if (next.empty()) {
        sending = false;
        continue;
      }
      ssize_t n = ::send(fd, next.data(), std::min<size_t>(next.size(), kPiece), MSG_NOSIGNAL);
      if (n > 0) {
        payload.Consumed(static_cast<size_t>(n));
      } else if (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR) {
        sending = false;  // reset by the server: read what it answered
      }
    }
  }
  ::close(fd);
  r.body_bytes_sent = payload.body_sent;
  ParseResponse(r, raw);
  return r;
}

std::string Head(int port, const std::string& method, const std::string& path,
                 const HeaderList& headers) {
  std::string head =
      method + " " + path + " HTTP/1.1\r\nHost: 127.0.0.1:" + std::to_string(port) + "\r\n";
  for (const auto& [k, v] : headers) head += k + ": " + v + "\r\n";
  return head;
}

}  // namespace

std::string_view EncodingToken(BombEncoding encoding) {
  switch (encoding) {
    case BombEncoding::kGzip: return "gzip";
    case BombEncoding::kDeflate: return "deflate";
    case BombEncoding::kBrotli: return "br";
  }
  return "gzip";
}

std::string CompressedZeros(BombEncoding encoding, size_t inflated_bytes) {
  switch (encoding) {
    case BombEncoding::kGzip: return ZlibZeros(inflated_bytes, 15 + 16);
    case BombEncoding::kDeflate: return ZlibZeros(inflated_bytes, 15);  // zlib stream (RFC 9110)
    case BombEncoding::kBrotli: return BrotliZeros(inflated_bytes);
  }
  return {};
}

RawResponse SendWithLength(int port, const std::string& method, const std::string& path,
                           const HeaderList& headers, const std::string& body) {
  std::string head = Head(port, method, path, headers);
  head += "Content-Length: " + std::to_string(body.size()) + "\r\n\r\n";
  FixedPayload payload(std::move(head), body);
  return Exchange(port, payload);
}

RawResponse SendChunked(int port, const std::string& method, const std::string& path,
                        const HeaderList& headers, size_t total_bytes) {
  std::string head = Head(port, method, path, headers) + "Transfer-Encoding: chunked\r\n\r\n";
  ChunkedPayload payload(std::move(head), total_bytes);
  return Exchange(port, payload);
}

long PeakRssKib(pid_t pid) {
  std::ifstream in(pid == 0 ? std::string("/proc/self/status")
                            : "/proc/" + std::to_string(pid) + "/status");
  std::string key;
  while (in >> key) {
    if (key == "VmHWM:") {
      long kib = 0;
      in >> kib;
      return kib;
    }
  }
  return 0;
}

}  // namespace chat::testing
