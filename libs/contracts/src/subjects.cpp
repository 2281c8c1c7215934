#include "chat/contracts/subjects.hpp"

namespace chat::contracts {

std::string_view PatternName(Pattern pattern) {
  switch (pattern) {
    case Pattern::kPublish: return "publish";
    case Pattern::kRequest: return "request";
    case Pattern::kSubscribe: return "subscribe";
  }
  return "publish";
}

std::string_view ConcurrencyName(Concurrency concurrency) {
  switch (concurrency) {
    case Concurrency::kOne: return "one";
    case Concurrency::kConfigured: return "configured";
  }
  return "one";
}

std::string_view IdentityName(Identity identity) {
  switch (identity) {
    case Identity::kNone: return "none";
    case Identity::kSubjectUser: return "subject_user";
    case Identity::kReplyInbox: return "reply_inbox";
  }
  return "none";
}

const SubjectSpec* FindSubject(std::string_view template_text) {
  for (const auto& spec : kSubjectCatalogue) {
    if (spec.subject->text() == template_text) return &spec;
  }
  return nullptr;
}

// Compile-time guards: names are unique and every template is listed once.
namespace {
constexpr bool CatalogueIsUnique() {
  for (std::size_t i = 0; i < kSubjectCatalogue.size(); ++i) {
    for (std::size_t k = i + 1; k < kSubjectCatalogue.size(); ++k) {
      if (kSubjectCatalogue[i].name == kSubjectCatalogue[k].name) return false;
      if (kSubjectCatalogue[i].subject->text() == kSubjectCatalogue[k].subject->text()) {
        return false;
      }
    }
  }
  return true;
}
static_assert(CatalogueIsUnique(), "subject catalogue has a duplicate name or template");
}  // namespace

}  // namespace chat::contracts
