// gzip helpers: round trips, interoperability with the gzip tool, and the zip-bomb limit.
#include <gtest/gtest.h>

#include <random>

#include "otlp_test_data.hpp"

namespace chat::telemetry::sdk {
namespace {

using namespace testdata;

TEST(Gzip, RoundTripsTextBinaryAndEmpty) {
  std::mt19937 rng(5);
  std::string random(300000, '\0');
  for (char& c : random) c = static_cast<char>(rng());
  std::string traces;
  EncodeTracesProtobuf(FixtureResource(), FixtureScope(), FixtureSpans(), traces);
  for (const std::string& data :
       {std::string(), std::string("hello"), random, traces, std::string(1 << 20, 'a')}) {
    auto z = Gzip(data);
    ASSERT_TRUE(z.ok());
    ASSERT_GE(z->size(), 18u);  // header + trailer
    EXPECT_EQ(static_cast<uint8_t>((*z)[0]), 0x1f);
    EXPECT_EQ(static_cast<uint8_t>((*z)[1]), 0x8b);
    auto back = Gunzip(*z, data.size() + 1);
    ASSERT_TRUE(back.ok()) << back.status().ToString();
    EXPECT_TRUE(*back == data);
  }
}

TEST(Gzip, OutputIsReadableByGzipTool) {
  TempDir dir;
  std::string data = "The quick brown fox " + std::string(5000, 'z');
  auto z = Gzip(data);
  ASSERT_TRUE(z.ok());
  WriteFile(dir.path() / "x.gz", *z);
  auto r = RunCommand("gzip -dc < " + (dir.path() / "x.gz").string());
  ASSERT_EQ(r.exit_code, 0);
  EXPECT_EQ(r.out, data);
  // And the tool's output (another compressor) is readable by Gunzip, concatenated members too.
  WriteFile(dir.path() / "y", data);
  auto g = RunCommand("gzip -9c < " + (dir.path() / "y").string());
  ASSERT_EQ(g.exit_code, 0);
  auto back = Gunzip(g.out + g.out, 1 << 20);
  ASSERT_TRUE(back.ok()) << back.status().ToString();
  EXPECT_EQ(*back, data + data);
}

TEST(Gzip, BombLimitIsEnforced) {
  auto z = Gzip(std::string(64 << 20, '\0'));  // 64 MiB of zeros compresses to ~300 KB
  ASSERT_TRUE(z.ok());
  EXPECT_LT(z->size(), 1u << 20);
  auto r = Gunzip(*z, 1 << 20);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), core::ErrorCode::kResourceExhausted);
  // Exactly at the limit is fine.
  auto small = Gzip(std::string(1000, 'q'));
  ASSERT_TRUE(small.ok());
  EXPECT_TRUE(Gunzip(*small, 1000).ok());
  EXPECT_FALSE(Gunzip(*small, 999).ok());
}

TEST(Gzip, CorruptInputIsInvalidArgument) {
  auto z = Gzip(std::string(10000, 'x') + "tail");
  ASSERT_TRUE(z.ok());
  for (const std::string& bad : {std::string(), std::string("not gzip at all"), z->substr(0, 10),
                                 z->substr(0, z->size() - 4)}) {
    auto r = Gunzip(bad, 1 << 20);
    ASSERT_FALSE(r.ok());
    EXPECT_EQ(r.status().code(), core::ErrorCode::kInvalidArgument);
  }
  std::string flipped = *z;
  flipped[flipped.size() - 6] = static_cast<char>(flipped[flipped.size() - 6] ^ 0x40);  // CRC
  EXPECT_FALSE(Gunzip(flipped, 1 << 20).ok());
}

}  // namespace
}  // namespace chat::telemetry::sdk
