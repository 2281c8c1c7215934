// Optional forward of every accepted OTLP request to an upstream collector
// (SINK_FORWARD_OTLP_ENDPOINT), so the local stack can feed a real Collector as well.
// Asynchronous: ingest never waits for the upstream. The queue is bounded; a full queue drops the
// request and counts it. One worker thread owns the libcurl handle. Shutdown drains with a
// deadline.
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <mutex>
#include <string>
#include <thread>

#include "chat/telemetry/metrics.hpp"

namespace chat::sink {

struct ForwardRequest {
  std::string path;  // "/v1/traces"
  std::string content_type;
  std::string content_encoding;  // as received ("" or "gzip"); the body is forwarded unchanged
  std::string body;
};

class Forwarder {
 public:
  // `endpoint` is the upstream base URL ("http://collector:4318"); `registry` gets
  // sink_forward_requests_total{result} and sink_forward_dropped_total{reason}.
  Forwarder(std::string endpoint, size_t queue_size, telemetry::MetricRegistry& registry);
  ~Forwarder();
  Forwarder(const Forwarder&) = delete;
  Forwarder& operator=(const Forwarder&) = delete;

  // Never blocks; false when the queue was full (the request is dropped and counted).
  bool Enqueue(ForwardRequest request);
  // Sends what is queued until `timeout`, then drops the rest (counted) and joins the worker.
  void Shutdown(std::chrono::milliseconds timeout);

  size_t queued() const;

 private:
  void Run();
  // Returns the result label: "ok", "http_4xx", "http_5xx", "timeout", "connection_error".
  std::string Send(void* handle, const ForwardRequest& request);

  const std::string endpoint_;
  const size_t queue_size_;
  telemetry::Counter results_;
  telemetry::Counter dropped_;

  mutable std::mutex mu_;
  std::condition_variable cv_;
  std::condition_variable idle_cv_;
  std::deque<ForwardRequest> queue_;
  bool stopping_ = false;
  bool abort_ = false;
  bool busy_ = false;
  std::thread worker_;
};

}  // namespace chat::sink
