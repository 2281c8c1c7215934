// SessionStore: codes, sessions and refresh-token families in memory (see session_store.hpp).
#include "session_store.hpp"

#include <iterator>
#include <utility>

namespace chat::devidp {

SessionStore::SessionStore(const core::Clock& clock, Lifetimes lifetimes)
    : clock_(clock), lifetimes_(lifetimes) {}

int64_t SessionStore::NowSeconds() const {
  return std::chrono::duration_cast<std::chrono::seconds>(clock_.Now().time_since_epoch()).count();
}

void SessionStore::PruneLocked(int64_t now) {
  // Bounded work per call keeps this O(expired); maps stay small in a dev issuer.
  for (auto it = codes_.begin(); it != codes_.end();) {
    it = it->second.expires_at <= now ? codes_.erase(it) : std::next(it);
  }
  for (auto it = refresh_.begin(); it != refresh_.end();) {
    it = it->second.expires_at <= now ? refresh_.erase(it) : std::next(it);
  }
  for (auto it = sessions_.begin(); it != sessions_.end();) {
    bool dead = it->second.auth_time + lifetimes_.session_max.count() <= now ||
                it->second.last_refresh + lifetimes_.refresh_ttl.count() <= now;
    it = dead ? sessions_.erase(it) : std::next(it);
  }
}

void SessionStore::RevokeSessionLocked(std::string_view sid) {
  if (auto it = sessions_.find(sid); it != sessions_.end()) sessions_.erase(it);
  for (auto it = refresh_.begin(); it != refresh_.end();) {
    it = it->second.sid == sid ? refresh_.erase(it) : std::next(it);
  }
}

void SessionStore::PutCode(const std::string& code, AuthCode entry) {
  int64_t now = NowSeconds();
  entry.auth_time = now;
  entry.expires_at = now + lifetimes_.code_ttl.count();
  std::lock_guard lock(mu_);
  PruneLocked(now);
  codes_[code] = std::move(entry);
}

std::optional<SessionStore::AuthCode> SessionStore::TakeCode(std::string_view code) {
  int64_t now = NowSeconds();
  std::optional<AuthCode> entry;
  {
    std::lock_guard lock(mu_);
    auto it = codes_.find(code);
    if (it == codes_.end()) return std::nullopt;
    entry = std::move(it->second);
    codes_.erase(it);
  }
  if (entry->expires_at <= now) return std::nullopt;
  return entry;
}

void SessionStore::StartSession(const std::string& sid, std::string user_id, std::string client_id,
                                int64_t auth_time) {
  int64_t now = NowSeconds();
  std::lock_guard lock(mu_);
  PruneLocked(now);
  sessions_[sid] = Session{std::move(user_id), std::move(client_id), auth_time, now};
}

bool SessionStore::HasSession(std::string_view sid) const {
  std::lock_guard lock(mu_);
  return sessions_.find(sid) != sessions_.end();
}

std::optional<int64_t> SessionStore::AuthTime(std::string_view sid) const {
  std::lock_guard lock(mu_);
  auto it = sessions_.find(sid);
  if (it == sessions_.end()) return std::nullopt;
  return it->second.auth_time;
}

void SessionStore::EndSession(std::string_view sid) {
  std::lock_guard lock(mu_);
  if (auto it = sessions_.find(sid); it != sessions_.end()) sessions_.erase(it);
}

void SessionStore::AddRefresh(const std::string& jti, const std::string& sid, int64_t expires_at) {
  std::lock_guard lock(mu_);
  refresh_[jti] = RefreshEntry{sid, expires_at};
}

SessionStore::RefreshResult SessionStore::UseRefresh(std::string_view jti, std::string_view sid) {
  int64_t now = NowSeconds();
  RefreshResult result;
  std::lock_guard lock(mu_);
  PruneLocked(now);
  auto it = refresh_.find(jti);
  auto session = sessions_.find(sid);
  if (it != refresh_.end() && it->second.sid == sid && it->second.used) {
    result.outcome = RefreshOutcome::kReused;
    if (session != sessions_.end()) result.user_id = session->second.user_id;
    RevokeSessionLocked(sid);
  } else if (it == refresh_.end() || it->second.sid != sid || session == sessions_.end()) {
    result.outcome = RefreshOutcome::kNotActive;
  } else {
    it->second.used = true;
    session->second.last_refresh = now;
    result.outcome = RefreshOutcome::kRotated;
    result.user_id = session->second.user_id;
  }
  return result;
}

}  // namespace chat::devidp
