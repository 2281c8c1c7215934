#include "chat/nkeys/encoding.hpp"

#include <gtest/gtest.h>

namespace chat::nkeys {
namespace {

std::span<const uint8_t> AsBytes(std::string_view s) {
  return {reinterpret_cast<const uint8_t*>(s.data()), s.size()};
}

TEST(Base32, MatchesRfc4648VectorsWithoutPadding) {
  EXPECT_EQ(Base32Encode(AsBytes("")), "");
  EXPECT_EQ(Base32Encode(AsBytes("f")), "MY");
  EXPECT_EQ(Base32Encode(AsBytes("fo")), "MZXQ");
  EXPECT_EQ(Base32Encode(AsBytes("foo")), "MZXW6");
  EXPECT_EQ(Base32Encode(AsBytes("foob")), "MZXW6YQ");
  EXPECT_EQ(Base32Encode(AsBytes("fooba")), "MZXW6YTB");
  EXPECT_EQ(Base32Encode(AsBytes("foobar")), "MZXW6YTBOI");
}

TEST(Base32, DecodeRoundTripsAndRejectsGarbage) {
  for (std::string_view s : {"", "f", "fo", "foo", "foob", "fooba", "foobar"}) {
    auto decoded = Base32Decode(Base32Encode(AsBytes(s)));
    ASSERT_TRUE(decoded.ok()) << s;
    EXPECT_EQ(std::string(decoded->begin(), decoded->end()), s);
  }
  EXPECT_FALSE(Base32Decode("MZXW6=").ok());
  EXPECT_FALSE(Base32Decode("mzxw6").ok());
  EXPECT_FALSE(Base32Decode("MZ1").ok());
  EXPECT_FALSE(Base32Decode("MZ").ok());  // non-zero trailing bits
}

TEST(Crc16, IsXmodem) {
  // CRC-16/XMODEM check value for "123456789".
  EXPECT_EQ(Crc16(AsBytes("123456789")), 0x31C3);
  EXPECT_EQ(Crc16(AsBytes("")), 0);
}

}  // namespace
}  // namespace chat::nkeys
