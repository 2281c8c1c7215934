#include "chat/core/subject.hpp"

#include <gtest/gtest.h>

namespace {

using chat::core::ErrorCode;
using chat::core::MatchTemplate;
using chat::core::SubjectTemplate;

constexpr SubjectTemplate kSend{"deliver.{user}.send.{room}"};
constexpr SubjectTemplate kRoom{"chat.{room}"};
constexpr SubjectTemplate kThread{"chat.{room}.thread.{thread_id}"};
constexpr SubjectTemplate kCreate{"chat.room.create"};

TEST(SubjectTemplate, FormatsAndValidatesArguments) {
  auto s = kSend.Format({"alice", "general"});
  ASSERT_TRUE(s.ok());
  EXPECT_EQ(*s, "deliver.alice.send.general");
  for (std::string_view bad : {"", "a.b", "a*", ">", "a b", "tab\there", "x\n"}) {
    auto r = kSend.Format({"alice", bad});
    ASSERT_FALSE(r.ok()) << bad;
    EXPECT_EQ(r.status().code(), ErrorCode::kInvalidArgument);
    // The message names the placeholder, never the (user-supplied) value.
    EXPECT_NE(r.status().message().find("room"), std::string::npos);
  }
  EXPECT_FALSE(kSend.Format({"alice"}).ok());
  EXPECT_FALSE(kSend.Format({"alice", "general", "extra"}).ok());
  auto c = kCreate.Format({});
  ASSERT_TRUE(c.ok());
  EXPECT_EQ(*c, "chat.room.create");
}

TEST(SubjectTemplate, PatternArgNamesAndExtract) {
  EXPECT_EQ(kSend.Pattern(), "deliver.*.send.*");
  EXPECT_EQ(kThread.Pattern(), "chat.*.thread.*");
  EXPECT_EQ(kCreate.Pattern(), "chat.room.create");
  EXPECT_EQ(kSend.ArgCount(), 2u);
  ASSERT_EQ(kThread.ArgNames().size(), 2u);
  EXPECT_EQ(kThread.ArgNames()[1], "thread_id");
  EXPECT_EQ(kSend.Extract("deliver.bob.send.dm-alice-bob", "room"), "dm-alice-bob");
  EXPECT_EQ(kSend.Extract("deliver.bob.send.dm-alice-bob", "user"), "bob");
  EXPECT_FALSE(kSend.Extract("deliver.bob.recv.x", "user").has_value());
}

TEST(SubjectTemplate, MatchesByShape) {
  EXPECT_TRUE(kRoom.Matches("chat.general"));
  EXPECT_FALSE(kRoom.Matches("chat.general.thread.t1"));
  EXPECT_FALSE(kRoom.Matches("chat"));
  EXPECT_FALSE(kRoom.Matches("chat."));
  EXPECT_TRUE(kThread.Matches("chat.general.thread.t1"));
  EXPECT_FALSE(kThread.Matches("chat.general.reply.t1"));
}

TEST(SubjectTemplate, MostSpecificTemplateWins) {
  std::vector<SubjectTemplate> ts = {kRoom, kThread, SubjectTemplate("chat.{a}.{b}.{c}"),
                                     SubjectTemplate("chat.{room}.thread.new")};
  EXPECT_EQ(MatchTemplate(ts, "chat.general")->text(), "chat.{room}");
  EXPECT_EQ(MatchTemplate(ts, "chat.general.thread.t9")->text(), "chat.{room}.thread.{thread_id}");
  EXPECT_EQ(MatchTemplate(ts, "chat.general.thread.new")->text(), "chat.{room}.thread.new");
  EXPECT_EQ(MatchTemplate(ts, "chat.x.y.z")->text(), "chat.{a}.{b}.{c}");
  EXPECT_EQ(MatchTemplate(ts, "other.general"), nullptr);
}

TEST(SubjectTemplate, ValidityIsCheckedAtCompileTime) {
  static_assert(chat::core::internal::IsValidTemplate("a.{b}.c"));
  static_assert(!chat::core::internal::IsValidTemplate("a..c"));
  static_assert(!chat::core::internal::IsValidTemplate("a.{}.c"));
  static_assert(!chat::core::internal::IsValidTemplate("a.*"));
  static_assert(!chat::core::internal::IsValidTemplate("a.{b"));
  static_assert(!chat::core::internal::IsValidTemplate(""));
  SUCCEED();
}

}  // namespace
