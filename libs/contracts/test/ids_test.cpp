#include "chat/contracts/ids.hpp"

#include <gtest/gtest.h>

#include <string>

namespace chat::contracts {
namespace {

TEST(UsernameTest, AcceptsSeededAndEdgeNames) {
  EXPECT_TRUE(ValidateUsername("alice").ok());
  EXPECT_TRUE(ValidateUsername("__system__").ok());
  EXPECT_TRUE(ValidateUsername("first-last_9").ok());
  EXPECT_TRUE(ValidateUsername(std::string(64, 'a')).ok());
}

TEST(UsernameTest, RejectsEachForbiddenShape) {
  for (std::string bad : {"", "a.b", "a*", "a>", "a b", "a\tb", "a\nb", "a\rb"}) {
    auto s = ValidateUsername(bad);
    EXPECT_EQ(s.code(), core::ErrorCode::kInvalidArgument) << "accepted: [" << bad << "]";
  }
  auto too_long = ValidateUsername(std::string(65, 'a'));
  EXPECT_EQ(too_long.code(), core::ErrorCode::kInvalidArgument);
  EXPECT_NE(too_long.message().find("64"), std::string::npos);
}

TEST(UsernameTest, MessageNeverContainsTheValue) {
  auto s = ValidateUsername("secret.name");
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.message().find("secret"), std::string::npos);
}

TEST(RoomKeyTest, PlainKeys) {
  EXPECT_TRUE(ValidateRoomKey("general").ok());
  EXPECT_TRUE(ValidateRoomKey("team-42").ok());
  EXPECT_TRUE(ValidateRoomKey(std::string(64, 'x')).ok());
  EXPECT_FALSE(ValidateRoomKey(std::string(65, 'x')).ok());
  EXPECT_FALSE(ValidateRoomKey("").ok());
  EXPECT_FALSE(ValidateRoomKey("General").ok());
  EXPECT_FALSE(ValidateRoomKey("a.b").ok());
  EXPECT_FALSE(ValidateRoomKey("a_b").ok());
  EXPECT_FALSE(ValidateRoomKey("a b").ok());
  EXPECT_FALSE(ValidateRoomKey("*").ok());
}

TEST(RoomKeyTest, AdminAndDmKeys) {
  EXPECT_TRUE(ValidateRoomKey("__admin__").ok());
  EXPECT_TRUE(ValidateRoomKey("__admin__chat").ok());  // the admin channel membership key
  EXPECT_FALSE(ValidateRoomKey("__admin__other").ok());
  EXPECT_TRUE(ValidateRoomKey("dm-alice-bob").ok());
  EXPECT_FALSE(ValidateRoomKey("dm-bob-alice").ok()) << "unsorted DM key";
  EXPECT_FALSE(ValidateRoomKey("dm-alice").ok());
  EXPECT_FALSE(ValidateRoomKey("dm-").ok());
  EXPECT_TRUE(IsDmRoom("dm-alice-bob"));
  EXPECT_FALSE(IsDmRoom("general"));
  EXPECT_FALSE(IsDmRoom("adm-x"));
  EXPECT_TRUE(IsAdminRoom("__admin__"));
}

TEST(DmKeyTest, SortedRegardlessOfArgumentOrder) {
  auto ab = DmRoomKey("alice", "bob");
  auto ba = DmRoomKey("bob", "alice");
  ASSERT_TRUE(ab.ok());
  ASSERT_TRUE(ba.ok());
  EXPECT_EQ(*ab, "dm-alice-bob");
  EXPECT_EQ(*ba, "dm-alice-bob");
  // Byte order: uppercase sorts before lowercase.
  EXPECT_EQ(*DmRoomKey("bob", "Zed"), "dm-Zed-bob");
}

TEST(DmKeyTest, ParticipantsRoundTrip) {
  auto parts = DmParticipants("dm-alice-bob");
  ASSERT_TRUE(parts.ok());
  EXPECT_EQ(parts->first, "alice");
  EXPECT_EQ(parts->second, "bob");
  EXPECT_TRUE(IsDmParticipant("dm-alice-bob", "alice"));
  EXPECT_TRUE(IsDmParticipant("dm-alice-bob", "bob"));
  EXPECT_FALSE(IsDmParticipant("dm-alice-bob", "charlie"));
  EXPECT_FALSE(IsDmParticipant("general", "alice"));
  // A username with a dash is fine when the split is unique.
  auto dashed = DmRoomKey("mary-jane", "zoe");
  ASSERT_TRUE(dashed.ok());
  EXPECT_EQ(*dashed, "dm-mary-jane-zoe");
  auto dashed_parts = DmParticipants(*dashed);
  ASSERT_TRUE(dashed_parts.ok()) << dashed_parts.status().ToString();
  EXPECT_EQ(dashed_parts->first, "mary-jane");
}

TEST(DmKeyTest, RejectsInvalidAndAmbiguous) {
  EXPECT_FALSE(DmRoomKey("a.b", "c").ok());
  EXPECT_FALSE(DmRoomKey("", "c").ok());
  // "dm-a-b-c" splits as a/b-c and a-b/c: refused instead of shared by two pairs.
  auto ambiguous = DmRoomKey("a", "b-c");
  ASSERT_FALSE(ambiguous.ok());
  EXPECT_NE(ambiguous.status().message().find("ambiguous"), std::string::npos);
  EXPECT_FALSE(DmParticipants("dm-a-b-c").ok());
  EXPECT_FALSE(DmParticipants("general").ok());
}

TEST(IdsTest, MessageAndThreadIds) {
  EXPECT_EQ(MessageId(1740650000123, "bob"), "1740650000123-bob");
  EXPECT_EQ(ThreadId("general", 1740650000123), "general-1740650000123");
  auto parsed = ParseThreadId("dm-alice-bob-1740650000123");
  ASSERT_TRUE(parsed.ok());
  EXPECT_EQ(parsed->first, "dm-alice-bob");
  EXPECT_EQ(parsed->second, 1740650000123);
  EXPECT_TRUE(ValidateThreadId("__admin__-5").ok());
  EXPECT_FALSE(ValidateThreadId("general").ok());
  EXPECT_FALSE(ValidateThreadId("general-").ok());
  EXPECT_FALSE(ValidateThreadId("general-12a").ok());
  EXPECT_FALSE(ValidateThreadId("General-12").ok());
  EXPECT_FALSE(ValidateThreadId("general-0").ok());
  EXPECT_FALSE(ValidateThreadId("general-1234567890123456789").ok()) << "19 digits";
}

}  // namespace
}  // namespace chat::contracts
