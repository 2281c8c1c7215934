// OTLP/HTTP span and log exporters on one reused libcurl easy handle (keep-alive). Every attempt
// gets the time left before the export deadline as its curl timeout, and backoff waits never
// extend past the deadline, so Export returns within its timeout (plus scheduling noise).
#include "chat/telemetry/sdk/otlp_http_exporter.hpp"

#include <curl/curl.h>

#include <algorithm>
#include <charconv>
#include <cstring>
#include <ctime>
#include <optional>
#include <random>
#include <thread>

#include "chat/telemetry/sdk/http_client.hpp"
#include "chat/telemetry/sdk/otlp.hpp"

#ifndef CHAT_VERSION
#define CHAT_VERSION "0.0.0"
#endif

namespace chat::telemetry::sdk {
namespace {

using Clock = std::chrono::steady_clock;
using std::chrono::milliseconds;

constexpr milliseconds kInitialBackoff{250};
constexpr milliseconds kMaxBackoff{5000};
// Bodies we read back from the collector are only for diagnostics; cap what we keep.
constexpr size_t kMaxResponseBody = size_t{16} * 1024;

struct ResponseState {
  std::string body;
  std::optional<std::string> retry_after;
};

size_t OnBody(char* data, size_t size, size_t nmemb, void* user) {
  auto* st = static_cast<ResponseState*>(user);
  size_t n = size * nmemb;
  if (st->body.size() < kMaxResponseBody) {
    st->body.append(data, std::min(n, kMaxResponseBody - st->body.size()));
  }
  return n;
}

size_t OnHeader(char* data, size_t size, size_t nitems, void* user) {
  auto* st = static_cast<ResponseState*>(user);
  size_t n = size * nitems;
  std::string_view line(data, n);
  constexpr std::string_view kName = "retry-after:";
  if (line.size() > kName.size()) {
    bool match = true;
    for (size_t i = 0; i < kName.size(); ++i) {
      char c = line[i];
      if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
      if (c != kName[i]) {
        match = false;
        break;
      }
    }
    if (match) {
      std::string_view v = line.substr(kName.size());
      while (!v.empty() && (v.front() == ' ' || v.front() == '\t')) v.remove_prefix(1);
      while (!v.empty() && (v.back() == '\r' || v.back() == '\n' || v.back() == ' ')) {
        v.remove_suffix(1);
      }
      st->retry_after = std::string(v);
    }
  }
  // A new status line (e.g. after 100 Continue) starts a new response: forget old headers.
  if (line.rfind("HTTP/", 0) == 0) st->retry_after.reset();
  return n;
}

// Retry-After is delta-seconds or an HTTP-date (RFC 9110 §10.2.3); nullopt when unparsable.
std::optional<milliseconds> ParseRetryAfter(const std::string& v) {
  if (v.empty()) return std::nullopt;
  uint64_t secs = 0;
  auto r = std::from_chars(v.data(), v.data() + v.size(), secs);
  if (r.ec == std::errc() && r.ptr == v.data() + v.size()) {
    return milliseconds(static_cast<int64_t>(std::min<uint64_t>(secs, 86400)) * 1000);
  }
  time_t when = curl_getdate(v.c_str(), nullptr);
  if (when < 0) return std::nullopt;
  time_t now = std::time(nullptr);
  return milliseconds(when > now ? static_cast<int64_t>(when - now) * 1000 : 0);
}

bool IsRetryableStatus(long code) {
  return code == 429 || code == 502 || code == 503 || code == 504;
}

// curl_easy_init after the one process-wide curl_global_init.
CURL* NewEasyHandle() {
  CurlGlobalInitOnce();
  return curl_easy_init();
}

class OtlpHttpClient {
 public:
  explicit OtlpHttpClient(OtlpHttpOptions options)
      : options_(std::move(options)), curl_(NewEasyHandle()), rng_(std::random_device{}()) {
    headers_ = curl_slist_append(headers_, options_.json ? "Content-Type: application/json"
                                                         : "Content-Type: application/x-protobuf");
    if (options_.gzip) headers_ = curl_slist_append(headers_, "Content-Encoding: gzip");
    // No "Expect: 100-continue" round trip for large bodies.
    headers_ = curl_slist_append(headers_, "Expect:");
    for (const auto& [name, value] : options_.headers) {
      std::string h = name;
      h.append(": ").append(value);
      headers_ = curl_slist_append(headers_, h.c_str());
    }
  }
  ~OtlpHttpClient() {
    if (curl_ != nullptr) curl_easy_cleanup(curl_);
    curl_slist_free_all(headers_);
  }
  OtlpHttpClient(const OtlpHttpClient&) = delete;
  OtlpHttpClient& operator=(const OtlpHttpClient&) = delete;

  bool json() const { return options_.json; }

  ExportResult Post(std::string_view body, milliseconds timeout) {
    if (curl_ == nullptr) return ExportResult::kConnectionError;
    const auto deadline = Clock::now() + timeout;
    std::string compressed;
    if (options_.gzip) {
      auto z = Gzip(body);
      if (!z.ok()) return ExportResult::kConnectionError;
      compressed = std::move(z).value();
      body = compressed;
    }
    milliseconds backoff = kInitialBackoff;
    ExportResult last = ExportResult::kTimeout;
    for (int attempt = 1;; ++attempt) {
      auto left = std::chrono::duration_cast<milliseconds>(deadline - Clock::now());
      if (left.count() <= 0) return last;
      ResponseState response;
      long status = 0;
      CURLcode rc = Perform(body, left, response, status);
      std::optional<milliseconds> retry_after;
      if (rc == CURLE_OK) {
        if (status >= 200 && status < 300) return ExportResult::kSuccess;
        if (!IsRetryableStatus(status)) {
          return status >= 500 ? ExportResult::kHttp5xx : ExportResult::kHttp4xx;
        }
        last = status == 429 ? ExportResult::kHttp4xx : ExportResult::kHttp5xx;
        if (response.retry_after) retry_after = ParseRetryAfter(*response.retry_after);
      } else if (rc == CURLE_OPERATION_TIMEDOUT) {
        // Our own deadline cut this attempt short; an earlier answer from the server (a 5xx,
        // a refused connection) says more about why the export failed than "timeout".
        return attempt == 1 ? ExportResult::kTimeout : last;
      } else {
        last = ExportResult::kConnectionError;
      }
      // Jitter in [backoff/2, backoff] keeps many exporters from retrying in lockstep.
      std::uniform_int_distribution<int64_t> dist(backoff.count() / 2, backoff.count());
      milliseconds jittered(dist(rng_));
      backoff = std::min(backoff * 2, kMaxBackoff);
      // Retry-After is a lower bound. The first retry honours it exactly (often 0); later ones
      // also back off, so a server that keeps answering "Retry-After: 0" is not hammered.
      milliseconds wait = retry_after ? *retry_after : jittered;
      if (retry_after && attempt > 1) wait = std::max(wait, jittered);
      // A wait that ends past the deadline cannot lead to a success: give up now.
      if (Clock::now() + wait >= deadline) return last;
      std::this_thread::sleep_for(wait);
    }
  }

 private:
  CURLcode Perform(std::string_view body, milliseconds left, ResponseState& response,
                   long& status) {
    curl_easy_reset(curl_);  // keeps the connection cache; clears per-request options
    curl_easy_setopt(curl_, CURLOPT_URL, options_.url.c_str());
    curl_easy_setopt(curl_, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(curl_, CURLOPT_POST, 1L);
    curl_easy_setopt(curl_, CURLOPT_POSTFIELDS, body.data());
    curl_easy_setopt(curl_, CURLOPT_POSTFIELDSIZE_LARGE, static_cast<curl_off_t>(body.size()));
    curl_easy_setopt(curl_, CURLOPT_HTTPHEADER, headers_);
    curl_easy_setopt(curl_, CURLOPT_USERAGENT, "nats-chat-otlp/" CHAT_VERSION);
    long ms = std::max<long>(1, static_cast<long>(left.count()));
    curl_easy_setopt(curl_, CURLOPT_TIMEOUT_MS, ms);
    curl_easy_setopt(curl_, CURLOPT_CONNECTTIMEOUT_MS, ms);
    curl_easy_setopt(curl_, CURLOPT_WRITEFUNCTION, &OnBody);
    curl_easy_setopt(curl_, CURLOPT_WRITEDATA, &response);
    curl_easy_setopt(curl_, CURLOPT_HEADERFUNCTION, &OnHeader);
    curl_easy_setopt(curl_, CURLOPT_HEADERDATA, &response);
    curl_easy_setopt(curl_, CURLOPT_TCP_KEEPALIVE, 1L);
    CURLcode rc = curl_easy_perform(curl_);
    if (rc == CURLE_OK) curl_easy_getinfo(curl_, CURLINFO_RESPONSE_CODE, &status);
    return rc;
  }

  OtlpHttpOptions options_;
  CURL* curl_ = nullptr;
  curl_slist* headers_ = nullptr;
  std::mt19937_64 rng_;
};

class OtlpHttpSpanExporter final : public SpanExporter {
 public:
  OtlpHttpSpanExporter(OtlpHttpOptions options, Resource resource, InstrumentationScope scope)
      : client_(std::move(options)), resource_(std::move(resource)), scope_(std::move(scope)) {}

  ExportResult Export(const std::vector<std::unique_ptr<SpanData>>& batch,
                      milliseconds timeout) override {
    if (batch.empty()) return ExportResult::kSuccess;
    if (client_.json()) {
      EncodeTracesJson(resource_, scope_, batch, body_);
    } else {
      EncodeTracesProtobuf(resource_, scope_, batch, body_);
    }
    return client_.Post(body_, timeout);
  }

 private:
  OtlpHttpClient client_;
  Resource resource_;
  InstrumentationScope scope_;
  std::string body_;  // reused across batches
};

class OtlpHttpLogExporter final : public LogExporter {
 public:
  OtlpHttpLogExporter(OtlpHttpOptions options, Resource resource, InstrumentationScope scope)
      : client_(std::move(options)), resource_(std::move(resource)), scope_(std::move(scope)) {}

  ExportResult Export(const std::vector<std::unique_ptr<LogRecordData>>& batch,
                      milliseconds timeout) override {
    if (batch.empty()) return ExportResult::kSuccess;
    if (client_.json()) {
      EncodeLogsJson(resource_, scope_, batch, body_);
    } else {
      EncodeLogsProtobuf(resource_, scope_, batch, body_);
    }
    return client_.Post(body_, timeout);
  }

 private:
  OtlpHttpClient client_;
  Resource resource_;
  InstrumentationScope scope_;
  std::string body_;
};

}  // namespace

std::unique_ptr<SpanExporter> MakeOtlpHttpSpanExporter(OtlpHttpOptions options, Resource resource,
                                                       InstrumentationScope scope) {
  return std::make_unique<OtlpHttpSpanExporter>(std::move(options), std::move(resource),
                                                std::move(scope));
}

std::unique_ptr<LogExporter> MakeOtlpHttpLogExporter(OtlpHttpOptions options, Resource resource,
                                                     InstrumentationScope scope) {
  return std::make_unique<OtlpHttpLogExporter>(std::move(options), std::move(resource),
                                               std::move(scope));
}

}  // namespace chat::telemetry::sdk
