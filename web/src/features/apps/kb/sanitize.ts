// Client-side sanitising of stored page HTML before it reaches the editor (★ issue 13: defence
// in depth — kb-service already sanitises with its own allow-list before storing). Only what
// the editor produces survives: text blocks, headings, lists, emphasis, code, links with
// http(s)/mailto targets. Scripts, event-handler attributes, styles, iframes, images and any
// other URL scheme are dropped (and `target`); links get rel="noopener noreferrer nofollow".
import DOMPurify from "dompurify";

const kTags = [
  "p",
  "br",
  "strong",
  "b",
  "em",
  "i",
  "u",
  "s",
  "code",
  "pre",
  "blockquote",
  "h1",
  "h2",
  "h3",
  "ul",
  "ol",
  "li",
  "a",
  "hr",
];
const kAttrs = ["href", "rel", "start"];

let hooked = false;

function ensureHook(): void {
  if (hooked) return;
  hooked = true;
  DOMPurify.addHook("afterSanitizeAttributes", (node) => {
    if (node.tagName === "A") node.setAttribute("rel", "noopener noreferrer nofollow");
  });
}

export function sanitizeHtml(html: string): string {
  ensureHook();
  return DOMPurify.sanitize(html, {
    ALLOWED_TAGS: kTags,
    ALLOWED_ATTR: kAttrs,
    ALLOWED_URI_REGEXP: /^(?:https?:|mailto:|#|\/(?!\/))/i,
    ALLOW_DATA_ATTR: false,
    ALLOW_ARIA_ATTR: false,
    KEEP_CONTENT: true,
  });
}
