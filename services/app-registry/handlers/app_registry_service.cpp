#include "handlers/app_registry_service.hpp"

#include <string>
#include <utility>

#include "chat/contracts/attributes.hpp"
#include "chat/contracts/ids.hpp"
#include "chat/contracts/subjects.hpp"

namespace chat::app_registry_service {
namespace {

namespace attr = contracts::attr;
namespace subjects = contracts::subjects;
using runtime::Dispatcher;
using runtime::RequestContext;

// chat.app.id is an enum (observability §4.3): the seeded apps, else `unknown`.
std::string_view AppIdAttribute(std::string_view app_id) {
  if (app_id == "poll" || app_id == "kb" || app_id == "whiteboard") return app_id;
  return "unknown";
}

}  // namespace

AppRegistryService::AppRegistryService(AppRegistryConfig config, runtime::Bus& bus,
                                       const core::Clock& clock)
    : config_(std::move(config)),
      metrics_(AppRegistryMetrics::Create(*bus.telemetry().metrics)),
      dispatcher_(std::make_unique<Dispatcher>(bus, clock)) {}

AppRegistryService::~AppRegistryService() {
  if (members_) members_->Stop();
  dispatcher_.reset();
}

core::Result<std::unique_ptr<AppRegistryService>> AppRegistryService::Create(
    const AppRegistryConfig& config, runtime::Bus& bus, const core::Clock& clock) {
  std::unique_ptr<AppRegistryService> s(new AppRegistryService(config, bus, clock));
  CHAT_ASSIGN_OR_RETURN(s->repo_, AppRepository::Connect(config, bus.telemetry()));
  CHAT_ASSIGN_OR_RETURN(s->js_, bus.OpenJetStream({}));
  CHAT_ASSIGN_OR_RETURN(s->members_, membership::RoomMembers::Start(bus, *s->js_, *s->dispatcher_,
                                                                    config.rooms_limits));
  CHAT_RETURN_IF_ERROR(s->Register());
  return s;
}

core::Status AppRegistryService::Register() {
  CHAT_RETURN_IF_ERROR(dispatcher_->Serve<runtime::IgnoredBody>(
      subjects::kAppsList, {.metrics = &metrics_->list},
      [this](const runtime::IgnoredBody&, RequestContext& ctx) { return HandleList(ctx); }));
  CHAT_RETURN_IF_ERROR(dispatcher_->Serve<runtime::IgnoredBody>(
      subjects::kAppsRoom, {.metrics = &metrics_->room},
      [this](const runtime::IgnoredBody&, RequestContext& ctx) { return HandleRoom(ctx); }));
  CHAT_RETURN_IF_ERROR(dispatcher_->Serve<contracts::AppInstallRequest>(
      subjects::kAppsInstall, {.metrics = &metrics_->install},
      [this](const contracts::AppInstallRequest& req, RequestContext& ctx) {
        return HandleInstall(req, ctx);
      }));
  return dispatcher_->Serve<contracts::AppUninstallRequest>(
      subjects::kAppsUninstall, {.metrics = &metrics_->uninstall},
      [this](const contracts::AppUninstallRequest& req, RequestContext& ctx) {
        return HandleUninstall(req, ctx);
      });
}

core::Status AppRegistryService::RequireManager(RequestContext& ctx, std::string_view room) {
  CHAT_RETURN_IF_ERROR(contracts::ValidateRoomKey(room));
  const std::string_view user = ctx.user();
  if (contracts::IsDmRoom(room)) {
    ctx.span().SetAttribute(attr::kRoomType, "dm");
    return core::FailedPrecondition("apps cannot be installed in direct messages");
  }
  const bool platform_admin = members_->index().IsMember(contracts::kAdminMembershipRoom, user);
  if (contracts::IsAdminRoom(room) || room == contracts::kAdminMembershipRoom) {
    ctx.span().SetAttribute(attr::kRoomType, "admin");
    if (platform_admin) return core::Status();
    return core::PermissionDenied("only admins may manage the admin channel's apps");
  }
  // Fail closed: a private room's roles are unknown while the database is down.
  CHAT_ASSIGN_OR_RETURN(RoomAuthority authority, repo_->Authority(ctx.span_context(), room, user));
  if (authority.managed) {
    ctx.span().SetAttribute(attr::kRoomType, "private");
    if (authority.role == contracts::RoomRole::kOwner ||
        authority.role == contracts::RoomRole::kAdmin) {
      return core::Status();
    }
    return core::PermissionDenied("only the room's owner or an admin of the room may do this");
  }
  ctx.span().SetAttribute(attr::kRoomType, "public");
  if (platform_admin) return core::Status();
  return core::PermissionDenied("only admins may manage a public room's apps");
}

core::Status AppRegistryService::RequireApp(RequestContext& ctx, std::string_view app_id) {
  ctx.span().SetAttribute(attr::kAppId, AppIdAttribute(app_id));
  CHAT_ASSIGN_OR_RETURN(bool exists, repo_->AppExists(ctx.span_context(), app_id));
  if (!exists) {
    ctx.SetResult("invalid");
    return core::NotFound("unknown app id");
  }
  return core::Status();
}

core::Result<contracts::AppList> AppRegistryService::HandleList(RequestContext& ctx) {
  contracts::AppList reply;
  CHAT_ASSIGN_OR_RETURN(reply.apps, repo_->ListApps(ctx.span_context()));
  return reply;
}

core::Result<contracts::RoomAppList> AppRegistryService::HandleRoom(RequestContext& ctx) {
  const std::string room(ctx.Arg("room"));
  CHAT_RETURN_IF_ERROR(
      members_->RequireAppUser(ctx, room, "only members of the room may list its apps"));
  contracts::RoomAppList reply;
  CHAT_ASSIGN_OR_RETURN(reply.apps, repo_->RoomApps(ctx.span_context(), room));
  return reply;
}

core::Result<contracts::OkReply> AppRegistryService::HandleInstall(
    const contracts::AppInstallRequest& req, RequestContext& ctx) {
  const std::string room(ctx.Arg("room"));
  CHAT_RETURN_IF_ERROR(RequireManager(ctx, room));
  CHAT_RETURN_IF_ERROR(RequireApp(ctx, req.app_id));
  CHAT_ASSIGN_OR_RETURN(
      bool inserted, repo_->Install(ctx.span_context(), room, req.app_id, ctx.user(), req.config));
  if (!inserted) {
    ctx.span().AddEvent("already_installed");  // re-install is a no-op (§3.3.9)
  } else {
    ctx.log().Info(ctx.span_context(), "app installed",
                   {{attr::kRoom, room}, {attr::kAppId, req.app_id}, {attr::kUser, ctx.user()}});
  }
  return contracts::OkReply{};
}

core::Result<contracts::OkReply> AppRegistryService::HandleUninstall(
    const contracts::AppUninstallRequest& req, RequestContext& ctx) {
  const std::string room(ctx.Arg("room"));
  CHAT_RETURN_IF_ERROR(RequireManager(ctx, room));
  CHAT_RETURN_IF_ERROR(RequireApp(ctx, req.app_id));
  CHAT_ASSIGN_OR_RETURN(bool deleted, repo_->Uninstall(ctx.span_context(), room, req.app_id));
  if (!deleted) {
    ctx.span().AddEvent("not_installed");
  } else {
    ctx.log().Info(ctx.span_context(), "app uninstalled",
                   {{attr::kRoom, room}, {attr::kAppId, req.app_id}, {attr::kUser, ctx.user()}});
  }
  return contracts::OkReply{};
}

void AppRegistryService::Drain(std::chrono::milliseconds timeout) {
  if (members_) members_->Stop();
  dispatcher_->Drain(timeout);
}

}  // namespace chat::app_registry_service
