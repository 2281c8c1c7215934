#include "chat/contracts/messages.hpp"

#include <gtest/gtest.h>

namespace chat::contracts {
namespace {

ChatMessage Msg(std::string room, std::string thread_id) {
  ChatMessage m;
  m.user = "alice";
  m.text = "hi";
  m.timestamp = 1;
  m.room = std::move(room);
  m.thread_id = std::move(thread_id);
  return m;
}

TEST(CheckMessageAgainstSubjectTest, AcceptsTheSubjectsRoomAndThread) {
  EXPECT_TRUE(CheckMessageAgainstSubject("general", "", Msg("general", "")).ok());
  EXPECT_TRUE(CheckMessageAgainstSubject("general", "t1", Msg("general", "t1")).ok());
  // A room subject says nothing about threads: a reply published there is not refused here.
  EXPECT_TRUE(CheckMessageAgainstSubject("general", "", Msg("general", "t1")).ok());
}

TEST(CheckMessageAgainstSubjectTest, RefusesAnotherRoomFirst) {
  core::Status s = CheckMessageAgainstSubject("general", "t1", Msg("random", "t2"));
  EXPECT_EQ(s.code(), core::ErrorCode::kInvalidArgument);
  EXPECT_EQ(s.message(), "payload room does not match the subject");
  EXPECT_EQ(s.message(), kPayloadRoomMismatch);
}

TEST(CheckMessageAgainstSubjectTest, RefusesAnotherThread) {
  for (BodyThreadId body : {BodyThreadId::kRequired, BodyThreadId::kOptional}) {
    core::Status s = CheckMessageAgainstSubject("general", "t1", Msg("general", "t2"), body);
    EXPECT_EQ(s.code(), core::ErrorCode::kInvalidArgument);
    EXPECT_EQ(s.message(), "payload threadId does not match the subject");
    EXPECT_EQ(s.message(), kPayloadThreadMismatch);
  }
}

TEST(CheckMessageAgainstSubjectTest, OmittedThreadIdOnlyWhenOptional) {
  core::Status required = CheckMessageAgainstSubject("general", "t1", Msg("general", ""));
  EXPECT_EQ(required.message(), kPayloadThreadMismatch);
  EXPECT_TRUE(
      CheckMessageAgainstSubject("general", "t1", Msg("general", ""), BodyThreadId::kOptional)
          .ok());
}

}  // namespace
}  // namespace chat::contracts
