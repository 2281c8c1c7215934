#include "sanitizer/html_sanitizer.hpp"

#include <gumbo.h>

#include <algorithm>
#include <array>
#include <cctype>
#include <memory>
#include <vector>

namespace chat::kb_service {
namespace {

constexpr std::array kAllowedTags = {
    GUMBO_TAG_P,          GUMBO_TAG_BR,   GUMBO_TAG_STRONG, GUMBO_TAG_B,  GUMBO_TAG_EM,
    GUMBO_TAG_I,          GUMBO_TAG_U,    GUMBO_TAG_S,      GUMBO_TAG_H1, GUMBO_TAG_H2,
    GUMBO_TAG_H3,         GUMBO_TAG_UL,   GUMBO_TAG_OL,     GUMBO_TAG_LI, GUMBO_TAG_A,
    GUMBO_TAG_BLOCKQUOTE, GUMBO_TAG_CODE, GUMBO_TAG_PRE};

// Elements whose contents are code, raw text or embedded documents: removed with everything
// inside them (unwrapping a <script> would leave its source as page text).
constexpr std::array kDroppedSubtrees = {
    GUMBO_TAG_SCRIPT,    GUMBO_TAG_STYLE,    GUMBO_TAG_IFRAME,  GUMBO_TAG_FRAME,
    GUMBO_TAG_FRAMESET,  GUMBO_TAG_OBJECT,   GUMBO_TAG_EMBED,   GUMBO_TAG_APPLET,
    GUMBO_TAG_PARAM,     GUMBO_TAG_NOSCRIPT, GUMBO_TAG_NOEMBED, GUMBO_TAG_NOFRAMES,
    GUMBO_TAG_TEMPLATE,  GUMBO_TAG_SVG,      GUMBO_TAG_MATH,    GUMBO_TAG_TEXTAREA,
    GUMBO_TAG_SELECT,    GUMBO_TAG_OPTION,   GUMBO_TAG_TITLE,   GUMBO_TAG_XMP,
    GUMBO_TAG_PLAINTEXT, GUMBO_TAG_HEAD,     GUMBO_TAG_BASE,    GUMBO_TAG_LINK,
    GUMBO_TAG_META,      GUMBO_TAG_CANVAS,   GUMBO_TAG_AUDIO,   GUMBO_TAG_VIDEO,
    GUMBO_TAG_SOURCE,    GUMBO_TAG_TRACK,    GUMBO_TAG_MAP,     GUMBO_TAG_AREA};

constexpr std::string_view kLinkRel = "noopener noreferrer nofollow";

template <size_t N>
bool In(const std::array<GumboTag, N>& set, GumboTag tag) {
  return std::find(set.begin(), set.end(), tag) != set.end();
}

void AppendEscaped(std::string& out, std::string_view text, bool attribute) {
  for (char c : text) {
    switch (c) {
      case '&': out += "&amp;"; break;
      case '<': out += "&lt;"; break;
      case '>': out += "&gt;"; break;
      case '"':
        if (attribute) {
          out += "&quot;";
        } else {
          out += c;
        }
        break;
      case '\'':
        if (attribute) {
          out += "&#39;";
        } else {
          out += c;
        }
        break;
      default: out += c; break;
    }
  }
}

std::string_view TagName(GumboTag tag) { return gumbo_normalized_tagname(tag); }

struct GumboDeleter {
  void operator()(GumboOutput* output) const {
    gumbo_destroy_output(&kGumboDefaultOptions, output);
  }
};

// One step of the iterative walk: a node to open, or the close tag to write after its children.
struct Step {
  const GumboNode* node = nullptr;
  std::string_view close{};  // non-empty: write "</close>"
};

void PushChildren(std::vector<Step>& stack, const GumboVector& children) {
  // Reverse, so the first child is handled first.
  for (unsigned i = children.length; i > 0; --i) {
    stack.push_back(Step{static_cast<const GumboNode*>(children.data[i - 1]), {}});
  }
}

// Writes an allowed element's start tag; false when the element is to be unwrapped instead.
bool OpenAllowed(std::string& out, const GumboElement& element) {
  const std::string_view name = TagName(element.tag);
  if (element.tag == GUMBO_TAG_A) {
    const GumboAttribute* href = gumbo_get_attribute(&element.attributes, "href");
    std::string safe = href == nullptr ? std::string() : SafeHref(href->value);
    if (safe.empty()) return false;
    out += "<a href=\"";
    AppendEscaped(out, safe, true);
    out += R"(" rel=")";
    out += kLinkRel;
    out += R"(" target="_blank">)";
    return true;
  }
  out += '<';
  out += name;
  out += '>';
  return true;
}

}  // namespace

std::string SafeHref(std::string_view href) {
  std::string url;
  url.reserve(href.size());
  for (char c : href) {
    if (c == '\t' || c == '\n' || c == '\r') continue;
    url += c;
  }
  auto is_c0_or_space = [](char c) { return static_cast<unsigned char>(c) <= 0x20; };
  while (!url.empty() && is_c0_or_space(url.front())) url.erase(url.begin());
  while (!url.empty() && is_c0_or_space(url.back())) url.pop_back();
  size_t colon = url.find(':');
  if (colon == std::string::npos || colon == 0) return {};
  // A '/', '?' or '#' before the colon makes it a relative URL, not a scheme.
  if (url.find_first_of("/?#") < colon) return {};
  std::string scheme = url.substr(0, colon);
  std::transform(scheme.begin(), scheme.end(), scheme.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  if (scheme != "http" && scheme != "https" && scheme != "mailto") return {};
  // Control characters left inside the URL have no place in a link.
  if (std::any_of(url.begin(), url.end(),
                  [](char c) { return static_cast<unsigned char>(c) < 0x20 || c == 0x7f; })) {
    return {};
  }
  return url;
}

std::string SanitizeHtml(std::string_view html) {
  GumboOptions options = kGumboDefaultOptions;
  options.fragment_context = GUMBO_TAG_DIV;
  options.fragment_namespace = GUMBO_NAMESPACE_HTML;
  options.max_errors = 0;
  std::unique_ptr<GumboOutput, GumboDeleter> parsed(
      gumbo_parse_with_options(&options, html.data(), html.size()));
  std::string out;
  if (parsed == nullptr || parsed->root == nullptr) return out;
  out.reserve(html.size());

  std::vector<Step> stack;
  // The fragment's nodes are the children of the synthetic <html> root.
  const GumboNode* root = parsed->root;
  if (root->type == GUMBO_NODE_ELEMENT) PushChildren(stack, root->v.element.children);
  while (!stack.empty()) {
    Step step = stack.back();
    stack.pop_back();
    if (step.node == nullptr) {
      out += "</";
      out += step.close;
      out += '>';
      continue;
    }
    const GumboNode* node = step.node;
    switch (node->type) {
      case GUMBO_NODE_TEXT:
      case GUMBO_NODE_WHITESPACE:
      case GUMBO_NODE_CDATA: AppendEscaped(out, node->v.text.text, false); break;
      case GUMBO_NODE_ELEMENT: {
        const GumboElement& element = node->v.element;
        // Foreign content (inside svg/math) never reaches here: those subtrees are dropped.
        if (element.tag_namespace != GUMBO_NAMESPACE_HTML || In(kDroppedSubtrees, element.tag)) {
          break;
        }
        if (In(kAllowedTags, element.tag) && OpenAllowed(out, element)) {
          if (element.tag == GUMBO_TAG_BR) break;  // void: no children, no end tag
          stack.push_back(Step{nullptr, TagName(element.tag)});
          // The parser drops one newline right after <pre>; keep a leading one in the text.
          if (element.tag == GUMBO_TAG_PRE && element.children.length > 0) {
            const auto* first = static_cast<const GumboNode*>(element.children.data[0]);
            if ((first->type == GUMBO_NODE_TEXT || first->type == GUMBO_NODE_WHITESPACE) &&
                first->v.text.text[0] == '\n') {
              out += '\n';
            }
          }
        }
        PushChildren(stack, element.children);  // allowed or unwrapped
        break;
      }
      // Comments, doctypes, templates (GUMBO_NODE_TEMPLATE) and the document: dropped.
      default: break;
    }
  }
  return out;
}

}  // namespace chat::kb_service
