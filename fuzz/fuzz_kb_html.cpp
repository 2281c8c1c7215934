// kb-service's page sanitiser (services/kb/sanitizer): whatever bytes a member saves, the stored
// HTML, parsed again the way a browser parses it, holds only allow-listed HTML elements, and no
// attribute but a link's safe href and the forced rel/target. Any other element or attribute, or
// an href with another scheme, aborts.
#include <gumbo.h>

#include <array>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>
#include <vector>

#include "sanitizer/html_sanitizer.hpp"

namespace {

bool Allowed(GumboTag tag) {
  static constexpr std::array kTags = {
      GUMBO_TAG_P,    GUMBO_TAG_BR,  GUMBO_TAG_STRONG,    GUMBO_TAG_B,  GUMBO_TAG_EM,
      GUMBO_TAG_I,    GUMBO_TAG_U,   GUMBO_TAG_S,         GUMBO_TAG_H1, GUMBO_TAG_H2,
      GUMBO_TAG_H3,   GUMBO_TAG_UL,  GUMBO_TAG_OL,        GUMBO_TAG_LI, GUMBO_TAG_A,
      GUMBO_TAG_CODE, GUMBO_TAG_PRE, GUMBO_TAG_BLOCKQUOTE};
  for (GumboTag t : kTags) {
    if (t == tag) return true;
  }
  return false;
}

void CheckElement(const GumboElement& e) {
  if (e.tag_namespace != GUMBO_NAMESPACE_HTML || !Allowed(e.tag)) std::abort();
  for (unsigned i = 0; i < e.attributes.length; ++i) {
    const auto* a = static_cast<const GumboAttribute*>(e.attributes.data[i]);
    std::string_view name = a->name;
    std::string_view value = a->value;
    if (e.tag != GUMBO_TAG_A) std::abort();
    if (name == "href") {
      if (chat::kb_service::SafeHref(value) != value) std::abort();
    } else if (name == "rel") {
      if (value != "noopener noreferrer nofollow") std::abort();
    } else if (name == "target") {
      if (value != "_blank") std::abort();
    } else {
      std::abort();
    }
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size > 64 * 1024) return 0;  // the service refuses larger content before sanitising
  std::string out =
      chat::kb_service::SanitizeHtml(std::string_view(reinterpret_cast<const char*>(data), size));
  GumboOptions options = kGumboDefaultOptions;
  options.fragment_context = GUMBO_TAG_DIV;
  options.max_errors = 0;
  GumboOutput* parsed = gumbo_parse_with_options(&options, out.data(), out.size());
  std::vector<const GumboNode*> stack;
  for (unsigned i = 0; i < parsed->root->v.element.children.length; ++i) {
    stack.push_back(static_cast<const GumboNode*>(parsed->root->v.element.children.data[i]));
  }
  while (!stack.empty()) {
    const GumboNode* n = stack.back();
    stack.pop_back();
    if (n->type == GUMBO_NODE_COMMENT || n->type == GUMBO_NODE_TEMPLATE) std::abort();
    if (n->type != GUMBO_NODE_ELEMENT) continue;
    CheckElement(n->v.element);
    for (unsigned i = 0; i < n->v.element.children.length; ++i) {
      stack.push_back(static_cast<const GumboNode*>(n->v.element.children.data[i]));
    }
  }
  gumbo_destroy_output(&options, parsed);
  return 0;
}
