// Request-body limits for every cpp-httplib server; see http_body_guard.hpp for what cpp-httplib
// 0.11 does and why each check exists.
#include "chat/telemetry/sdk/http_body_guard.hpp"

#include <httplib.h>

#include <cctype>
#include <charconv>
#include <cstdint>
#include <nlohmann/json.hpp>
#include <utility>

#include "chat/core/clock.hpp"

namespace chat::telemetry::sdk {
namespace {

// Where an accepted Content-Encoding is kept once hidden from cpp-httplib's inflater.
// What a refused (over-limit) body may still be read for, and dropped: see Post().
constexpr size_t kMaxDiscardedBytes = size_t{1} << 20;

constexpr const char* kOriginalEncodingHeader = "X-Chat-Original-Content-Encoding";

constexpr std::string_view kAllReasons[] = {kRefusedTooLarge,         kRefusedEncoding,
                                            kRefusedTransferEncoding, kRefusedLengthRequired,
                                            kRefusedMediaType,        kRefusedMalformed};

std::string Lower(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  for (char c : s) {
    if (c == ' ' || c == '\t') continue;  // header values compared without blanks
    out.push_back(static_cast<char>(std::tolower(static_cast<unsigned char>(c))));
  }
  return out;
}

// Methods for which cpp-httplib reads a body before routing (detail::expect_content).
bool ReadsBody(const std::string& method) {
  return method == "POST" || method == "PUT" || method == "PATCH" || method == "PRI" ||
         method == "DELETE";
}

std::string_view CodeFor(int status) {
  switch (status) {
    case 413: return "resource_exhausted";
    case 415:
    case 501: return "unimplemented";
    case 411: return "failed_precondition";
    default: return "invalid_argument";
  }
}

}  // namespace

HttpBodyGuard::HttpBodyGuard(std::string server_label, MetricRegistry& registry, Logger* logger)
    : label_(std::move(server_label)), logger_(logger) {
  rejected_ = registry.AddCounter(
      "http_server_rejected_requests_total",
      "HTTP requests refused before their body was used (size, encoding, framing), by listener.",
      {"server", "reason"});
  for (std::string_view r : kAllReasons) rejected_.With({label_, r});
  if (logger_ == nullptr) {
    own_logger_ =
        std::make_unique<Logger>(label_, LogLevel::kInfo, nullptr, core::SystemClock::Instance());
    logger_ = own_logger_.get();
  }
}

HttpBodyGuard::~HttpBodyGuard() = default;

std::string HttpBodyGuard::OriginalContentEncoding(const httplib::Request& req) {
  return req.get_header_value(kOriginalEncodingHeader);
}

BodyPolicy HttpBodyGuard::PolicyFor(const httplib::Request& req) const {
  for (const Route& r : routes_) {
    if (r.method == req.method && std::regex_match(req.path, r.pattern)) return r.policy;
  }
  return BodyPolicy{};
}

void HttpBodyGuard::Refuse(const httplib::Request& req, httplib::Response& res, int status,
                           std::string_view reason, const std::string& message) {
  rejected_.With({label_, reason}).Add();
  logger_->Warn("http request refused",
                {{"chat.http.server", label_},
                 {"chat.http.refusal", std::string(reason)},
                 {"http.request.method", req.method},
                 {"url.path", req.path},
                 {"http.response.status_code", static_cast<int64_t>(status)},
                 {"client.address", req.remote_addr}});
  if (observer_) observer_(req, reason);
  AnswerAndClose(
      res, status,
      nlohmann::json{{"error", {{"code", CodeFor(status)}, {"message", message}}}}.dump(),
      "application/json");
}

void HttpBodyGuard::AnswerAndClose(httplib::Response& res, int status, std::string body,
                                   const std::string& content_type) {
  // Headers already in `res` (default headers) stay.
  res.body.clear();
  res.status = status;
  res.set_header("Connection", "close");
  // The unread rest of the body must not reach the keep-alive loop, which would parse it as the
  // next request. cpp-httplib closes a connection when writing the answer fails, so the provider
  // writes the whole body and then reports failure: the client gets a complete answer and the
  // socket is closed.
  if (body.empty()) body = "{}";
  auto shared = std::make_shared<std::string>(std::move(body));
  res.set_content_provider(shared->size(), content_type,
                           [shared](size_t offset, size_t length, httplib::DataSink& sink) {
                             sink.write(shared->data() + offset, length);
                             return false;
                           });
}

bool HttpBodyGuard::Check(const httplib::Request& req, httplib::Response& res) {
  auto& headers = const_cast<httplib::Request&>(req).headers;  // see Install()
  headers.erase(kOriginalEncodingHeader);                      // only the guard sets it
  const BodyPolicy policy = PolicyFor(req);

  // Framing first: a length we cannot trust makes every later check meaningless.
  const size_t te_count = req.get_header_value_count("Transfer-Encoding");
  const size_t cl_count = req.get_header_value_count("Content-Length");
  bool chunked = false;
  if (te_count > 0) {
    if (te_count != 1 || Lower(req.get_header_value("Transfer-Encoding")) != "chunked") {
      Refuse(req, res, 501, kRefusedTransferEncoding, "Transfer-Encoding must be chunked.");
      return true;
    }
    if (cl_count > 0) {
      Refuse(req, res, 400, kRefusedMalformed,
             "Content-Length and Transfer-Encoding must not both be present.");
      return true;
    }
    chunked = true;
  }
  uint64_t length = 0;
  if (cl_count > 0) {
    const std::string text = req.get_header_value("Content-Length");
    auto [ptr, ec] = std::from_chars(text.data(), text.data() + text.size(), length);
    if (cl_count != 1 || text.empty() || ec != std::errc() || ptr != text.data() + text.size()) {
      Refuse(req, res, 400, kRefusedMalformed, "Content-Length must be one decimal number.");
      return true;
    }
  }

  // Content-Encoding: refused unless the route inflates it itself (with a bound).
  const size_t ce_count = req.get_header_value_count("Content-Encoding");
  if (ce_count > 0) {
    const std::string encoding = Lower(req.get_header_value("Content-Encoding"));
    const bool identity = ce_count == 1 && (encoding == "identity" || encoding.empty());
    const bool gzip_ok = ce_count == 1 && encoding == "gzip" && policy.accept_gzip;
    if (!identity && !gzip_ok) {
      Refuse(req, res, 415, kRefusedEncoding,
             policy.accept_gzip ? "Content-Encoding must be gzip or identity."
                                : "Content-Encoding is not accepted here.");
      return true;
    }
    // Hidden from cpp-httplib so it does not inflate without a bound; the handler inflates.
    auto it = headers.find("Content-Encoding");
    std::string value = it->second;
    headers.erase(it);
    if (gzip_ok) headers.emplace(kOriginalEncodingHeader, std::move(value));
  }

  const bool has_body = chunked || length > 0;
  if (has_body && policy.max_bytes == 0) {
    Refuse(req, res, 413, kRefusedTooLarge, "This route takes no request body.");
    return true;
  }
  if (length > policy.max_bytes) {
    Refuse(req, res, 413, kRefusedTooLarge,
           "The request body exceeds " + std::to_string(policy.max_bytes) + " bytes.");
    return true;
  }
  if (policy.max_bytes == 0 && ReadsBody(req.method) && cl_count == 0 && req.method != "DELETE") {
    // cpp-httplib would read until the peer closes, into memory.
    Refuse(req, res, 411, kRefusedLengthRequired, "Content-Length is required.");
    return true;
  }
  if (has_body && req.is_multipart_form_data()) {
    // No route takes multipart; cpp-httplib's content reader would need multipart callbacks.
    Refuse(req, res, 415, kRefusedMediaType, "multipart/form-data is not accepted.");
    return true;
  }
  return false;
}

void HttpBodyGuard::Install(httplib::Server& server, PreRouting next) {
  // The pre-routing handler runs after the headers are parsed and before cpp-httplib reads any
  // body byte. It receives a const Request, but the object is a mutable local of the connection
  // loop (Server::process_request), so editing its headers through const_cast is defined.
  server.set_pre_routing_handler(
      [this, next = std::move(next)](const httplib::Request& req, httplib::Response& res) {
        if (Check(req, res)) return httplib::Server::HandlerResponse::Handled;
        if (next && next(req, res)) return httplib::Server::HandlerResponse::Handled;
        return httplib::Server::HandlerResponse::Unhandled;
      });
}

void HttpBodyGuard::Post(httplib::Server& server, const std::string& pattern, BodyPolicy policy,
                         Handler handler) {
  routes_.push_back(Route{"POST", std::regex(pattern), policy});
  server.Post(pattern, [this, policy, handler = std::move(handler)](
                           const httplib::Request& req, httplib::Response& res,
                           const httplib::ContentReader& reader) {
    std::string body;
    bool too_large = false;
    size_t discarded = 0;
    bool complete = reader([&](const char* data, size_t n) {
      if (too_large || n > policy.max_bytes - body.size()) {
        // Over the limit: nothing more is kept. The rest is read and dropped up to a bound, so
        // a client that sends a moderately oversized body reaches its end and reads the 413;
        // closing with its bytes unread makes the kernel answer with RST, which may destroy
        // the response before the client reads it (the client then sees only a write error).
        too_large = true;
        discarded += n;
        return discarded <= kMaxDiscardedBytes;
      }
      body.append(data, n);
      return true;
    });
    if (too_large) {
      Refuse(req, res, 413, kRefusedTooLarge,
             "The request body exceeds " + std::to_string(policy.max_bytes) + " bytes.");
      return;
    }
    if (!complete) {
      Refuse(req, res, 400, kRefusedMalformed, "The request body could not be read.");
      return;
    }
    // Same object as in Check(): a mutable local of the connection loop.
    auto& mutable_req = const_cast<httplib::Request&>(req);
    mutable_req.body = std::move(body);
    if (req.get_header_value("Content-Type").find("application/x-www-form-urlencoded") == 0) {
      httplib::detail::parse_query_text(mutable_req.body, mutable_req.params);
    }
    handler(req, res);
  });
}

}  // namespace chat::telemetry::sdk
