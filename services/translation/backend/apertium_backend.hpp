// The Apertium backend: every translation is one `apertium -u -d <data dir> <mode>` process,
// started with posix_spawnp from an argv (never a shell string) in its own process group, fed
// the text on stdin and read on stdout as it comes out; on timeout or an oversized output the
// whole group is killed and reaped. How many run at once is bounded by the service's slots
// (CHAT_TRANSLATE_MAX_CONCURRENT), so this is a bounded pool of processes. The pairs are the
// installed modes (<data dir>/modes/<src>-<dst>.mode, Debian's apertium-eng-spa and
// apertium-eng-cat), with their ISO 639-3 codes mapped to wire tags (eng → en).
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "backend/backend.hpp"
#include "chat/core/result.hpp"

namespace chat::translation_service {

class ApertiumBackend final : public TranslationBackend {
 public:
  // Discovers the pairs (none installed is not an error: the service then reports itself
  // unavailable and lists no languages).
  static core::Result<std::unique_ptr<ApertiumBackend>> Create(std::string bin,
                                                               std::string data_dir);

  std::string_view name() const override { return "apertium"; }
  const std::vector<LanguagePair>& Pairs() const override { return pairs_; }
  core::Status Probe(const telemetry::SpanContext& parent) override;
  core::Status Translate(const LanguagePair& pair, std::string_view text,
                         const TranslateLimits& limits, const telemetry::SpanContext& parent,
                         const TextSink& sink) override;

  struct Mode {
    LanguagePair pair;
    std::string mode;  // "eng-spa"
  };
  // The plain pairs among the mode files of `modes_dir` ("eng-spa.mode"; dialect variants such
  // as eng-cat_valencia are not offered), sorted by wire pair.
  static std::vector<Mode> DiscoverModes(const std::string& modes_dir);
  // ISO 639-3 → wire tag ("eng" → "en"); unknown codes stay as they are.
  static std::string WireTag(std::string_view iso639_3);

 private:
  ApertiumBackend(std::string bin, std::string data_dir, std::vector<Mode> modes);

  std::string bin_;
  std::string data_dir_;
  std::vector<Mode> modes_;
  std::vector<LanguagePair> pairs_;
};

}  // namespace chat::translation_service
