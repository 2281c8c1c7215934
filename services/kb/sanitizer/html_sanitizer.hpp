// kb-service's allow-list HTML sanitiser (issue 13): page content is cleaned before it is stored,
// so a stored script or event handler can never run in another member's browser. The input is
// parsed by Gumbo (an HTML5 parser: the same tree a browser builds, malformed markup, entities
// and uppercase tags included) as a fragment in a <div>, and the tree is written back out with:
//
//   * allowed elements: p, br, strong, b, em, i, u, s, h1, h2, h3, ul, ol, li, a, blockquote,
//     code, pre — every attribute dropped, except on <a> an href whose scheme is http, https or
//     mailto; such a link always gets rel="noopener noreferrer nofollow" target="_blank", and a
//     link without a usable href is unwrapped (its text kept);
//   * dropped with everything inside: script, style, iframe, object, embed, svg, math, template,
//     textarea, title, noscript and the other raw-text or embedding elements (kDroppedSubtrees);
//   * any other element unwrapped: the tag goes, its children are sanitised in its place;
//   * comments and doctypes dropped; text re-escaped (&, <, >), attribute values quoted and
//     escaped — so re-parsing the output can only ever create the allowed elements.
//
// Output is valid UTF-8 (the parser replaces invalid bytes and NULs with U+FFFD). The traversal
// is iterative: deeply nested input cannot exhaust the stack.
#pragma once

#include <string>
#include <string_view>

namespace chat::kb_service {

std::string SanitizeHtml(std::string_view html);

// The href kept on a link, or "" when it is refused: browsers' URL clean-up is applied first
// (ASCII tab/newline removed anywhere, leading/trailing C0 controls and spaces trimmed), then the
// scheme must be http:, https: or mailto: (case-insensitive). Relative and scheme-relative URLs
// are refused too: a page link always names its target in full.
std::string SafeHref(std::string_view href);

}  // namespace chat::kb_service
