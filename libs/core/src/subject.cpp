#include "chat/core/subject.hpp"

#include <cstdio>
#include <cstdlib>

namespace chat::core {

namespace internal {
void InvalidSubjectTemplate(const char* text) {
  std::fprintf(stderr, "core: invalid subject template \"%s\"\n", text);
  std::abort();
}
}  // namespace internal

namespace {
bool IsPlaceholder(std::string_view tok) { return !tok.empty() && tok.front() == '{'; }

bool IsValidArg(std::string_view arg) {
  if (arg.empty()) return false;
  for (char c : arg) {
    if (c == '.' || c == '*' || c == '>' || c == ' ' || c == '\t' || c == '\r' || c == '\n' ||
        c == '\f' || c == '\v') {
      return false;
    }
  }
  return true;
}
}  // namespace

std::vector<std::string_view> SplitSubject(std::string_view subject) {
  std::vector<std::string_view> out;
  size_t start = 0;
  while (true) {
    size_t end = subject.find('.', start);
    if (end == std::string_view::npos) {
      out.push_back(subject.substr(start));
      return out;
    }
    out.push_back(subject.substr(start, end - start));
    start = end + 1;
  }
}

size_t SubjectTemplate::ArgCount() const {
  size_t n = 0;
  for (auto tok : SplitSubject(text_)) n += IsPlaceholder(tok) ? 1u : 0u;
  return n;
}

std::vector<std::string_view> SubjectTemplate::ArgNames() const {
  std::vector<std::string_view> names;
  for (auto tok : SplitSubject(text_)) {
    if (IsPlaceholder(tok)) names.push_back(tok.substr(1, tok.size() - 2));
  }
  return names;
}

core::Status FormatSubjectInto(const SubjectTemplate& tmpl, const std::string_view* args,
                               size_t arg_count, std::string& out) {
  // Walks the tokens in place (no vector): Publish calls this for every message.
  const std::string_view text = tmpl.text();
  out.clear();
  size_t next_arg = 0;
  size_t start = 0;
  while (true) {
    size_t end = text.find('.', start);
    std::string_view tok =
        text.substr(start, end == std::string_view::npos ? std::string_view::npos : end - start);
    if (start != 0) out.push_back('.');
    if (!IsPlaceholder(tok)) {
      out.append(tok);
    } else {
      std::string_view name = tok.substr(1, tok.size() - 2);
      if (next_arg >= arg_count) {
        return core::InvalidArgument("subject argument missing: " + std::string(name));
      }
      std::string_view arg = args[next_arg++];
      // Never echo the value: it may be user input.
      if (!IsValidArg(arg)) {
        return core::InvalidArgument("subject argument invalid: " + std::string(name));
      }
      out.append(arg);
    }
    if (end == std::string_view::npos) break;
    start = end + 1;
  }
  if (next_arg != arg_count) {
    return core::InvalidArgument("too many subject arguments for " + std::string(text));
  }
  return core::Status::Ok();
}

core::Result<std::string> SubjectTemplate::Format(
    std::initializer_list<std::string_view> args) const {
  std::string out;
  CHAT_RETURN_IF_ERROR(FormatSubjectInto(*this, args.begin(), args.size(), out));
  return out;
}

core::Result<std::string> SubjectTemplate::Format(const std::vector<std::string_view>& args) const {
  std::string out;
  CHAT_RETURN_IF_ERROR(FormatSubjectInto(*this, args.data(), args.size(), out));
  return out;
}

std::string SubjectTemplate::Pattern() const {
  std::string out;
  bool first = true;
  for (auto tok : SplitSubject(text_)) {
    if (!first) out.push_back('.');
    first = false;
    if (IsPlaceholder(tok)) {
      out.push_back('*');
    } else {
      out.append(tok);
    }
  }
  return out;
}

bool SubjectTemplate::Matches(std::string_view subject) const {
  std::string_view t = text_;
  std::string_view s = subject;
  // Walk both token streams without allocating (this runs per delivered message).
  while (true) {
    size_t te = t.find('.');
    size_t se = s.find('.');
    std::string_view tt = t.substr(0, te);
    std::string_view st = s.substr(0, se);
    if (st.empty()) return false;
    if (!IsPlaceholder(tt) && tt != st) return false;
    if (te == std::string_view::npos || se == std::string_view::npos) {
      return te == std::string_view::npos && se == std::string_view::npos;
    }
    t = t.substr(te + 1);
    s = s.substr(se + 1);
  }
}

size_t SubjectTemplate::LiteralCount() const {
  size_t n = 0;
  for (auto tok : SplitSubject(text_)) n += IsPlaceholder(tok) ? 0u : 1u;
  return n;
}

std::optional<std::string_view> SubjectTemplate::Extract(std::string_view subject,
                                                         std::string_view name) const {
  if (!Matches(subject)) return std::nullopt;
  auto ttoks = SplitSubject(text_);
  auto stoks = SplitSubject(subject);
  for (size_t i = 0; i < ttoks.size(); ++i) {
    if (IsPlaceholder(ttoks[i]) && ttoks[i].substr(1, ttoks[i].size() - 2) == name) {
      return stoks[i];
    }
  }
  return std::nullopt;
}

const SubjectTemplate* MatchTemplate(const std::vector<SubjectTemplate>& templates,
                                     std::string_view subject) {
  const SubjectTemplate* best = nullptr;
  size_t best_literals = 0;
  for (const auto& t : templates) {
    if (!t.Matches(subject)) continue;
    size_t lits = templates.size() == 1 ? 0 : t.LiteralCount();
    if (best == nullptr || lits > best_literals) {
      best = &t;
      best_literals = lits;
    }
  }
  return best;
}

}  // namespace chat::core
