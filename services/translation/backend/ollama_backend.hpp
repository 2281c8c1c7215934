// The Ollama-compatible backend: POST {url}/api/generate {"model","prompt","stream":true} and
// read the NDJSON lines {"response":"…","done":false} as they arrive, handing each response
// piece on at once. One CLIENT span `POST /api/generate` (attribute set H, peer.service=ollama)
// per call, child of the caller's span, whose traceparent goes out on the request. The body
// is bounded (max_output_bytes of text, 4× that of NDJSON), the call has the translation's
// timeout, and a line that is not JSON, an {"error":…} line, an HTTP status ≥ 400 or a stream
// that ends without done:true fails the translation. The pairs are every ordered pair of the
// configured languages; the probe asks GET /api/tags whether the model is there.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "backend/backend.hpp"
#include "chat/core/result.hpp"

namespace chat::translation_service {

class OllamaBackend final : public TranslationBackend {
 public:
  OllamaBackend(std::string url, std::string model, const std::vector<std::string>& languages,
                const telemetry::Telemetry& telemetry);

  std::string_view name() const override { return "ollama"; }
  const std::vector<LanguagePair>& Pairs() const override { return pairs_; }
  core::Status Probe(const telemetry::SpanContext& parent) override;
  core::Status Translate(const LanguagePair& pair, std::string_view text,
                         const TranslateLimits& limits, const telemetry::SpanContext& parent,
                         const TextSink& sink) override;

  // The prompt of system.md §6.8: a professional translator into the target language (name
  // and code), meaning and tone preserved, only the translation, then the source text.
  static std::string Prompt(const LanguagePair& pair, std::string_view text);

 private:
  std::string url_;
  std::string model_;
  const telemetry::Telemetry& telemetry_;
  std::vector<LanguagePair> pairs_;
};

}  // namespace chat::translation_service
