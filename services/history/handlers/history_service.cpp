#include "handlers/history_service.hpp"

#include <utility>

#include "chat/contracts/attributes.hpp"
#include "chat/contracts/ids.hpp"
#include "chat/contracts/subjects.hpp"

namespace chat::history_service {
namespace {

namespace attr = contracts::attr;
using runtime::Dispatcher;
using runtime::RequestContext;

}  // namespace

HistoryService::HistoryService(runtime::Bus& bus, const core::Clock& clock)
    : metrics_(HistoryMetrics::Create(*bus.telemetry().metrics)),
      dispatcher_(std::make_unique<Dispatcher>(bus, clock)) {}

HistoryService::~HistoryService() { dispatcher_.reset(); }

core::Result<std::unique_ptr<HistoryService>> HistoryService::Create(const HistoryConfig& config,
                                                                     runtime::Bus& bus,
                                                                     const core::Clock& clock) {
  std::unique_ptr<HistoryService> service(new HistoryService(bus, clock));
  CHAT_ASSIGN_OR_RETURN(service->repo_, HistoryRepository::Connect(config, bus.telemetry()));
  CHAT_ASSIGN_OR_RETURN(service->js_, bus.OpenJetStream({}));
  // ROOMS belongs to room-service; when it does not exist yet it is bound on first use.
  auto rooms = service->js_->BindKeyValue(std::string(contracts::jetstream::kBucketRooms));
  if (rooms.ok()) {
    service->rooms_ = std::move(*rooms);
  } else {
    bus.telemetry().logger->Warn("ROOMS bucket not bound yet; admin-room history will retry",
                                 {{"error.type", core::ErrorCodeName(rooms.status().code())}});
  }
  CHAT_RETURN_IF_ERROR(service->Register(static_cast<int>(config.db_pool_size)));
  return service;
}

core::Status HistoryService::Register(int concurrency) {
  CHAT_RETURN_IF_ERROR(dispatcher_->Serve<runtime::RawPayload>(
      contracts::subjects::kHistory, {.metrics = &metrics_->room, .concurrency = concurrency},
      [this](const runtime::RawPayload& body, RequestContext& ctx) {
        auto req = contracts::FromJson<contracts::HistoryRequest>(body.bytes);
        if (!req.ok()) return core::Result<contracts::HistoryPage>(req.status());
        return HandleRoom(*req, ctx);
      }));
  CHAT_RETURN_IF_ERROR(dispatcher_->Serve<runtime::IgnoredBody>(
      contracts::subjects::kHistoryThread,
      {.metrics = &metrics_->thread, .concurrency = concurrency},
      [this](const runtime::IgnoredBody&, RequestContext& ctx) { return HandleThread(ctx); }));
  CHAT_RETURN_IF_ERROR(dispatcher_->Serve<runtime::IgnoredBody>(
      contracts::subjects::kHistoryDms,
      {.metrics = &metrics_->dm_discovery, .concurrency = concurrency},
      [this](const runtime::IgnoredBody&, RequestContext& ctx) { return HandleDms(ctx); }));
  return core::Status();
}

void HistoryService::Drain(std::chrono::milliseconds timeout) { dispatcher_->Drain(timeout); }

core::Result<runtime::KeyValue*> HistoryService::RoomsBucket() {
  std::lock_guard<std::mutex> lock(rooms_mu_);
  if (rooms_ == nullptr) {
    auto rooms = js_->BindKeyValue(std::string(contracts::jetstream::kBucketRooms));
    if (!rooms.ok()) return core::Unavailable("room membership store is unavailable");
    rooms_ = std::move(*rooms);
  }
  return rooms_.get();
}

core::Status HistoryService::CheckAccess(std::string_view room, std::string_view user,
                                         RequestContext& ctx) {
  if (contracts::IsDmRoom(room)) {
    ctx.span().SetAttribute(attr::kRoomType, "dm");
    if (contracts::IsDmParticipant(room, user)) return core::Status();
    return core::PermissionDenied("only the two participants may read a direct message");
  }
  if (contracts::IsAdminRoom(room)) {
    ctx.span().SetAttribute(attr::kRoomType, "admin");
    CHAT_ASSIGN_OR_RETURN(runtime::KeyValue * rooms, RoomsBucket());
    auto entry =
        rooms->Get(std::string(kAdminMembershipRoom) + "." + std::string(user), ctx.span_context());
    if (entry.ok()) return core::Status();
    if (entry.status().code() == core::ErrorCode::kNotFound) {
      return core::PermissionDenied("only admins may read the admin channel");
    }
    return core::Unavailable("room membership store is unavailable");
  }
  CHAT_ASSIGN_OR_RETURN(RoomAccess access, repo_->Access(ctx.span_context(), room, user));
  ctx.span().SetAttribute(attr::kRoomType, access.managed ? "private" : "public");
  if (access.managed && !access.is_member) {
    return core::PermissionDenied("not a member of this private room");
  }
  return core::Status();
}

core::Result<contracts::HistoryPage> HistoryService::HandleRoom(
    const contracts::HistoryRequest& req, RequestContext& ctx) {
  std::string room(ctx.Arg("room"));
  CHAT_RETURN_IF_ERROR(contracts::ValidateRoomKey(room));
  CHAT_RETURN_IF_ERROR(CheckAccess(room, ctx.user(), ctx));
  std::int64_t limit = req.limit == 0 ? contracts::kDefaultHistoryLimit : req.limit;
  CHAT_ASSIGN_OR_RETURN(contracts::HistoryPage page,
                        repo_->RoomPage(ctx.span_context(), room, req.before, limit));
  ctx.span().SetAttribute(attr::kHistoryReturned, static_cast<int64_t>(page.messages.size()));
  return page;
}

core::Result<contracts::HistoryThreadReply> HistoryService::HandleThread(RequestContext& ctx) {
  std::string room(ctx.Arg("room"));
  std::string thread_id(ctx.Arg("thread_id"));
  ctx.span().SetAttribute(attr::kThreadId, thread_id);
  CHAT_RETURN_IF_ERROR(contracts::ValidateRoomKey(room));
  // The reference ignored the room token; here the thread must belong to the room whose
  // membership was checked, or a private thread could be read through a public room's subject.
  CHAT_ASSIGN_OR_RETURN(auto parsed, contracts::ParseThreadId(thread_id));
  if (parsed.first != room) {
    return core::InvalidArgument("the thread id does not belong to the room");
  }
  CHAT_RETURN_IF_ERROR(CheckAccess(room, ctx.user(), ctx));
  contracts::HistoryThreadReply reply;
  CHAT_ASSIGN_OR_RETURN(reply.messages,
                        repo_->Thread(ctx.span_context(), room, thread_id, kThreadLimit));
  ctx.span().SetAttribute(attr::kHistoryReturned, static_cast<int64_t>(reply.messages.size()));
  return reply;
}

core::Result<contracts::DmListReply> HistoryService::HandleDms(RequestContext& ctx) {
  contracts::DmListReply reply;
  CHAT_ASSIGN_OR_RETURN(reply.rooms, repo_->DmRooms(ctx.span_context(), ctx.user()));
  ctx.span().SetAttribute(attr::kHistoryReturned, static_cast<int64_t>(reply.rooms.size()));
  return reply;
}

}  // namespace chat::history_service
