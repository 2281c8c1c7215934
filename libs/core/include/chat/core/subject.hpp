// SubjectTemplate: the registered shape of a NATS subject ("deliver.{user}.send.{room}").
// Span names and the messaging.destination.template attribute come only from templates, never
// from concrete subjects (docs/style.md rule 7), so every publish/subscribe API in natsx takes a
// template. Templates are compile-time constants in contracts; a malformed one fails to compile.
#pragma once

#include <initializer_list>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "chat/core/result.hpp"

namespace chat::core {

namespace internal {
// Not constexpr on purpose: reaching it during constant evaluation is a compile error, at run
// time it aborts (a malformed template is a programming error, not an expected failure).
[[noreturn]] void InvalidSubjectTemplate(const char* text);

constexpr bool IsTokenChar(char c) {
  return c != '.' && c != '*' && c != '>' && c != ' ' && c != '\t' && c != '\r' && c != '\n' &&
         c != '{' && c != '}';
}

// Every token is non-empty and is either a literal or exactly "{name}" with a non-empty name.
constexpr bool IsValidTemplate(std::string_view t) {
  if (t.empty()) return false;
  size_t start = 0;
  while (true) {
    size_t end = t.find('.', start);
    std::string_view tok = t.substr(start, end == std::string_view::npos ? end : end - start);
    if (tok.empty()) return false;
    if (tok.front() == '{') {
      if (tok.size() < 3 || tok.back() != '}') return false;
      for (char c : tok.substr(1, tok.size() - 2)) {
        if (!IsTokenChar(c)) return false;
      }
    } else {
      for (char c : tok) {
        if (!IsTokenChar(c)) return false;
      }
    }
    if (end == std::string_view::npos) return true;
    start = end + 1;
  }
}
}  // namespace internal

class SubjectTemplate {
 public:
  // `text` must have static storage (a literal or a constant): the template is a view.
  constexpr explicit SubjectTemplate(std::string_view text) : text_(text) {
    if (!internal::IsValidTemplate(text)) internal::InvalidSubjectTemplate(text.data());
  }

  constexpr std::string_view text() const { return text_; }

  // Number of `{name}` placeholders.
  size_t ArgCount() const;
  // Placeholder names in order ("user", "room").
  std::vector<std::string_view> ArgNames() const;

  // The concrete subject. Each argument must be non-empty and free of '.', '*', '>' and
  // whitespace, and there must be exactly ArgCount() of them; otherwise invalid_argument (the
  // message names the placeholder, never the value).
  core::Result<std::string> Format(std::initializer_list<std::string_view> args) const;
  core::Result<std::string> Format(const std::vector<std::string_view>& args) const;

  // The subscription wildcard: every placeholder becomes '*' ("deliver.*.send.*").
  std::string Pattern() const;

  // True when `subject` has this shape: same token count, equal literals.
  bool Matches(std::string_view subject) const;
  // Number of literal tokens (a more specific template wins when several match).
  size_t LiteralCount() const;

  // The value of placeholder `name` in a subject that Matches(); nullopt otherwise.
  std::optional<std::string_view> Extract(std::string_view subject, std::string_view name) const;

  friend bool operator==(const SubjectTemplate& a, const SubjectTemplate& b) {
    return a.text_ == b.text_;
  }

 private:
  std::string_view text_;
};

// Format into a caller's string (capacity reused, nothing else allocated); same validation and
// errors as SubjectTemplate::Format. The publish path calls this for every message.
core::Status FormatSubjectInto(const SubjectTemplate& tmpl, const std::string_view* args,
                               size_t arg_count, std::string& out);

// Splits a subject into its dot-separated tokens (views into `subject`).
std::vector<std::string_view> SplitSubject(std::string_view subject);

// Of `templates`, the one matching `subject` with the most literal tokens; nullptr if none.
const SubjectTemplate* MatchTemplate(const std::vector<SubjectTemplate>& templates,
                                     std::string_view subject);

}  // namespace chat::core
