// SessionStore on a FakeClock: code expiry and single use, session lifetimes, refresh rotation,
// and reuse revocation of a session's whole refresh-token family.
#include "session_store.hpp"

#include <gtest/gtest.h>

#include <chrono>

namespace chat::devidp {
namespace {

using namespace std::chrono_literals;  // NOLINT(google-build-using-namespace)
using Outcome = SessionStore::RefreshOutcome;

class SessionStoreTest : public ::testing::Test {
 protected:
  static SessionStore::AuthCode Code() {
    return {"web", "http://localhost:3000/cb", "challenge", "n1", "u1"};
  }
  int64_t Now() const { return store_.NowSeconds(); }

  core::FakeClock clock_;
  SessionStore store_{clock_, SessionStore::Lifetimes{60s, 1800s, 36000s}};
};

TEST_F(SessionStoreTest, CodeIsValidUntilItsTtlAndStampsAuthTime) {
  int64_t issued = Now();
  store_.PutCode("c1", Code());
  clock_.Advance(59s);
  auto entry = store_.TakeCode("c1");
  ASSERT_TRUE(entry.has_value());
  EXPECT_EQ(entry->user_id, "u1");
  EXPECT_EQ(entry->redirect_uri, "http://localhost:3000/cb");
  EXPECT_EQ(entry->auth_time, issued);
  EXPECT_EQ(entry->expires_at, issued + 60);
}

TEST_F(SessionStoreTest, CodeExpiresAtItsTtl) {
  store_.PutCode("c1", Code());
  clock_.Advance(60s);
  EXPECT_FALSE(store_.TakeCode("c1").has_value());
}

TEST_F(SessionStoreTest, CodeIsSingleUse) {
  store_.PutCode("c1", Code());
  EXPECT_TRUE(store_.TakeCode("c1").has_value());
  EXPECT_FALSE(store_.TakeCode("c1").has_value());
  EXPECT_FALSE(store_.TakeCode("never-issued").has_value());
}

TEST_F(SessionStoreTest, RefreshRotatesAndTheSpentTokenRevokesTheFamily) {
  store_.StartSession("s1", "u1", "web", Now());
  store_.AddRefresh("r1", "s1", Now() + 1800);
  clock_.Advance(10s);
  auto first = store_.UseRefresh("r1", "s1");
  EXPECT_EQ(first.outcome, Outcome::kRotated);
  EXPECT_EQ(first.user_id, "u1");
  store_.AddRefresh("r2", "s1", Now() + 1800);  // the rotated token

  // r1 comes back (a stolen copy): the session and every token of its family die, r2 included.
  auto reuse = store_.UseRefresh("r1", "s1");
  EXPECT_EQ(reuse.outcome, Outcome::kReused);
  EXPECT_EQ(reuse.user_id, "u1");
  EXPECT_FALSE(store_.HasSession("s1"));
  EXPECT_EQ(store_.UseRefresh("r2", "s1").outcome, Outcome::kNotActive);
}

TEST_F(SessionStoreTest, ReuseRevokesOnlyThatSessionsFamily) {
  store_.StartSession("s1", "u1", "web", Now());
  store_.StartSession("s2", "u2", "web", Now());
  store_.AddRefresh("a1", "s1", Now() + 1800);
  store_.AddRefresh("b1", "s2", Now() + 1800);
  ASSERT_EQ(store_.UseRefresh("a1", "s1").outcome, Outcome::kRotated);
  ASSERT_EQ(store_.UseRefresh("a1", "s1").outcome, Outcome::kReused);
  EXPECT_TRUE(store_.HasSession("s2"));
  EXPECT_EQ(store_.UseRefresh("b1", "s2").outcome, Outcome::kRotated);
}

TEST_F(SessionStoreTest, RefreshTokenOfAnotherSessionIsNotActive) {
  store_.StartSession("s1", "u1", "web", Now());
  store_.StartSession("s2", "u2", "web", Now());
  store_.AddRefresh("r1", "s1", Now() + 1800);
  EXPECT_EQ(store_.UseRefresh("r1", "s2").outcome, Outcome::kNotActive);
  EXPECT_EQ(store_.UseRefresh("r1", "s1").outcome, Outcome::kRotated);
}

TEST_F(SessionStoreTest, RefreshTokenExpires) {
  store_.StartSession("s1", "u1", "web", Now());
  store_.AddRefresh("r1", "s1", Now() + 100);
  clock_.Advance(100s);
  EXPECT_EQ(store_.UseRefresh("r1", "s1").outcome, Outcome::kNotActive);
}

TEST_F(SessionStoreTest, IdleSessionDiesAfterRefreshTtlAndRefreshResetsTheTimer) {
  store_.StartSession("s1", "u1", "web", Now());
  store_.AddRefresh("r1", "s1", Now() + 36000);
  clock_.Advance(1799s);
  ASSERT_EQ(store_.UseRefresh("r1", "s1").outcome, Outcome::kRotated);  // idle timer restarts
  store_.AddRefresh("r2", "s1", Now() + 36000);
  clock_.Advance(1799s);
  ASSERT_EQ(store_.UseRefresh("r2", "s1").outcome, Outcome::kRotated);
  store_.AddRefresh("r3", "s1", Now() + 36000);
  clock_.Advance(1800s);
  EXPECT_EQ(store_.UseRefresh("r3", "s1").outcome, Outcome::kNotActive);
  EXPECT_FALSE(store_.HasSession("s1"));
}

TEST_F(SessionStoreTest, SessionEndsAtMaxLifespanFromAuthTime) {
  // Signed in 35,990 s ago (e.g. through a code): 10 s are left however recently it refreshed.
  store_.StartSession("s1", "u1", "web", Now() - 35990);
  EXPECT_EQ(store_.AuthTime("s1"), Now() - 35990);
  store_.AddRefresh("r1", "s1", Now() + 1800);
  clock_.Advance(10s);
  EXPECT_EQ(store_.UseRefresh("r1", "s1").outcome, Outcome::kNotActive);
  EXPECT_FALSE(store_.AuthTime("s1").has_value());
}

TEST_F(SessionStoreTest, EndSessionStopsItsRefreshTokens) {
  store_.StartSession("s1", "u1", "web", Now());
  store_.AddRefresh("r1", "s1", Now() + 1800);
  store_.EndSession("s1");
  EXPECT_FALSE(store_.HasSession("s1"));
  EXPECT_EQ(store_.UseRefresh("r1", "s1").outcome, Outcome::kNotActive);
}

}  // namespace
}  // namespace chat::devidp
