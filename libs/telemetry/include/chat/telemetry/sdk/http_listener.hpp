// HttpListener: runs a bound httplib::Server's accept loop on its own thread, with a Start and a
// Stop free of cpp-httplib 0.11's races. Its stop() does nothing until the loop has started, and
// a stop() that lands between the loop reading the socket and entering accept() leaves accept()
// blocked for ever (closing a socket does not wake a thread blocked on it). So Start returns only
// once the loop runs, and Stop repeats stop() and wakes accept() with a loopback connection until
// the loop has returned. Used by the admin server, the scrape server of the exporters, the
// telemetry sink and the dev identity provider.
#pragma once

#include <atomic>
#include <chrono>
#include <string>
#include <thread>

#include "chat/core/result.hpp"
#include "chat/core/status.hpp"
#include "chat/telemetry/log.hpp"
#include "chat/telemetry/metrics.hpp"
#include "chat/telemetry/trace_context.hpp"

namespace httplib {
class Server;
struct Request;
}  // namespace httplib

namespace chat::telemetry::sdk {

// Binds `server` to `host`:`port` (0: any free port) with SO_REUSEADDR only. cpp-httplib's
// default also sets SO_REUSEPORT, which lets a second process bind the same port and silently
// share the requests; without it a clash is an error. Returns the bound port, or kUnavailable
// naming `who`.
core::Result<int> BindExclusive(httplib::Server& server, const std::string& host, int port,
                                std::string_view who);

class HttpListener {
 public:
  HttpListener() = default;
  ~HttpListener() { Stop(); }
  HttpListener(const HttpListener&) = delete;
  HttpListener& operator=(const HttpListener&) = delete;

  // `server` must already be bound to `host`:`port` and outlive this listener. Internal error when
  // the loop did not start within `timeout` (the thread is then stopped and joined).
  core::Status Start(httplib::Server& server, std::string host, int port,
                     std::chrono::milliseconds timeout = std::chrono::seconds(10));
  // Stops accepting, lets in-flight requests finish and joins the thread. Idempotent.
  void Stop();
  bool running() const { return thread_.joinable() && !returned_.load(); }

 private:
  httplib::Server* server_ = nullptr;
  std::string host_;
  int port_ = 0;
  std::thread thread_;
  std::atomic<bool> returned_{false};
};

// The W3C context of an inbound HTTP request, for the SERVER span's parent: the one place HTTP
// servers read trace headers (style rule 6). An invalid traceparent is counted in
// `invalid_counter` (trace_context_invalid_total{reason}) and logged at DEBUG; the caller then
// starts a new root, never rejecting the request for it. No header → an invalid context.
SpanContext ExtractHttpContext(const httplib::Request& req, const Counter& invalid_counter,
                               Logger& logger);

}  // namespace chat::telemetry::sdk
