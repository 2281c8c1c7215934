// SessionStore: the issuer's in-memory state — single-use authorization codes, sessions, and the
// refresh tokens of each session (its "family"), with rotation and reuse revocation. Time comes
// from an injected core::Clock, so expiry is tested with a FakeClock. Thread-safe; a restart
// forgets everything (everybody is signed out).
#pragma once

#include <chrono>
#include <cstdint>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>

#include "chat/core/clock.hpp"

namespace chat::devidp {

class SessionStore {
 public:
  struct Lifetimes {
    std::chrono::seconds code_ttl{60};
    std::chrono::seconds refresh_ttl{1800};   // idle timeout: a session dies unrefreshed
    std::chrono::seconds session_max{36000};  // max lifespan from auth_time
  };

  struct AuthCode {
    std::string client_id;
    std::string redirect_uri;
    std::string code_challenge;
    std::string nonce;
    std::string user_id;
    int64_t auth_time = 0;   // set by PutCode
    int64_t expires_at = 0;  // set by PutCode
  };

  // What UseRefresh found.
  enum class RefreshOutcome {
    kRotated,    // valid: the token is now spent, the session's idle timer restarts
    kReused,     // a spent token came back: the session and its whole family are revoked
    kNotActive,  // unknown, expired, of another session, or the session is gone
  };
  struct RefreshResult {
    RefreshOutcome outcome = RefreshOutcome::kNotActive;
    std::string user_id;  // the session's user (kRotated; kReused while the session existed)
  };

  SessionStore(const core::Clock& clock, Lifetimes lifetimes);

  // Whole seconds of the injected clock's wall time.
  int64_t NowSeconds() const;

  // Stores `code` for code_ttl from now, with auth_time now.
  void PutCode(const std::string& code, AuthCode entry);
  // Consumes `code`: single use, spent by the first attempt whether or not it then succeeds.
  // nullopt when unknown or expired.
  std::optional<AuthCode> TakeCode(std::string_view code);

  // Starts session `sid` for `user_id`, signed in at `auth_time`.
  void StartSession(const std::string& sid, std::string user_id, std::string client_id,
                    int64_t auth_time);
  bool HasSession(std::string_view sid) const;
  // The session's auth_time, nullopt when it does not exist.
  std::optional<int64_t> AuthTime(std::string_view sid) const;
  // Logout: ends the session; its refresh tokens stop working with it (UseRefresh needs the
  // session) and expire on their own.
  void EndSession(std::string_view sid);

  // Records refresh token `jti` of session `sid`, valid until `expires_at` (seconds).
  void AddRefresh(const std::string& jti, const std::string& sid, int64_t expires_at);
  // Spends refresh token `jti` presented for session `sid` (rotation: each works once). A spent
  // token coming back means two parties hold this session's tokens and we cannot tell which is
  // the user, so the whole family is revoked (OAuth 2.0 Security BCP, RFC 9700 §4.14.2).
  RefreshResult UseRefresh(std::string_view jti, std::string_view sid);

 private:
  struct Session {
    std::string user_id;
    std::string client_id;
    int64_t auth_time = 0;
    int64_t last_refresh = 0;
  };
  struct RefreshEntry {
    std::string sid;
    int64_t expires_at = 0;
    // Rotation spends a refresh token but keeps its entry until it expires, so that the spent
    // token coming back is recognised as reuse (a copy in a thief's hands) and not as junk.
    bool used = false;
  };

  void PruneLocked(int64_t now);
  // Ends session `sid` and every refresh token of its family.
  void RevokeSessionLocked(std::string_view sid);

  const core::Clock& clock_;
  const Lifetimes lifetimes_;
  mutable std::mutex mu_;
  std::map<std::string, AuthCode, std::less<>> codes_;
  std::map<std::string, Session, std::less<>> sessions_;
  std::map<std::string, RefreshEntry, std::less<>> refresh_;  // by jti
};

}  // namespace chat::devidp
