#include "chat/core/strings.hpp"

#include <gtest/gtest.h>

#include "chat/core/origin.hpp"

namespace chat::core {
namespace {

using Strings = std::vector<std::string>;

TEST(SplitCommaTest, TrimsAndDropsEmptyItems) {
  EXPECT_EQ(SplitComma(""), Strings{});
  EXPECT_EQ(SplitComma(" , ,"), Strings{});
  EXPECT_EQ(SplitComma("a"), Strings{"a"});
  EXPECT_EQ(SplitComma("nats://a:4222,nats://b:4222"), (Strings{"nats://a:4222", "nats://b:4222"}));
  EXPECT_EQ(SplitComma(" a ,\tb\n,, c"), (Strings{"a", "b", "c"}));
  EXPECT_EQ(SplitComma("a b,c"), (Strings{"a b", "c"}));  // inner spaces stay
}

TEST(PercentEncodeTest, KeepsUnreservedAndEncodesEverythingElseUpperCase) {
  EXPECT_EQ(PercentEncode(""), "");
  EXPECT_EQ(PercentEncode("AZaz09-._~"), "AZaz09-._~");
  EXPECT_EQ(PercentEncode("a b+c&d=e/f?"), "a%20b%2Bc%26d%3De%2Ff%3F");
  EXPECT_EQ(PercentEncode("http://localhost:3000/cb"), "http%3A%2F%2Flocalhost%3A3000%2Fcb");
  EXPECT_EQ(PercentEncode(std::string_view("\x00\xff\xc3\xa9", 4)), "%00%FF%C3%A9");
}

TEST(OriginTest, IsHttpOriginAcceptsSchemeHostPortOnly) {
  EXPECT_TRUE(IsHttpOrigin("http://localhost:3000"));
  EXPECT_TRUE(IsHttpOrigin("https://chat.example"));
  EXPECT_FALSE(IsHttpOrigin("not-an-origin"));
  EXPECT_FALSE(IsHttpOrigin("ftp://x"));
  EXPECT_FALSE(IsHttpOrigin("http://"));
  EXPECT_FALSE(IsHttpOrigin("http://x/"));
  EXPECT_FALSE(IsHttpOrigin("http://x?a"));
  EXPECT_FALSE(IsHttpOrigin("http://x#a"));
  EXPECT_FALSE(IsHttpOrigin("http://u@x"));
  EXPECT_FALSE(IsHttpOrigin("http://x y"));
}

TEST(OriginTest, OriginAllowedIsExactOrWildcardAndNeverEmpty) {
  const Strings allowed = {"http://localhost:3000"};
  EXPECT_TRUE(OriginAllowed("http://localhost:3000", allowed));
  EXPECT_FALSE(OriginAllowed("http://localhost:3001", allowed));
  EXPECT_FALSE(OriginAllowed("http://evil.example", allowed));
  EXPECT_FALSE(OriginAllowed("", allowed));
  EXPECT_FALSE(OriginAllowed("http://localhost:3000", {}));
  EXPECT_TRUE(OriginAllowed("http://any.example", {"*"}));
  EXPECT_FALSE(OriginAllowed("", {"*"}));
}

}  // namespace
}  // namespace chat::core
