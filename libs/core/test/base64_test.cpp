#include "chat/core/base64.hpp"

#include <gtest/gtest.h>

#include <cstdint>
#include <vector>

namespace chat::core {
namespace {

TEST(Base64Test, StdMatchesRfc4648VectorsWithPadding) {
  const std::pair<std::string_view, std::string_view> vectors[] = {{"", ""},
                                                                   {"f", "Zg=="},
                                                                   {"fo", "Zm8="},
                                                                   {"foo", "Zm9v"},
                                                                   {"foob", "Zm9vYg=="},
                                                                   {"fooba", "Zm9vYmE="},
                                                                   {"foobar", "Zm9vYmFy"}};
  for (auto [in, out] : vectors) EXPECT_EQ(Base64StdEncode(in), out) << in;
  EXPECT_EQ(Base64StdEncode(std::string_view("\xfb\xff", 2)), "+/8=");
  const std::vector<uint8_t> bytes = {0xfb, 0xff};
  EXPECT_EQ(Base64StdEncode(bytes), "+/8=");
}

TEST(Base64Test, UrlEncodesWithoutPaddingAndDecodesBoth) {
  EXPECT_EQ(Base64UrlEncode(std::string_view("\xfb\xff", 2)), "-_8");
  EXPECT_EQ(Base64UrlEncode(std::string_view("hello")), "aGVsbG8");
  const std::vector<uint8_t> bytes = {0xfb, 0xff};
  EXPECT_EQ(Base64UrlEncode(bytes), "-_8");
  auto d = Base64UrlDecode("aGVsbG8=");
  ASSERT_TRUE(d.ok());
  EXPECT_EQ(*d, "hello");
  auto unpadded = Base64UrlDecode("aGVsbG8");
  ASSERT_TRUE(unpadded.ok());
  EXPECT_EQ(*unpadded, "hello");
  EXPECT_FALSE(Base64UrlDecode("aGV+").ok());  // standard alphabet is not base64url
  EXPECT_FALSE(Base64UrlDecode("a").ok());     // no encoder produces 4n+1 characters
  EXPECT_EQ(Base64UrlDecode("a").status().message(), "invalid base64url length");
  EXPECT_EQ(Base64UrlDecode("a*b=").status().message(), "invalid base64url character");
}

TEST(Base64Test, RoundTripsEveryByteInBothAlphabets) {
  std::string all;
  for (int i = 0; i < 256; ++i) all.push_back(static_cast<char>(i));
  for (size_t n : std::vector<size_t>{0, 1, 2, 3, 4, 255, 256}) {
    std::string in = all.substr(0, n);
    auto url = Base64UrlDecode(Base64UrlEncode(in));
    ASSERT_TRUE(url.ok()) << n;
    EXPECT_EQ(*url, in);
    auto std_any = Base64AnyDecode(Base64StdEncode(in));
    ASSERT_TRUE(std_any.ok()) << n;
    EXPECT_EQ(*std_any, in);
    auto url_any = Base64AnyDecode(Base64UrlEncode(in));
    ASSERT_TRUE(url_any.ok()) << n;
    EXPECT_EQ(*url_any, in);
  }
}

TEST(Base64Test, AnyDecodeAcceptsEitherAlphabetAndRejectsGarbage) {
  auto mixed = Base64AnyDecode("+_8=");
  ASSERT_TRUE(mixed.ok());
  EXPECT_EQ(*mixed, std::string("\xfb\xff", 2));
  EXPECT_FALSE(Base64AnyDecode("Zm9v!").ok());
  EXPECT_FALSE(Base64AnyDecode("Zm9vY").ok());
  EXPECT_EQ(Base64AnyDecode("Zm9vY").status().message(), "invalid base64 length");
}

}  // namespace
}  // namespace chat::core
