// The translation backends behind one interface (README "Backends"): Apertium processes
// (apertium_backend.hpp, the default) or an Ollama-compatible streaming HTTP API
// (ollama_backend.hpp), chosen by CHAT_TRANSLATE_BACKEND.
#pragma once

#include <chrono>
#include <cstddef>
#include <functional>
#include <string>
#include <string_view>
#include <tuple>
#include <vector>

#include "chat/core/status.hpp"
#include "chat/telemetry/telemetry.hpp"

namespace chat::translation_service {

// One direction, as wire language tags ("en" → "es"); Name() is the span's {pair}: "en-es".
struct LanguagePair {
  std::string source;
  std::string target;

  std::string Name() const { return source + "-" + target; }
  friend bool operator==(const LanguagePair&, const LanguagePair&) = default;
  friend bool operator<(const LanguagePair& a, const LanguagePair& b) {
    return std::tie(a.source, a.target) < std::tie(b.source, b.target);
  }
};

struct TranslateLimits {
  std::chrono::milliseconds timeout{30000};
  std::size_t max_output_bytes = 32768;
};

// Receives translated text as the backend produces it (on the translating thread); returns
// false to stop the translation (the backend then fails with unavailable).
using TextSink = std::function<bool(std::string_view)>;

class TranslationBackend {
 public:
  virtual ~TranslationBackend() = default;

  // "apertium" or "ollama" (log field translate.backend).
  virtual std::string_view name() const = 0;
  // The pairs this backend can really translate, sorted; fixed after construction.
  virtual const std::vector<LanguagePair>& Pairs() const = 0;
  // One real round trip (a short Apertium run, the model listed by the server): OK when the
  // backend can translate now.
  virtual core::Status Probe(const telemetry::SpanContext& parent) = 0;
  // Translates `text` along `pair` (one of Pairs()), handing output to `sink` as it arrives.
  // Errors: deadline_exceeded (limits.timeout), resource_exhausted (more than
  // limits.max_output_bytes), unavailable (the process or server failed, or the sink said
  // stop). Thread-safe: the service bounds how many run at once.
  virtual core::Status Translate(const LanguagePair& pair, std::string_view text,
                                 const TranslateLimits& limits,
                                 const telemetry::SpanContext& parent, const TextSink& sink) = 0;
};

}  // namespace chat::translation_service
