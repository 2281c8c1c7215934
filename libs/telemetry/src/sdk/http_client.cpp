// Traced libcurl HTTP calls: see http_client.hpp.
#include "chat/telemetry/sdk/http_client.hpp"

#include <curl/curl.h>

#include <functional>
#include <mutex>
#include <string_view>

#include "chat/telemetry/semconv.hpp"

namespace chat::telemetry::sdk {
namespace {

// Where the body goes: collected (discovery, JWKS, token and credential responses are a few
// KB) or handed to the caller's streaming callback; bounded either way.
struct BodySink {
  CURL* curl = nullptr;
  std::string* out = nullptr;
  const std::function<bool(std::string_view)>* on_data = nullptr;
  std::size_t max_bytes = 0;
  std::size_t received = 0;
};

size_t WriteBody(char* data, size_t size, size_t count, void* user) noexcept {
  auto* sink = static_cast<BodySink*>(user);
  const size_t n = size * count;
  if (sink->received + n > sink->max_bytes) return 0;  // aborts the transfer
  sink->received += n;
  // libcurl's C frames must not be unwound: whatever the callback or the append throws aborts
  // the transfer instead (the caller sees a write error).
  try {
    if (sink->on_data != nullptr && *sink->on_data) {
      // An error status's body is the server's complaint, not the stream: it is collected.
      long status = 0;
      curl_easy_getinfo(sink->curl, CURLINFO_RESPONSE_CODE, &status);
      if (status < 400) return (*sink->on_data)(std::string_view(data, n)) ? n : 0;
    }
    sink->out->append(data, n);
    return n;
  } catch (...) {
    return 0;
  }
}

std::string ErrorTypeForCurl(CURLcode code) {
  switch (code) {
    case CURLE_OPERATION_TIMEDOUT: return "timeout";
    case CURLE_COULDNT_CONNECT:
    case CURLE_COULDNT_RESOLVE_HOST:
    case CURLE_RECV_ERROR:
    case CURLE_SEND_ERROR:
    case CURLE_GOT_NOTHING: return "connection_error";
    default: return "transport_error";
  }
}

std::string TemplatePath(std::string_view path) {
  // Keycloak-style issuers put the realm in the path; its name is a value, not part of the
  // template (span names must not carry values).
  constexpr std::string_view kRealms = "/realms/";
  size_t at = path.find(kRealms);
  if (at == std::string_view::npos) return std::string(path);
  size_t start = at + kRealms.size();
  size_t end = path.find('/', start);
  std::string out(path.substr(0, start));
  out += "{realm}";
  if (end != std::string_view::npos) out += path.substr(end);
  return out;
}

}  // namespace

void CurlGlobalInitOnce() {
  static std::once_flag once;
  std::call_once(once, [] { curl_global_init(CURL_GLOBAL_DEFAULT); });
}

std::optional<UrlParts> ParseUrl(std::string_view url) {
  UrlParts p;
  size_t scheme_end = url.find("://");
  if (scheme_end == std::string_view::npos) return std::nullopt;
  p.scheme = std::string(url.substr(0, scheme_end));
  size_t auth_start = scheme_end + 3;
  size_t auth_end = url.find_first_of("/?#", auth_start);
  if (auth_end == std::string_view::npos) auth_end = url.size();
  std::string_view authority = url.substr(auth_start, auth_end - auth_start);
  if (size_t at = authority.rfind('@'); at != std::string_view::npos) {
    authority = authority.substr(at + 1);  // credentials never reach an attribute
  }
  if (authority.empty()) return std::nullopt;
  size_t colon = authority.rfind(':');
  bool bracketed = authority.front() == '[';
  size_t close = authority.find(']');
  if (colon != std::string_view::npos &&
      (!bracketed || (close != std::string_view::npos && colon > close))) {
    p.host = std::string(authority.substr(0, colon));
    std::string port(authority.substr(colon + 1));
    if (port.empty() || port.size() > 5 ||
        port.find_first_not_of("0123456789") != std::string::npos) {
      return std::nullopt;
    }
    p.port = std::stoi(port);
  } else {
    p.host = std::string(authority);
    p.port = p.scheme == "https" ? 443 : (p.scheme == "http" ? 80 : 0);
  }
  if (p.host.size() > 2 && p.host.front() == '[' && p.host.back() == ']') {
    p.host = p.host.substr(1, p.host.size() - 2);
  }
  size_t path_end = url.find_first_of("?#", auth_end);
  if (path_end == std::string_view::npos) path_end = url.size();
  p.path = std::string(url.substr(auth_end, path_end - auth_end));
  if (p.path.empty()) p.path = "/";
  p.full = p.scheme + "://" + std::string(authority) + p.path;
  p.tmpl = TemplatePath(p.path);
  return p;
}

core::Result<HttpResponse> PerformHttp(const HttpRequest& request, const Telemetry& telemetry,
                                       const SpanContext& parent) {
  CurlGlobalInitOnce();
  auto parts = ParseUrl(request.url);
  if (!parts || (parts->scheme != "http" && parts->scheme != "https")) {
    return core::InvalidArgument("not an http(s) URL");
  }
  SpanStartOptions opts;
  opts.kind = SpanKind::kClient;
  opts.parent = parent;
  opts.attributes = {{semconv::kHttpRequestMethod, request.method},
                     {semconv::kUrlFull, parts->full},
                     {semconv::kUrlTemplate, parts->tmpl},
                     {semconv::kServerAddress, parts->host},
                     {semconv::kServerPort, parts->port}};
  if (!request.peer_service.empty()) {
    opts.attributes.push_back({semconv::kPeerService, request.peer_service});
  }
  Span span = telemetry.tracer.StartSpan(request.method + " " + parts->tmpl, std::move(opts));

  CURL* curl = curl_easy_init();
  if (curl == nullptr) {
    span.RecordError("transport_error", "curl_easy_init failed", "curl",
                     request.failure_description);
    return core::Unavailable("cannot create an HTTP client");
  }
  HttpResponse response;
  curl_slist* headers = curl_slist_append(nullptr, "Accept: application/json");
  for (const auto& h : request.headers) headers = curl_slist_append(headers, h.c_str());
  if (!request.content_type.empty()) {
    headers = curl_slist_append(headers, ("Content-Type: " + request.content_type).c_str());
  }
  if (request.send_traceparent && span.Context().IsValid()) {
    std::string tp =
        std::string(semconv::kTraceparentHeader) + ": " + FormatTraceparent(span.Context());
    headers = curl_slist_append(headers, tp.c_str());
  }
  curl_easy_setopt(curl, CURLOPT_URL, request.url.c_str());
  if (request.method == "POST") {
    curl_easy_setopt(curl, CURLOPT_POST, 1L);
    curl_easy_setopt(curl, CURLOPT_POSTFIELDS, request.body.c_str());
    curl_easy_setopt(curl, CURLOPT_POSTFIELDSIZE, static_cast<long>(request.body.size()));
  } else {
    curl_easy_setopt(curl, CURLOPT_HTTPGET, 1L);
  }
  curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(curl, CURLOPT_FOLLOWLOCATION, 0L);
  curl_easy_setopt(curl, CURLOPT_PROTOCOLS_STR, "http,https");
  curl_easy_setopt(curl, CURLOPT_TIMEOUT_MS, static_cast<long>(request.timeout.count()));
  curl_easy_setopt(curl, CURLOPT_CONNECTTIMEOUT_MS, static_cast<long>(request.timeout.count()));
  curl_easy_setopt(curl, CURLOPT_HTTPHEADER, headers);
  curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, &WriteBody);
  BodySink sink{curl, &response.body, &request.on_body_data, request.max_body_bytes, 0};
  curl_easy_setopt(curl, CURLOPT_WRITEDATA, &sink);
  CURLcode rc = curl_easy_perform(curl);
  if (rc == CURLE_OK) curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &response.status);
  curl_slist_free_all(headers);
  curl_easy_cleanup(curl);

  if (rc != CURLE_OK) {
    span.RecordError(ErrorTypeForCurl(rc), curl_easy_strerror(rc), "curl",
                     request.failure_description);
    return core::Unavailable(std::string(curl_easy_strerror(rc)));
  }
  span.SetAttribute(semconv::kHttpResponseStatusCode, static_cast<int64_t>(response.status));
  if (response.status >= 400) {
    span.RecordError(std::to_string(response.status),
                     request.status_message_prefix + "HTTP " + std::to_string(response.status),
                     "http", request.failure_description);
  }
  return response;
}

}  // namespace chat::telemetry::sdk
