#include "forwarder.hpp"

#include <curl/curl.h>

#include <utility>

namespace chat::sink {
namespace {

size_t DiscardBody(char* /*ptr*/, size_t size, size_t nmemb, void* /*userdata*/) {
  return size * nmemb;
}

}  // namespace

Forwarder::Forwarder(std::string endpoint, size_t queue_size, telemetry::MetricRegistry& registry)
    : endpoint_(std::move(endpoint)), queue_size_(queue_size) {
  results_ = registry.AddCounter("sink_forward_requests_total",
                                 "Requests forwarded upstream, by result.", {"result"});
  dropped_ = registry.AddCounter("sink_forward_dropped_total", "Requests not forwarded, by reason.",
                                 {"reason"});
  for (const char* r : {"ok", "http_4xx", "http_5xx", "timeout", "connection_error"}) {
    results_.With({r}).Add(0);
  }
  for (const char* r : {"queue_full", "shutdown"}) dropped_.With({r}).Add(0);
  worker_ = std::thread([this] { Run(); });
}

Forwarder::~Forwarder() { Shutdown(std::chrono::milliseconds(0)); }

bool Forwarder::Enqueue(ForwardRequest request) {
  {
    std::lock_guard lock(mu_);
    if (!stopping_ && queue_.size() < queue_size_) {
      queue_.push_back(std::move(request));
      cv_.notify_one();
      return true;
    }
  }
  dropped_.With({"queue_full"}).Add(1);
  return false;
}

size_t Forwarder::queued() const {
  std::lock_guard lock(mu_);
  return queue_.size();
}

void Forwarder::Shutdown(std::chrono::milliseconds timeout) {
  {
    std::unique_lock lock(mu_);
    if (!worker_.joinable()) return;
    stopping_ = true;
    cv_.notify_all();
    idle_cv_.wait_for(lock, timeout, [&] { return queue_.empty() && !busy_; });
    abort_ = true;
    if (!queue_.empty()) dropped_.With({"shutdown"}).Add(static_cast<double>(queue_.size()));
    queue_.clear();
    cv_.notify_all();
  }
  worker_.join();
}

void Forwarder::Run() {
  CURL* curl = curl_easy_init();
  while (true) {
    ForwardRequest request;
    {
      std::unique_lock lock(mu_);
      busy_ = false;
      idle_cv_.notify_all();
      cv_.wait(lock, [&] { return abort_ || !queue_.empty() || stopping_; });
      if (abort_ || (stopping_ && queue_.empty())) break;
      request = std::move(queue_.front());
      queue_.pop_front();
      busy_ = true;
    }
    std::string result = curl != nullptr ? Send(curl, request) : "connection_error";
    results_.With({result}).Add(1);
  }
  if (curl != nullptr) curl_easy_cleanup(curl);
  std::lock_guard lock(mu_);
  busy_ = false;
  idle_cv_.notify_all();
}

std::string Forwarder::Send(void* handle, const ForwardRequest& request) {
  auto* curl = static_cast<CURL*>(handle);
  curl_easy_reset(curl);
  std::string url = endpoint_ + request.path;
  curl_slist* headers = nullptr;
  headers = curl_slist_append(headers, ("Content-Type: " + request.content_type).c_str());
  if (!request.content_encoding.empty()) {
    headers = curl_slist_append(headers, ("Content-Encoding: " + request.content_encoding).c_str());
  }
  headers = curl_slist_append(headers, "Expect:");  // no 100-continue round trip
  curl_easy_setopt(curl, CURLOPT_URL, url.c_str());
  curl_easy_setopt(curl, CURLOPT_POST, 1L);
  curl_easy_setopt(curl, CURLOPT_POSTFIELDS, request.body.data());
  curl_easy_setopt(curl, CURLOPT_POSTFIELDSIZE_LARGE, static_cast<curl_off_t>(request.body.size()));
  curl_easy_setopt(curl, CURLOPT_HTTPHEADER, headers);
  curl_easy_setopt(curl, CURLOPT_TIMEOUT_MS, 10000L);
  curl_easy_setopt(curl, CURLOPT_CONNECTTIMEOUT_MS, 3000L);
  curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, DiscardBody);
  CURLcode rc = curl_easy_perform(curl);
  long status = 0;
  curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &status);
  curl_slist_free_all(headers);
  if (rc == CURLE_OPERATION_TIMEDOUT) return "timeout";
  if (rc != CURLE_OK) return "connection_error";
  if (status >= 500) return "http_5xx";
  if (status >= 400) return "http_4xx";
  return "ok";
}

}  // namespace chat::sink
