#include "backend/apertium_backend.hpp"

#include <algorithm>
#include <array>
#include <filesystem>
#include <utility>

#include "backend/process.hpp"

namespace chat::translation_service {
namespace {

namespace fs = std::filesystem;

bool IsLowerCode(std::string_view s) {
  if (s.size() < 2 || s.size() > 3) return false;
  return std::all_of(s.begin(), s.end(), [](char c) { return c >= 'a' && c <= 'z'; });
}

// The first line of a child's stderr, for an error message (bounded, no control characters).
std::string FirstLine(std::string_view text) {
  text = text.substr(0, text.find('\n'));
  std::string out;
  for (char c : text.substr(0, 200)) out.push_back(static_cast<unsigned char>(c) < 0x20 ? ' ' : c);
  return out;
}

// The text in null-flush form (`apertium -z`): a NUL after each sentence (after its ".", "!",
// "?" or newline and the whitespace that follows), so every stage of the pipeline flushes there
// and a sentence's translation comes out while the next ones are still being translated. The
// output is the same as without -z. NULs in the text itself would be flush marks: dropped.
std::string NullFlushSegments(std::string_view text) {
  std::string out;
  out.reserve(text.size() + text.size() / 16 + 1);
  bool sentence_end = false;
  for (char c : text) {
    if (c == '\0') continue;
    const bool space = c == ' ' || c == '\t' || c == '\n' || c == '\r';
    if (sentence_end && !space) out.push_back('\0');
    out.push_back(c);
    if (c == '.' || c == '!' || c == '?' || c == '\n') {
      sentence_end = true;
    } else if (!space) {
      sentence_end = false;
    }
  }
  out.push_back('\0');
  return out;
}

}  // namespace

std::string ApertiumBackend::WireTag(std::string_view iso639_3) {
  static constexpr std::array<std::pair<std::string_view, std::string_view>, 24> kTags = {{
      {"eng", "en"}, {"spa", "es"}, {"cat", "ca"}, {"fra", "fr"}, {"por", "pt"}, {"ita", "it"},
      {"deu", "de"}, {"glg", "gl"}, {"eus", "eu"}, {"oci", "oc"}, {"ron", "ro"}, {"nld", "nl"},
      {"afr", "af"}, {"dan", "da"}, {"nob", "nb"}, {"nno", "nn"}, {"swe", "sv"}, {"isl", "is"},
      {"pol", "pl"}, {"ces", "cs"}, {"slk", "sk"}, {"rus", "ru"}, {"ukr", "uk"}, {"epo", "eo"},
  }};
  for (const auto& [code, tag] : kTags) {
    if (code == iso639_3) return std::string(tag);
  }
  return std::string(iso639_3);
}

std::vector<ApertiumBackend::Mode> ApertiumBackend::DiscoverModes(const std::string& modes_dir) {
  std::vector<Mode> modes;
  std::error_code ec;
  for (fs::directory_iterator it(modes_dir, ec), end; !ec && it != end; it.increment(ec)) {
    const fs::path& p = it->path();
    if (p.extension() != ".mode") continue;
    std::string stem = p.stem().string();
    size_t dash = stem.find('-');
    if (dash == std::string::npos) continue;
    std::string_view src = std::string_view(stem).substr(0, dash);
    std::string_view dst = std::string_view(stem).substr(dash + 1);
    if (!IsLowerCode(src) || !IsLowerCode(dst)) continue;  // eng-cat_valencia, …
    modes.push_back({{WireTag(src), WireTag(dst)}, stem});
  }
  std::sort(modes.begin(), modes.end(),
            [](const Mode& a, const Mode& b) { return a.pair < b.pair; });
  modes.erase(std::unique(modes.begin(), modes.end(),
                          [](const Mode& a, const Mode& b) { return a.pair == b.pair; }),
              modes.end());
  return modes;
}

ApertiumBackend::ApertiumBackend(std::string bin, std::string data_dir, std::vector<Mode> modes)
    : bin_(std::move(bin)), data_dir_(std::move(data_dir)), modes_(std::move(modes)) {
  for (const auto& m : modes_) pairs_.push_back(m.pair);
}

core::Result<std::unique_ptr<ApertiumBackend>> ApertiumBackend::Create(std::string bin,
                                                                       std::string data_dir) {
  auto modes = DiscoverModes((fs::path(data_dir) / "modes").string());
  return std::unique_ptr<ApertiumBackend>(
      new ApertiumBackend(std::move(bin), std::move(data_dir), std::move(modes)));
}

core::Status ApertiumBackend::Probe(const telemetry::SpanContext& parent) {
  if (modes_.empty()) {
    return core::Unavailable("no Apertium language pair is installed under " + data_dir_ +
                             "/modes");
  }
  std::string out;
  TranslateLimits limits;
  limits.timeout = std::chrono::milliseconds(10000);
  CHAT_RETURN_IF_ERROR(
      Translate(modes_.front().pair, "Hello.", limits, parent, [&out](std::string_view piece) {
        out.append(piece);
        return true;
      }));
  if (out.find_first_not_of(" \n") == std::string::npos) {
    return core::Unavailable("apertium produced no output for the probe");
  }
  return core::Status::Ok();
}

core::Status ApertiumBackend::Translate(const LanguagePair& pair, std::string_view text,
                                        const TranslateLimits& limits,
                                        const telemetry::SpanContext& /*parent*/,
                                        const TextSink& sink) {
  auto mode =
      std::find_if(modes_.begin(), modes_.end(), [&](const Mode& m) { return m.pair == pair; });
  if (mode == modes_.end()) return core::NotFound("no Apertium mode for " + pair.Name());
  ProcessRun run;
  // -u: unknown words without the '*' mark; -z: null-flush mode (output per sentence, above);
  // -d: the data directory whose modes/ we listed.
  run.argv = {bin_, "-u", "-z", "-d", data_dir_, mode->mode};
  const std::string input = NullFlushSegments(text);
  run.input = input;
  run.deadline = std::chrono::steady_clock::now() + limits.timeout;
  run.max_output_bytes = limits.max_output_bytes;
  std::string piece_text;
  run.on_output = [&sink, &piece_text](std::string_view piece) {
    piece_text.assign(piece);
    std::erase(piece_text, '\0');  // flush marks, if a stage echoes them
    return piece_text.empty() || sink(piece_text);
  };
  CHAT_ASSIGN_OR_RETURN(ProcessExit exit, RunProcess(run));
  if (exit.signal != 0) {
    return core::Unavailable("apertium was killed by signal " + std::to_string(exit.signal));
  }
  if (exit.exit_code != 0) {
    return core::Unavailable("apertium exited with status " + std::to_string(exit.exit_code) +
                             (exit.stderr_text.empty() ? "" : ": " + FirstLine(exit.stderr_text)));
  }
  return core::Status::Ok();
}

}  // namespace chat::translation_service
