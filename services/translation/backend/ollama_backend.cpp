#include "backend/ollama_backend.hpp"

#include <algorithm>
#include <array>
#include <nlohmann/json.hpp>
#include <utility>

#include "chat/runtime/http_client.hpp"

namespace chat::translation_service {
namespace {

using Json = nlohmann::json;

constexpr std::size_t kMaxLineBytes = std::size_t{64} * 1024;

std::string LanguageName(std::string_view tag) {
  static constexpr std::array<std::pair<std::string_view, std::string_view>, 14> kNames = {{
      {"en", "English"},
      {"es", "Spanish"},
      {"ca", "Catalan"},
      {"de", "German"},
      {"pl", "Polish"},
      {"ja", "Japanese"},
      {"hi", "Hindi"},
      {"zh-TW", "Traditional Chinese"},
      {"fr", "French"},
      {"it", "Italian"},
      {"pt", "Portuguese"},
      {"nl", "Dutch"},
      {"zh", "Chinese"},
      {"ko", "Korean"},
  }};
  for (const auto& [code, name] : kNames) {
    if (code == tag) return std::string(name);
  }
  return std::string(tag);
}

// The code the model is prompted with (system.md §3.3.6: zh-TW is prompted as zh-Hant).
std::string PromptCode(std::string_view tag) {
  return tag == "zh-TW" ? std::string("zh-Hant") : std::string(tag);
}

// Reads NDJSON lines as they arrive and hands each response piece on.
class NdjsonStream {
 public:
  NdjsonStream(const TextSink& sink, std::size_t max_output)
      : sink_(sink), max_output_(max_output) {}

  // The HTTP client's body callback: false aborts the transfer (status() says why).
  bool Feed(std::string_view data) {
    if (!status_.ok()) return false;
    pending_.append(data);
    size_t start = 0;
    for (size_t nl; (nl = pending_.find('\n', start)) != std::string::npos; start = nl + 1) {
      if (!Line(std::string_view(pending_).substr(start, nl - start))) return false;
    }
    pending_.erase(0, start);
    if (pending_.size() > kMaxLineBytes) {
      status_ = core::ResourceExhausted("an NDJSON line is longer than 64 KiB");
      return false;
    }
    return true;
  }

  // After the transfer: a last line without '\n', then "did it say done?".
  core::Status Finish() {
    if (status_.ok() && !pending_.empty()) {
      std::string last = std::move(pending_);
      pending_.clear();
      (void)Line(last);
    }
    if (status_.ok() && !done_) {
      status_ = core::Unavailable("the model's stream ended before done:true");
    }
    return status_;
  }
  const core::Status& status() const { return status_; }

 private:
  bool Line(std::string_view line) {
    while (!line.empty() && (line.back() == '\r' || line.back() == ' ')) line.remove_suffix(1);
    if (line.empty()) return true;
    if (done_) {
      status_ = core::Unavailable("the model sent data after done:true");
      return false;
    }
    Json j = Json::parse(line, nullptr, false);
    if (j.is_discarded() || !j.is_object()) {
      status_ = core::Unavailable("the model's stream is not NDJSON");
      return false;
    }
    if (auto e = j.find("error"); e != j.end()) {
      status_ = core::Unavailable(
          "the model reported an error: " +
          (e->is_string() ? e->get<std::string>().substr(0, 200) : std::string("(not a string)")));
      return false;
    }
    auto r = j.find("response");
    auto d = j.find("done");
    if ((r != j.end() && !r->is_string()) || d == j.end() || !d->is_boolean()) {
      status_ = core::Unavailable("the model's stream line lacks response/done");
      return false;
    }
    if (r != j.end()) {
      const auto& piece = r->get_ref<const std::string&>();
      output_ += piece.size();
      if (output_ > max_output_) {
        status_ = core::ResourceExhausted("the translation is longer than " +
                                          std::to_string(max_output_) + " bytes");
        return false;
      }
      if (!piece.empty() && !sink_(piece)) {
        status_ = core::Unavailable("stopped by the reader");
        return false;
      }
    }
    done_ = d->get<bool>();
    return true;
  }

  const TextSink& sink_;
  std::size_t max_output_;
  std::size_t output_ = 0;
  std::string pending_;
  bool done_ = false;
  core::Status status_;
};

}  // namespace

OllamaBackend::OllamaBackend(std::string url, std::string model,
                             const std::vector<std::string>& languages,
                             const telemetry::Telemetry& telemetry)
    : url_(std::move(url)), model_(std::move(model)), telemetry_(telemetry) {
  for (const auto& s : languages) {
    for (const auto& t : languages) {
      if (s != t) pairs_.push_back({s, t});
    }
  }
  std::sort(pairs_.begin(), pairs_.end());
  pairs_.erase(std::unique(pairs_.begin(), pairs_.end()), pairs_.end());
}

std::string OllamaBackend::Prompt(const LanguagePair& pair, std::string_view text) {
  std::string target = LanguageName(pair.target) + " (" + PromptCode(pair.target) + ")";
  std::string source = LanguageName(pair.source) + " (" + PromptCode(pair.source) + ")";
  std::string p = "You are a professional translator. Translate the following text from " + source +
                  " into " + target +
                  ". Preserve its meaning and tone. Output only the translation, with no "
                  "explanations or notes.\n\n";
  p.append(text);
  return p;
}

core::Status OllamaBackend::Probe(const telemetry::SpanContext& parent) {
  runtime::HttpCall call;
  call.method = "GET";
  call.url = url_ + "/api/tags";
  call.peer_service = "ollama";
  call.timeout = std::chrono::milliseconds(5000);
  call.failure_description = "model server probe failed";
  CHAT_ASSIGN_OR_RETURN(runtime::HttpCallResult res, runtime::CallHttp(call, telemetry_, parent));
  if (res.status != 200) {
    return core::Unavailable("the model server answered HTTP " + std::to_string(res.status));
  }
  Json j = Json::parse(res.body, nullptr, false);
  auto models = j.is_object() ? j.find("models") : j.end();
  if (j.is_discarded() || !j.is_object() || models == j.end() || !models->is_array()) {
    return core::Unavailable("the model server's /api/tags reply has no models list");
  }
  for (const auto& m : *models) {
    if (!m.is_object() || !m.contains("name") || !m["name"].is_string()) continue;
    const auto& name = m["name"].get_ref<const std::string&>();
    if (name == model_ || name.rfind(model_ + ":", 0) == 0) return core::Status::Ok();
  }
  return core::Unavailable("the model server does not have the model " + model_);
}

core::Status OllamaBackend::Translate(const LanguagePair& pair, std::string_view text,
                                      const TranslateLimits& limits,
                                      const telemetry::SpanContext& parent, const TextSink& sink) {
  if (std::find(pairs_.begin(), pairs_.end(), pair) == pairs_.end()) {
    return core::NotFound("no configured translation for " + pair.Name());
  }
  Json body = Json::object();
  body["model"] = model_;
  body["prompt"] = Prompt(pair, text);
  body["stream"] = true;
  NdjsonStream stream(sink, limits.max_output_bytes);
  runtime::HttpCall call;
  call.method = "POST";
  call.url = url_ + "/api/generate";
  call.body = body.dump(-1, ' ', false, Json::error_handler_t::replace);
  call.content_type = "application/json";
  call.peer_service = "ollama";
  call.send_traceparent = true;
  call.timeout = limits.timeout;
  call.failure_description = "model request failed";
  call.status_message_prefix = "model server: ";
  // The body is streamed, never held: this only bounds the transfer. Each NDJSON line wraps one
  // token of 1–4 bytes in ~100 bytes of JSON (and the last one carries the context array), so a
  // Hindi or Japanese text at the output limit needs far more than a few times that limit.
  call.max_body_bytes = limits.max_output_bytes * 128 + kMaxLineBytes;
  call.on_body_data = [&stream](std::string_view data) { return stream.Feed(data); };
  auto res = runtime::CallHttp(call, telemetry_, parent);
  if (!stream.status().ok()) return stream.status();  // we aborted it: our reason is the one
  if (!res.ok()) {
    if (res.status().message().find("imeout") != std::string::npos ||
        res.status().message().find("timed out") != std::string::npos) {
      return core::DeadlineExceeded("the model did not finish in time");
    }
    return res.status();
  }
  if (res->status >= 400) {
    return core::Unavailable("the model server answered HTTP " + std::to_string(res->status));
  }
  return stream.Finish();
}

}  // namespace chat::translation_service
