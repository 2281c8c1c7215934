// HttpBodyGuard: the one place every cpp-httplib server of the repo bounds request bodies (the
// admin server of each service, the exporters' scrape server, auth-service, dev-idp, the
// telemetry sink).
//
// What cpp-httplib 0.11 does on its own, and why that is not enough:
// * For POST/PUT/PATCH/DELETE it reads the body into req.body *before* routing, inflating
//   `Content-Encoding: gzip|deflate|br` (CPPHTTPLIB_ZLIB_SUPPORT/BROTLI_SUPPORT are on in
//   Debian's build) with no bound on the inflated size — set_payload_max_length only compares
//   the declared Content-Length — so a 63 KiB gzip body POSTed to /metrics (a route that takes
//   no body at all) cost 64 MiB before the 404.
// * A chunked body, or one with neither Content-Length nor Transfer-Encoding, is read to its end
//   whatever its size.
// * A refusal answered without reading the body leaves the rest of it on the connection, where
//   the keep-alive loop parses it as the next request line (buffered without a bound).
//
// So the guard (1) checks every request in a pre-routing handler, before any body byte is read:
// a Content-Encoding the route does not take → 415; a declared length above the route's limit,
// or any body on a route that takes none → 413; a Transfer-Encoding other than chunked → 501;
// Content-Length with Transfer-Encoding, or a malformed length → 400; a POST/PUT/PATCH to a
// body-less route with no length → 411. (2) Routes that take a body are registered through
// Post(): the body streams through a content reader that stops at the limit (413), so chunked
// and unsized bodies are bounded too. (3) Every refusal is counted in
// http_server_rejected_requests_total{server,reason}, logged once at WARN (method, path, reason;
// never the body), answered with {"error":{"code","message"}} and closes the connection.
//
// Only a route that asks for it (BodyPolicy::accept_gzip: the sink's OTLP receiver) takes
// `Content-Encoding: gzip`; the guard then hides the header from cpp-httplib so it does not
// inflate, and the handler inflates with a bound (sdk::Gunzip) after reading
// OriginalContentEncoding(req).
#pragma once

#include <cstddef>
#include <functional>
#include <memory>
#include <regex>
#include <string>
#include <string_view>
#include <vector>

#include "chat/telemetry/log.hpp"
#include "chat/telemetry/metrics.hpp"

namespace httplib {
class Server;
struct Request;
struct Response;
}  // namespace httplib

namespace chat::telemetry::sdk {

struct BodyPolicy {
  size_t max_bytes = 0;      // the raw (still encoded) body; 0: the route takes no body
  bool accept_gzip = false;  // Content-Encoding: gzip passes (raw bytes, see above)
};

// Reasons, the values of the `reason` label (all start at 0).
inline constexpr std::string_view kRefusedTooLarge = "too_large";
inline constexpr std::string_view kRefusedEncoding = "unsupported_encoding";
inline constexpr std::string_view kRefusedTransferEncoding = "unsupported_transfer_encoding";
inline constexpr std::string_view kRefusedLengthRequired = "length_required";
inline constexpr std::string_view kRefusedMediaType = "unsupported_media_type";
inline constexpr std::string_view kRefusedMalformed = "malformed";

class HttpBodyGuard {
 public:
  using Handler = std::function<void(const httplib::Request&, httplib::Response&)>;

  // `server_label` names the listener in the metric and the log ("admin", "auth", ...).
  // `logger` may be null: refusals are then written as JSON lines to stderr with
  // service=`server_label`. Both must outlive the guard.
  HttpBodyGuard(std::string server_label, MetricRegistry& registry, Logger* logger = nullptr);
  ~HttpBodyGuard();
  HttpBodyGuard(const HttpBodyGuard&) = delete;
  HttpBodyGuard& operator=(const HttpBodyGuard&) = delete;

  // Sets `server`'s pre-routing handler (the guard must outlive the server's use of it). A
  // server with its own pre-routing needs passes it here: it runs after the guard's checks.
  using PreRouting = std::function<bool(const httplib::Request&, httplib::Response&)>;
  void Install(httplib::Server& server, PreRouting next = {});

  // A POST route whose body is read through the guard: the handler sees req.body (and, for
  // application/x-www-form-urlencoded, req.params) exactly as cpp-httplib would have filled
  // them, or never runs when the body is refused.
  void Post(httplib::Server& server, const std::string& pattern, BodyPolicy policy,
            Handler handler);

  // The Content-Encoding the client sent on an accept_gzip route ("" when none).
  static std::string OriginalContentEncoding(const httplib::Request& req);

  // Answers `status` with {"error":{"code","message"}}, counts and logs `reason`, and closes the
  // connection after the answer. Public for handlers that refuse after reading (e.g. inflating).
  void Refuse(const httplib::Request& req, httplib::Response& res, int status,
              std::string_view reason, const std::string& message);

  // Called on every refusal after it is counted (the sink also counts per OTLP signal).
  using Observer = std::function<void(const httplib::Request&, std::string_view reason)>;
  void set_observer(Observer observer) { observer_ = std::move(observer); }

  // Sets `body` as the answer and makes cpp-httplib close the connection once it is written:
  // for answers given before the request body was read, whose unread rest must not be parsed as
  // the next request.
  static void AnswerAndClose(httplib::Response& res, int status, std::string body,
                             const std::string& content_type);

 private:
  struct Route {
    std::string method;
    std::regex pattern;
    BodyPolicy policy;
  };
  BodyPolicy PolicyFor(const httplib::Request& req) const;
  bool Check(const httplib::Request& req, httplib::Response& res);

  std::string label_;
  Counter rejected_;
  Logger* logger_;
  std::unique_ptr<Logger> own_logger_;
  std::vector<Route> routes_;  // written before the server starts, read-only afterwards
  Observer observer_;
};

}  // namespace chat::telemetry::sdk
