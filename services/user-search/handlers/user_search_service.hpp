// user-search-service (system.md §3.3.8, §6.10): users.search.{user} answers up to 20 users of
// the realm — only username, firstName and lastName — found through the identity provider's
// admin API (IdpAdminClient) and kept only when the query is in one of those three fields (never
// a match on the e-mail alone). Only a signed-in user may search: the acting user is the
// subject's `{user}`, which only that user may publish (docs/adr/0001 mechanism 2; the reply must
// go to their own inbox), never the body, and each user's searches are rate limited
// (RateLimiter). Every refusal is an ErrorReply, counted and logged by the dispatcher.
#pragma once

#include <chrono>
#include <cstddef>
#include <memory>
#include <vector>

#include "chat/contracts/users.hpp"
#include "chat/core/clock.hpp"
#include "chat/core/result.hpp"
#include "chat/runtime/bus.hpp"
#include "chat/runtime/dispatcher.hpp"
#include "chat/runtime/service_main.hpp"
#include "config.hpp"
#include "idp/admin_client.hpp"
#include "metrics.hpp"
#include "rate_limiter.hpp"

namespace chat::user_search_service {

// A users.search.{user} body is the query itself; anything longer than this is refused before it is
// looked at (the trimmed query may be at most contracts::kMaxUserSearchQueryBytes).
inline constexpr std::size_t kMaxBodyBytes = 1024;

class UserSearchService final : public runtime::Service {
 public:
  // Obtains the first admin token (config.startup_attempts tries, 2 s apart: the IdP may start
  // after us), then serves users.search.{user}. `bus` and `clock` must outlive it.
  static core::Result<std::unique_ptr<UserSearchService>> Create(const UserSearchConfig& config,
                                                                 runtime::Bus& bus,
                                                                 const core::Clock& clock);
  ~UserSearchService() override;
  UserSearchService(const UserSearchService&) = delete;
  UserSearchService& operator=(const UserSearchService&) = delete;
  UserSearchService(UserSearchService&&) = delete;
  UserSearchService& operator=(UserSearchService&&) = delete;

  void Drain(std::chrono::milliseconds timeout) override;
  // The routes registered on this service's dispatcher (README "Routes" test).
  std::vector<runtime::RouteInfo> Routes() const { return dispatcher_->Routes(); }
  const IdpAdminClient& idp() const { return *idp_; }

 private:
  UserSearchService(UserSearchConfig config, runtime::Bus& bus, const core::Clock& clock);
  core::Status Register();

  core::Result<contracts::UserSearchReply> HandleSearch(const runtime::RawPayload& body,
                                                        runtime::RequestContext& ctx);

  UserSearchConfig config_;
  std::unique_ptr<UserSearchMetrics> metrics_;
  std::unique_ptr<IdpAdminClient> idp_;
  RateLimiter limiter_;

  // Last member: destroyed first, so no handler runs while the rest is torn down.
  std::unique_ptr<runtime::Dispatcher> dispatcher_;
};

}  // namespace chat::user_search_service
