#include "handlers/user_search_service.hpp"

#include <string>
#include <thread>
#include <utility>

#include "chat/contracts/ids.hpp"
#include "chat/contracts/subjects.hpp"

namespace chat::user_search_service {
namespace {

namespace subjects = contracts::subjects;
using runtime::Dispatcher;
using runtime::RequestContext;

constexpr std::chrono::seconds kStartupRetryWait{2};

}  // namespace

UserSearchService::UserSearchService(UserSearchConfig config, runtime::Bus& bus,
                                     const core::Clock& clock)
    : config_(std::move(config)),
      metrics_(UserSearchMetrics::Create(*bus.telemetry().metrics)),
      idp_(std::make_unique<IdpAdminClient>(config_, bus.telemetry(), clock)),
      limiter_(config_.rate_per_minute, config_.rate_burst, clock),
      dispatcher_(std::make_unique<Dispatcher>(bus, clock)) {}

UserSearchService::~UserSearchService() { dispatcher_.reset(); }

core::Result<std::unique_ptr<UserSearchService>> UserSearchService::Create(
    const UserSearchConfig& config, runtime::Bus& bus, const core::Clock& clock) {
  std::unique_ptr<UserSearchService> s(new UserSearchService(config, bus, clock));
  const telemetry::Telemetry& tel = bus.telemetry();
  core::Status token;
  for (int attempt = 1; attempt <= config.startup_attempts; ++attempt) {
    token = s->idp_->EnsureToken(telemetry::SpanContext{});
    if (token.ok()) break;
    tel.logger->Warn("admin token not obtained yet; retrying",
                     {{"exception.message", token.message()}});
    if (attempt < config.startup_attempts) std::this_thread::sleep_for(kStartupRetryWait);
  }
  if (!token.ok()) {
    return core::Unavailable("no admin token from the identity provider after " +
                             std::to_string(config.startup_attempts) +
                             " attempts: " + token.message());
  }
  tel.logger->Info("admin token obtained", {{"server.address", config.idp_url}});
  CHAT_RETURN_IF_ERROR(s->Register());
  return s;
}

core::Status UserSearchService::Register() {
  return dispatcher_->Serve<runtime::RawPayload>(
      subjects::kUsersSearch, {.metrics = &metrics_->search},
      [this](const runtime::RawPayload& body, RequestContext& ctx) {
        return HandleSearch(body, ctx);
      });
}

core::Result<contracts::UserSearchReply> UserSearchService::HandleSearch(
    const runtime::RawPayload& body, RequestContext& ctx) {
  // The searcher is the subject's user (docs/adr/0001 mechanism 2): only they may publish
  // users.search.{their name}, and the dispatcher refuses a reply subject outside their inbox.
  // It keys the rate-limit bucket, so it must be a real username (bounding invented names), and
  // a request nobody can be answered on (no reply subject) must not spend anyone's budget.
  if (ctx.user().empty() || ctx.reply_to().empty()) {
    return core::PermissionDenied("users.search needs a signed-in user's reply inbox");
  }
  if (!contracts::ValidateUsername(ctx.user()).ok()) {
    return core::InvalidArgument("the subject's user is not a valid username");
  }
  if (body.bytes.size() > kMaxBodyBytes) {
    return core::InvalidArgument("search request body exceeds " + std::to_string(kMaxBodyBytes) +
                                 " bytes");
  }
  CHAT_ASSIGN_OR_RETURN(std::string query, contracts::ParseUserSearchQuery(body.bytes));
  std::chrono::milliseconds retry_after{0};
  if (!limiter_.TryAcquire(ctx.user(), retry_after)) {
    ctx.SetResult("rate_limited");
    ctx.span().AddEvent("rate_limited");
    const int64_t seconds = (retry_after.count() + 999) / 1000;
    return core::ResourceExhausted("too many user searches; retry in " + std::to_string(seconds) +
                                   " s");
  }
  auto users = idp_->SearchUsers(query, contracts::kMaxUserSearchResults, ctx.span_context());
  if (!users.ok()) {
    ctx.SetResult("unavailable");
    return core::Unavailable("user directory unavailable: " + users.status().message());
  }
  contracts::UserSearchReply reply;
  reply.users.reserve(users->size());
  for (auto& u : *users) {
    reply.users.push_back({std::move(u.username), std::move(u.first_name), std::move(u.last_name)});
  }
  return reply;
}

void UserSearchService::Drain(std::chrono::milliseconds timeout) { dispatcher_->Drain(timeout); }

}  // namespace chat::user_search_service
