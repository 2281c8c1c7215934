// @vitest-environment jsdom
// The browser-side allow-list (defence in depth: kb-service sanitises before storing too).
import { describe, expect, it } from "vitest";
import { sanitizeHtml } from "./sanitize";

describe("sanitizeHtml", () => {
  it("keeps what the editor produces", () => {
    const html =
      "<h1>Title</h1><h2>Sub</h2><p>Some <strong>bold</strong>, <em>italic</em> and <code>code</code>.</p>" +
      "<ul><li>one</li></ul><ol><li>two</li></ol><blockquote><p>q</p></blockquote>";
    expect(sanitizeHtml(html)).toBe(html);
  });

  it("drops scripts, event handlers, images, iframes and styles", () => {
    const out = sanitizeHtml(
      '<p onclick="x()" style="color:red">hi</p><img src=x onerror="alert(1)"><script>alert(2)</script>' +
        '<iframe src="https://evil.example"></iframe><svg onload="alert(3)"></svg><style>p{}</style>',
    );
    expect(out).toBe("<p>hi</p>");
  });

  it("keeps http(s) and mailto links with rel=noopener, drops javascript: and data: URLs", () => {
    expect(sanitizeHtml('<a href="https://example.com" target="_blank">x</a>')).toBe(
      '<a href="https://example.com" rel="noopener noreferrer nofollow">x</a>',
    );
    expect(sanitizeHtml('<a href="mailto:a@b.c">m</a>')).toBe(
      '<a href="mailto:a@b.c" rel="noopener noreferrer nofollow">m</a>',
    );
    expect(sanitizeHtml('<a href="javascript:alert(1)">j</a>')).toBe(
      '<a rel="noopener noreferrer nofollow">j</a>',
    );
    expect(sanitizeHtml('<a href="data:text/html,<script>alert(1)</script>">d</a>')).toBe(
      '<a rel="noopener noreferrer nofollow">d</a>',
    );
    expect(sanitizeHtml('<a href="//evil.example/x">p</a>')).toBe(
      '<a rel="noopener noreferrer nofollow">p</a>',
    );
  });

  it("keeps the text of unknown wrappers but not of scripts", () => {
    expect(sanitizeHtml("<div><span>kept</span></div><script>gone</script>")).toBe("kept");
  });
});
