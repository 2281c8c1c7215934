#include "config.hpp"

#include <string_view>

#include "chat/contracts/ids.hpp"
#include "chat/contracts/translate.hpp"

namespace chat::translation_service {

namespace {

std::vector<std::string> SplitList(std::string_view s) {
  std::vector<std::string> out;
  while (!s.empty()) {
    size_t comma = s.find(',');
    std::string_view item = s.substr(0, comma);
    while (!item.empty() && item.front() == ' ') item.remove_prefix(1);
    while (!item.empty() && item.back() == ' ') item.remove_suffix(1);
    if (!item.empty()) out.emplace_back(item);
    if (comma == std::string_view::npos) break;
    s.remove_prefix(comma + 1);
  }
  return out;
}

}  // namespace

core::Result<TranslationConfig> TranslationConfig::FromEnv(const core::Env& env) {
  core::EnvReader reader(env);
  TranslationConfig c;
  c.backend = reader.Enum("CHAT_TRANSLATE_BACKEND", "apertium", {"apertium", "ollama"}) == "ollama"
                  ? BackendKind::kOllama
                  : BackendKind::kApertium;
  c.max_concurrent = static_cast<int>(reader.Int("CHAT_TRANSLATE_MAX_CONCURRENT", 2, 1, 64));
  c.queue = static_cast<int>(reader.Int("CHAT_TRANSLATE_QUEUE", 8, 0, 256));
  c.queue_wait =
      std::chrono::milliseconds(reader.Int("CHAT_TRANSLATE_QUEUE_WAIT_MS", 5000, 0, 60000));
  c.timeout =
      std::chrono::milliseconds(reader.Int("CHAT_TRANSLATE_TIMEOUT_MS", 30000, 100, 300000));
  c.max_text_bytes = static_cast<std::size_t>(reader.Int(
      "CHAT_TRANSLATE_MAX_TEXT_BYTES", 4000, 1, static_cast<int64_t>(contracts::kMaxTextBytes)));
  c.max_output_bytes =
      static_cast<std::size_t>(reader.Int("CHAT_TRANSLATE_MAX_OUTPUT_BYTES", 32768, 256, 1 << 20));
  c.chunk_interval =
      std::chrono::milliseconds(reader.Int("CHAT_TRANSLATE_CHUNK_INTERVAL_MS", 100, 0, 10000));
  c.probe_interval = std::chrono::milliseconds(
      reader.Int("CHAT_TRANSLATE_PROBE_INTERVAL_MS", 30000, 1000, 3600000));
  c.default_source = reader.String("CHAT_TRANSLATE_DEFAULT_SOURCE", "en");
  if (!contracts::IsValidLanguageTag(c.default_source)) {
    reader.AddProblem("CHAT_TRANSLATE_DEFAULT_SOURCE must be a language tag such as en");
  }
  c.apertium_bin = reader.String("CHAT_TRANSLATE_APERTIUM_BIN", "apertium");
  if (c.apertium_bin.empty()) reader.AddProblem("CHAT_TRANSLATE_APERTIUM_BIN must not be empty");
  c.apertium_data_dir = reader.String("CHAT_TRANSLATE_APERTIUM_DATA_DIR", "/usr/share/apertium");
  if (c.apertium_data_dir.empty() || c.apertium_data_dir.front() != '/') {
    reader.AddProblem("CHAT_TRANSLATE_APERTIUM_DATA_DIR must be an absolute directory");
  }
  // system.md §6.8 names the reference's variable OLLAMA_URL: still honoured when the service's
  // own name is unset.
  const std::string reference_url = reader.Url("OLLAMA_URL", "http://localhost:11434");
  c.ollama_url = reader.Url("CHAT_TRANSLATE_OLLAMA_URL", reference_url);
  while (c.ollama_url.size() > 1 && c.ollama_url.back() == '/') c.ollama_url.pop_back();
  c.ollama_model = reader.String("CHAT_TRANSLATE_OLLAMA_MODEL", "translategemma");
  if (c.ollama_model.empty() || c.ollama_model.size() > 128 ||
      c.ollama_model.find_first_of("\"\\ \n\r\t") != std::string::npos) {
    reader.AddProblem("CHAT_TRANSLATE_OLLAMA_MODEL must be a model name such as translategemma");
  }
  c.ollama_languages =
      SplitList(reader.String("CHAT_TRANSLATE_OLLAMA_LANGUAGES", "en,ja,hi,pl,de,zh-TW"));
  for (const auto& tag : c.ollama_languages) {
    if (!contracts::IsValidLanguageTag(tag)) {
      reader.AddProblem("CHAT_TRANSLATE_OLLAMA_LANGUAGES must list language tags such as en,es");
      break;
    }
  }
  // n languages make n·(n−1) pairs, each a span name `translate {pair}` and a label value:
  // six keep the service under observability §11's 40 span names.
  if (c.backend == BackendKind::kOllama &&
      (c.ollama_languages.size() < 2 || c.ollama_languages.size() > 6)) {
    reader.AddProblem("CHAT_TRANSLATE_OLLAMA_LANGUAGES needs two to six languages");
  }
  CHAT_RETURN_IF_ERROR(reader.Finish());
  return c;
}

}  // namespace chat::translation_service
