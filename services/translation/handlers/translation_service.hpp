// translation-service (system.md §3.3.6, §6.8; README.md): translate.request.{user} → the
// translation streamed as chunks to deliver.{user}.translate.response (the last with
// done:true, or with an error when the request is refused or the translation fails), and
// translate.ping → {available, languages} with the pairs the configured backend really has.
// Translations run on a bounded number of slots (CHAT_TRANSLATE_MAX_CONCURRENT) with a bounded
// wait for one; the backend's health is probed at start-up and periodically and kept in
// translation_backend_available.
#pragma once

#include <chrono>
#include <condition_variable>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "backend/backend.hpp"
#include "chat/contracts/translate.hpp"
#include "chat/core/clock.hpp"
#include "chat/core/result.hpp"
#include "chat/runtime/bus.hpp"
#include "chat/runtime/dispatcher.hpp"
#include "chat/runtime/service_main.hpp"
#include "config.hpp"
#include "metrics.hpp"

namespace chat::translation_service {

// translate.ping takes no body; one is ignored up to this size and refused beyond it.
inline constexpr std::size_t kMaxIgnoredBodyBytes = 1024;

// The longest prefix of `text` that does not end inside a UTF-8 sequence (a chunk never splits
// a character that a backend wrote in two pieces).
std::size_t CompleteUtf8Prefix(std::string_view text);

class TranslationService final : public runtime::Service {
 public:
  // Builds the configured backend, probes it once (a failed probe only marks it unavailable),
  // then serves both routes. `bus` and `clock` must outlive it.
  static core::Result<std::unique_ptr<TranslationService>> Create(const TranslationConfig& config,
                                                                  runtime::Bus& bus,
                                                                  const core::Clock& clock);
  // The same over a given backend.
  static core::Result<std::unique_ptr<TranslationService>> Create(
      const TranslationConfig& config, std::unique_ptr<TranslationBackend> backend,
      runtime::Bus& bus, const core::Clock& clock);
  ~TranslationService() override;
  TranslationService(const TranslationService&) = delete;
  TranslationService& operator=(const TranslationService&) = delete;
  TranslationService(TranslationService&&) = delete;
  TranslationService& operator=(TranslationService&&) = delete;

  void Drain(std::chrono::milliseconds timeout) override;
  std::vector<runtime::RouteInfo> Routes() const { return dispatcher_->Routes(); }
  bool available() const;

 private:
  TranslationService(TranslationConfig config, std::unique_ptr<TranslationBackend> backend,
                     runtime::Bus& bus, const core::Clock& clock);
  core::Status Register();

  core::Status HandleRequest(const runtime::RawPayload& body, runtime::RequestContext& ctx);
  core::Result<contracts::TranslatePingReply> HandlePing(runtime::RequestContext& ctx);

  // Runs the translation on a slot and streams it; the final chunk is sent by the caller.
  core::Status Translate(const LanguagePair& pair, const contracts::TranslateRequest& req,
                         runtime::RequestContext& ctx);
  // Publishes one chunk to deliver.{user}.translate.response.
  core::Status PublishChunk(runtime::RequestContext& ctx, const contracts::TranslateChunk& chunk);

  bool AcquireSlot();
  void ReleaseSlot();
  void SetAvailable(bool available, std::string_view reason,
                    const telemetry::SpanContext& span_ctx);
  void RunProbe();
  void ProbeLoop();

  TranslationConfig config_;
  runtime::Bus& bus_;
  std::unique_ptr<TranslationBackend> backend_;
  std::unique_ptr<TranslationMetrics> metrics_;
  std::string languages_text_;  // "en-es, es-en" for the unsupported-pair message

  mutable std::mutex mu_;
  std::condition_variable slot_freed_;
  int running_ = 0;
  bool available_ = false;
  bool stopping_ = false;
  std::condition_variable stop_cv_;
  std::thread prober_;

  // Last member: destroyed first, so no handler runs while the rest is torn down.
  std::unique_ptr<runtime::Dispatcher> dispatcher_;
};

}  // namespace chat::translation_service
