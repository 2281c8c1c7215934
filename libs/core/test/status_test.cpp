#include <gtest/gtest.h>

#include "chat/core/result.hpp"

namespace chat::core {
namespace {

Result<int> Half(int x) {
  if (x % 2 != 0) return InvalidArgument("odd");
  return x / 2;
}

Result<int> Quarter(int x) {
  CHAT_ASSIGN_OR_RETURN(int h, Half(x));
  return Half(h);
}

Status Check(int x) {
  CHAT_RETURN_IF_ERROR(Quarter(x).status());
  return Status::Ok();
}

TEST(StatusTest, NamesRoundTrip) {
  for (int i = 0; i <= static_cast<int>(ErrorCode::kInternal); ++i) {
    auto code = static_cast<ErrorCode>(i);
    auto back = ErrorCodeFromName(ErrorCodeName(code));
    ASSERT_TRUE(back.has_value());
    EXPECT_EQ(*back, code);
  }
  EXPECT_FALSE(ErrorCodeFromName("bogus").has_value());
  EXPECT_EQ(NotFound("room not found").ToString(), "not_found: room not found");
}

TEST(ResultTest, ValueAndErrorPropagate) {
  EXPECT_EQ(*Quarter(8), 2);
  auto r = Quarter(6);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), ErrorCode::kInvalidArgument);
  EXPECT_TRUE(Check(4).ok());
  EXPECT_EQ(Check(2).code(), ErrorCode::kInvalidArgument);
}

}  // namespace
}  // namespace chat::core
