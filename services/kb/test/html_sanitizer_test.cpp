// SanitizeHtml / SafeHref with hostile input: whatever goes in, only the allow-listed elements
// come out, with no attribute but a safe href on links.
#include "sanitizer/html_sanitizer.hpp"

#include <gtest/gtest.h>

#include <string>

namespace chat::kb_service {
namespace {

TEST(HtmlSanitizerTest, KeepsTheToolbarsMarkup) {
  const std::string page =
      "<h1>Title</h1><h2>Sub</h2><h3>Small</h3><p>a <strong>b</strong> <b>c</b> <em>d</em> "
      "<i>e</i> <u>f</u> <s>g</s><br>h</p><ul><li>one</li></ul><ol><li>two</li></ol>"
      "<blockquote>q</blockquote><pre><code>x = 1;</code></pre>";
  EXPECT_EQ(SanitizeHtml(page), page);
}

TEST(HtmlSanitizerTest, ScriptsAndEmbeddedDocumentsAreRemovedWithTheirContents) {
  EXPECT_EQ(SanitizeHtml("<p>hi</p><script>alert(1)</script>"), "<p>hi</p>");
  EXPECT_EQ(SanitizeHtml("<SCRIPT SRC=//evil.example/x.js></SCRIPT>ok"), "ok");
  EXPECT_EQ(SanitizeHtml("<style>body{display:none}</style>ok"), "ok");
  EXPECT_EQ(SanitizeHtml("<iframe src=\"javascript:alert(1)\">fallback</iframe>ok"), "ok");
  EXPECT_EQ(SanitizeHtml("<object data=x><param name=a value=b>fallback</object>ok"), "ok");
  EXPECT_EQ(SanitizeHtml("<embed src=x>ok"), "ok");
  EXPECT_EQ(SanitizeHtml("<svg onload=alert(1)><script>alert(2)</script><text>t</text></svg>ok"),
            "ok");
  EXPECT_EQ(SanitizeHtml("<math><mi xlink:href=javascript:alert(1)>x</mi></math>ok"), "ok");
  EXPECT_EQ(SanitizeHtml("<template><img src=x onerror=alert(1)></template>ok"), "ok");
  EXPECT_EQ(SanitizeHtml("<noscript><p title=\"</noscript><img src=x onerror=alert(1)>\">"), "");
  EXPECT_EQ(SanitizeHtml("<textarea><script>alert(1)</script></textarea>ok"), "ok");
  EXPECT_EQ(SanitizeHtml("<title><script>alert(1)</script></title>ok"), "ok");
}

TEST(HtmlSanitizerTest, EventHandlersAndOtherAttributesAreDropped) {
  EXPECT_EQ(SanitizeHtml("<img src=x onerror=alert(1)>"), "");
  EXPECT_EQ(SanitizeHtml("<p onclick=\"alert(1)\" style=\"color:red\" class=c id=i>t</p>"),
            "<p>t</p>");
  EXPECT_EQ(SanitizeHtml("<P ONMOUSEOVER=alert(1)>t</P>"), "<p>t</p>");
  EXPECT_EQ(SanitizeHtml("<strong onfocus=alert(1) tabindex=0 autofocus>t</strong>"),
            "<strong>t</strong>");
  EXPECT_EQ(SanitizeHtml("<body onload=alert(1)>t</body>"), "t");
  EXPECT_EQ(SanitizeHtml("<details open ontoggle=alert(1)>t</details>"), "t");
  EXPECT_EQ(SanitizeHtml("<input autofocus onfocus=alert(1)>"), "");
}

TEST(HtmlSanitizerTest, OtherElementsAreUnwrapped) {
  EXPECT_EQ(SanitizeHtml("<div><span style=x>a</span><font color=red>b</font></div>"), "ab");
  EXPECT_EQ(SanitizeHtml("<custom-el onclick=x>c</custom-el>"), "c");
  EXPECT_EQ(SanitizeHtml("<table><tr><td>cell</td></tr></table>"), "cell");
  EXPECT_EQ(SanitizeHtml("<form action=javascript:alert(1)><button>b</button></form>"), "b");
}

TEST(HtmlSanitizerTest, LinksKeepOnlySafeHrefsWithForcedRelAndTarget) {
  EXPECT_EQ(SanitizeHtml("<a href=\"https://example.com/a?b=1&amp;c=2\" onclick=x "
                         "target=_self rel=opener>x</a>"),
            "<a href=\"https://example.com/a?b=1&amp;c=2\" rel=\"noopener noreferrer nofollow\" "
            "target=\"_blank\">x</a>");
  EXPECT_EQ(SanitizeHtml("<A HREF=mailto:bob@example.com>m</A>"),
            "<a href=\"mailto:bob@example.com\" rel=\"noopener noreferrer nofollow\" "
            "target=\"_blank\">m</a>");
  EXPECT_EQ(SanitizeHtml("<a href=\"javascript:alert(1)\">x</a>"), "x");
  EXPECT_EQ(SanitizeHtml("<a href=\"JaVaScRiPt:alert(1)\">x</a>"), "x");
  EXPECT_EQ(SanitizeHtml("<a href=\"java&#x09;script:alert(1)\">x</a>"), "x");
  EXPECT_EQ(SanitizeHtml("<a href=\"&#106;avascript:alert(1)\">x</a>"), "x");
  EXPECT_EQ(SanitizeHtml("<a href=\" \x01javascript:alert(1)\">x</a>"), "x");
  EXPECT_EQ(SanitizeHtml("<a href=\"data:text/html;base64,PHNjcmlwdD4=\">x</a>"), "x");
  EXPECT_EQ(SanitizeHtml("<a href=\"vbscript:msgbox(1)\">x</a>"), "x");
  EXPECT_EQ(SanitizeHtml("<a href=\"//evil.example/\">x</a>"), "x");
  EXPECT_EQ(SanitizeHtml("<a>x</a>"), "x");
  // An attribute value cannot break out of its quotes.
  EXPECT_EQ(SanitizeHtml("<a href='https://e.example/\"onmouseover=\"alert(1)'>x</a>"),
            "<a href=\"https://e.example/&quot;onmouseover=&quot;alert(1)\" "
            "rel=\"noopener noreferrer nofollow\" target=\"_blank\">x</a>");
}

TEST(HtmlSanitizerTest, SafeHrefFollowsTheBrowsersUrlCleanUp) {
  EXPECT_EQ(SafeHref("https://example.com/"), "https://example.com/");
  EXPECT_EQ(SafeHref("  HTTP://example.com/  "), "HTTP://example.com/");
  EXPECT_EQ(SafeHref("ht\ntp://example.com/"), "http://example.com/");
  EXPECT_EQ(SafeHref("java\tscript:alert(1)"), "");
  EXPECT_EQ(SafeHref("\x01javascript:alert(1)"), "");
  EXPECT_EQ(SafeHref("data:text/html,x"), "");
  EXPECT_EQ(SafeHref("/relative:path"), "");
  EXPECT_EQ(SafeHref("page#x:y"), "");
  EXPECT_EQ(SafeHref(":nothing"), "");
  EXPECT_EQ(SafeHref(""), "");
}

TEST(HtmlSanitizerTest, TextIsReEscapedAndEntitiesCannotSmuggleMarkup) {
  EXPECT_EQ(SanitizeHtml("&lt;script&gt;alert(1)&lt;/script&gt;"),
            "&lt;script&gt;alert(1)&lt;/script&gt;");
  EXPECT_EQ(SanitizeHtml("<p>a &amp; b &copy; &#60;img&#62; \"q\" 'a'</p>"),
            "<p>a &amp; b \xC2\xA9 &lt;img&gt; \"q\" 'a'</p>");
  EXPECT_EQ(SanitizeHtml("1 < 2 > 0"), "1 &lt; 2 &gt; 0");
  EXPECT_EQ(SanitizeHtml("<!-- <script>alert(1)</script> -->ok"), "ok");
  // Outside svg/math, "<![CDATA[" opens a bogus comment that ends at the first '>'.
  EXPECT_EQ(SanitizeHtml("<![CDATA[<script>alert(1)</script>]]>ok"), "alert(1)]]&gt;ok");
  EXPECT_EQ(SanitizeHtml("<!DOCTYPE html>ok"), "ok");
}

TEST(HtmlSanitizerTest, MalformedAndNestedMarkupIsRepairedByTheParser) {
  EXPECT_EQ(SanitizeHtml("<p><strong>unclosed"), "<p><strong>unclosed</strong></p>");
  EXPECT_EQ(SanitizeHtml("<b><i>mis</b>nested</i>"), "<b><i>mis</i></b><i>nested</i>");
  EXPECT_EQ(SanitizeHtml("</p></li>stray"), "<p></p>stray");
  EXPECT_EQ(SanitizeHtml("<scr<script>ipt>alert(1)</script>"), "ipt&gt;alert(1)");
  EXPECT_EQ(SanitizeHtml("<img src=\"x\" onerror=\"alert(1)\"/><p>after</p>"), "<p>after</p>");
  EXPECT_EQ(SanitizeHtml("<p>a<p>b"), "<p>a</p><p>b</p>");
  EXPECT_EQ(SanitizeHtml("<ul><li>a<li>b</ul>"), "<ul><li>a</li><li>b</li></ul>");
  EXPECT_EQ(SanitizeHtml("<pre>\n\nx</pre>"), "<pre>\n\nx</pre>");
  EXPECT_EQ(SanitizeHtml(""), "");
  EXPECT_EQ(SanitizeHtml("plain text"), "plain text");
}

TEST(HtmlSanitizerTest, InvalidUtf8AndNulsBecomeReplacementCharacters) {
  std::string out =
      SanitizeHtml(std::string("a\xff"
                               "b\0c",
                               5));
  EXPECT_EQ(out.find('\xff'), std::string::npos);
  EXPECT_EQ(out.find('\0'), std::string::npos);
  EXPECT_EQ(out.front(), 'a');
}

TEST(HtmlSanitizerTest, DeepNestingDoesNotExhaustTheStack) {
  std::string deep;
  for (int i = 0; i < 20000; ++i) deep += "<blockquote>";
  deep += "x";
  std::string out = SanitizeHtml(deep);
  EXPECT_NE(out.find('x'), std::string::npos);
  EXPECT_EQ(out.find("<script"), std::string::npos);
}

TEST(HtmlSanitizerTest, SanitisingTwiceChangesNothing) {
  for (const char* input :
       {"<p>a<b>b<i>c</b>d</i></p>", "<ul><li>x<ol><li>y</ol></ul>", "<a href=https://e.x>l</a>",
        "<pre>\n\ncode</pre>", "<div><p>a</div>b", "<h1><p>x</p></h1>"}) {
    std::string once = SanitizeHtml(input);
    EXPECT_EQ(SanitizeHtml(once), once) << input;
  }
}

}  // namespace
}  // namespace chat::kb_service
