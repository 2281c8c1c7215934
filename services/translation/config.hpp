// translation-service configuration (README.md "Configuration"), read once at start-up with
// core::EnvReader; invalid settings exit 2 before anything connects.
#pragma once

#include <chrono>
#include <cstddef>
#include <string>
#include <vector>

#include "chat/core/env.hpp"
#include "chat/core/result.hpp"

namespace chat::translation_service {

enum class BackendKind { kApertium, kOllama };

struct TranslationConfig {
  BackendKind backend = BackendKind::kApertium;  // CHAT_TRANSLATE_BACKEND = apertium | ollama

  // ---- limits (both backends) ----
  // CHAT_TRANSLATE_MAX_CONCURRENT: translations running at once (Apertium processes, Ollama
  // streams); CHAT_TRANSLATE_QUEUE: requests that may wait for a slot on top of those (each
  // waits at most CHAT_TRANSLATE_QUEUE_WAIT_MS, then is refused as busy).
  int max_concurrent = 2;
  int queue = 8;
  std::chrono::milliseconds queue_wait{5000};
  // CHAT_TRANSLATE_TIMEOUT_MS: one translation, start to last byte (the process is killed, the
  // HTTP transfer aborted).
  std::chrono::milliseconds timeout{30000};
  // CHAT_TRANSLATE_MAX_TEXT_BYTES: longest source text (≤ the contract's 4000).
  std::size_t max_text_bytes = 4000;
  // CHAT_TRANSLATE_MAX_OUTPUT_BYTES: longest translation read back from a backend.
  std::size_t max_output_bytes = 32768;
  // CHAT_TRANSLATE_CHUNK_INTERVAL_MS: a chunk is published when this long has passed since the
  // previous one and text is waiting (system.md §6.8: 100 ms), and at the end (done:true).
  std::chrono::milliseconds chunk_interval{100};
  // CHAT_TRANSLATE_PROBE_INTERVAL_MS: the backend health probe (system.md §6.8: 30 s).
  std::chrono::milliseconds probe_interval{30000};
  // CHAT_TRANSLATE_DEFAULT_SOURCE: the source language of a request without sourceLang.
  std::string default_source = "en";

  // ---- Apertium ----
  std::string apertium_bin = "apertium";  // CHAT_TRANSLATE_APERTIUM_BIN
  std::string apertium_data_dir =
      "/usr/share/apertium";  // CHAT_TRANSLATE_APERTIUM_DATA_DIR (modes/ inside)

  // ---- Ollama-compatible HTTP backend ----
  std::string ollama_url = "http://localhost:11434";  // CHAT_TRANSLATE_OLLAMA_URL, else OLLAMA_URL
  std::string ollama_model = "translategemma";        // CHAT_TRANSLATE_OLLAMA_MODEL
  // CHAT_TRANSLATE_OLLAMA_LANGUAGES: the tags the model is offered for; every ordered pair of
  // two different ones is a pair.
  std::vector<std::string> ollama_languages{"en", "ja", "hi", "pl", "de", "zh-TW"};

  static core::Result<TranslationConfig> FromEnv(const core::Env& env);
};

}  // namespace chat::translation_service
