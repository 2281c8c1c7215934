#include "handlers/whiteboard_service.hpp"

#include <random>
#include <unordered_map>
#include <utility>

#include "chat/contracts/apps.hpp"
#include "chat/contracts/attributes.hpp"
#include "chat/contracts/ids.hpp"
#include "chat/contracts/replies.hpp"
#include "chat/contracts/subjects.hpp"
#include "chat/telemetry/semconv.hpp"
#include "handlers/board_elements.hpp"

namespace chat::whiteboard_service {
namespace {

namespace attr = contracts::attr;
using runtime::Dispatcher;
using runtime::RawReply;
using runtime::RequestContext;

constexpr int kCreateAttempts = 3;  // id collisions of 8 base-36 characters are rare

// 8 random base-36 characters (system.md §3.3.10).
std::string NewBoardId() {
  static constexpr std::string_view kAlphabet = "0123456789abcdefghijklmnopqrstuvwxyz";
  thread_local std::mt19937_64 rng{std::random_device{}()};
  std::uniform_int_distribution<size_t> pick(0, kAlphabet.size() - 1);
  std::string id(8, '0');
  for (char& c : id) c = kAlphabet[pick(rng)];
  return id;
}

// The body's user, when present, must be the subject's (docs/adr/0001).
core::Status SameUser(std::string_view body_user, std::string_view user) {
  if (!body_user.empty() && body_user != user) {
    return core::InvalidArgument("the body's user does not match the subject's user");
  }
  return core::Status();
}

template <typename T>
core::Result<T> Decode(std::string_view body, std::string_view user) {
  CHAT_ASSIGN_OR_RETURN(T req,
                        contracts::FromJson<T>(body.empty() ? std::string_view("{}") : body));
  CHAT_RETURN_IF_ERROR(SameUser(req.user, user));
  return req;
}

}  // namespace

WhiteboardService::WhiteboardService(WhiteboardConfig config, runtime::Bus& bus,
                                     const core::Clock& clock)
    : config_(std::move(config)),
      metrics_(WhiteboardMetrics::Create(*bus.telemetry().metrics)),
      delta_batches_(static_cast<size_t>(config_.max_delta_batch)),
      dispatcher_(std::make_unique<Dispatcher>(bus, clock)) {}

WhiteboardService::~WhiteboardService() {
  if (members_) members_->Stop();
  dispatcher_.reset();
}

core::Result<std::unique_ptr<WhiteboardService>> WhiteboardService::Create(
    const WhiteboardConfig& config, runtime::Bus& bus, const core::Clock& clock) {
  std::unique_ptr<WhiteboardService> s(new WhiteboardService(config, bus, clock));
  CHAT_ASSIGN_OR_RETURN(s->repo_, BoardRepository::Connect(config, bus.telemetry()));
  CHAT_ASSIGN_OR_RETURN(s->js_, bus.OpenJetStream({}));
  CHAT_ASSIGN_OR_RETURN(s->members_, membership::RoomMembers::Start(bus, *s->js_, *s->dispatcher_,
                                                                    config.rooms_limits));
  CHAT_RETURN_IF_ERROR(s->Register());
  return s;
}

core::Status WhiteboardService::Register() {
  runtime::RouteOptions options;
  options.metrics = &metrics_->route;
  options.concurrency = config_.concurrency;
  return dispatcher_->Serve<runtime::RawPayload>(
      contracts::subjects::kAppWhiteboardRequest, options,
      [this](const runtime::RawPayload& body, RequestContext& ctx) {
        return HandleRequest(body, ctx);
      });
}

core::Result<RawReply> WhiteboardService::HandleRequest(const runtime::RawPayload& body,
                                                        RequestContext& ctx) {
  const std::string_view action = metrics_->route.subject_label->Of(ctx.Arg("action"));
  if (ctx.span().IsRecording()) {
    ctx.span().SetAttribute(attr::kAppId, kAppId);
    ctx.span().SetAttribute(attr::kAppAction, action);
  }
  const std::string room(ctx.Arg("room"));
  CHAT_RETURN_IF_ERROR(members_->RequireAppUser(
      ctx, room, "only current members of the room may use its whiteboards"));
  // Only a room's managers install apps (app-registry-service); members use what they chose.
  CHAT_ASSIGN_OR_RETURN(bool installed, repo_->IsInstalled(ctx.span_context(), room));
  if (!installed) return contracts::AppNotInstalled(kAppId);
  if (action == "list") return List(room, ctx);
  if (action == "create") return CreateBoard(room, body.bytes, ctx);
  if (action == "load") return Load(room, body.bytes, ctx);
  if (action == "delta") return Delta(room, body.bytes, ctx);
  if (action == "delete") return DeleteBoard(room, body.bytes, ctx);
  return core::InvalidArgument("unknown action");
}

core::Result<RawReply> WhiteboardService::List(std::string_view room, RequestContext& ctx) {
  contracts::WhiteboardListReply reply;
  CHAT_ASSIGN_OR_RETURN(reply.boards, repo_->List(ctx.span_context(), room));
  return RawReply{contracts::ToJson(reply)};
}

core::Result<RawReply> WhiteboardService::CreateBoard(std::string_view room, std::string_view body,
                                                      RequestContext& ctx) {
  CHAT_ASSIGN_OR_RETURN(auto req, Decode<contracts::WhiteboardCreateRequest>(body, ctx.user()));
  contracts::WhiteboardCreateReply reply;
  reply.name = req.name.empty() ? std::string(contracts::kDefaultWhiteboardName) : req.name;
  reply.created_by = std::string(ctx.user());
  core::Status status;
  for (int attempt = 0; attempt < kCreateAttempts; ++attempt) {
    reply.id = NewBoardId();
    status = repo_->Create(ctx.span_context(), room, reply.id, reply.name, reply.created_by,
                           config_.max_boards_per_room);
    if (status.code() != core::ErrorCode::kAlreadyExists) break;
  }
  if (status.code() == core::ErrorCode::kAlreadyExists) {
    return core::Internal("could not draw an unused board id");
  }
  CHAT_RETURN_IF_ERROR(status);
  ctx.log().Info(ctx.span_context(), "board created",
                 {{attr::kRoom, std::string(room)}, {"chat.whiteboard.board_id", reply.id}});
  return RawReply{contracts::ToJson(reply)};
}

core::Result<RawReply> WhiteboardService::Load(std::string_view room, std::string_view body,
                                               RequestContext& ctx) {
  CHAT_ASSIGN_OR_RETURN(auto req, Decode<contracts::WhiteboardBoardRequest>(body, ctx.user()));
  CHAT_ASSIGN_OR_RETURN(StoredBoard stored, repo_->Load(ctx.span_context(), room, req.board_id));
  contracts::WhiteboardBoard reply;
  reply.id = std::move(stored.id);
  reply.name = std::move(stored.name);
  reply.created_by = std::move(stored.created_by);
  auto elements = contracts::WhiteboardElementsFromJson(stored.elements);
  if (!elements.ok()) return core::Internal("the stored board does not decode");
  reply.elements = std::move(*elements);
  return RawReply{contracts::ToJson(reply)};
}

core::Result<RawReply> WhiteboardService::Delta(std::string_view room, std::string_view body,
                                                RequestContext& ctx) {
  CHAT_ASSIGN_OR_RETURN(auto req, Decode<contracts::WhiteboardDeltaRequest>(body, ctx.user()));
  if (static_cast<int64_t>(req.elements.size()) > config_.max_delta_elements) {
    return core::InvalidArgument("a delta may carry at most " +
                                 std::to_string(config_.max_delta_elements) + " elements");
  }
  PendingDelta delta{&req.elements, core::Status(), {}, {}};
  const auto served = delta_batches_.Submit(
      BatchKey(room, req.board_id), delta, [&](const std::vector<PendingDelta*>& batch) {
        MergeBatch(ctx.span_context(), room, req.board_id, batch);
      });
  if (served.batch_size > 1) {
    // observability §5.1 "Batched rows", as persist-worker: the statement that stored this delta
    // is findable from its request, whichever request's span it is a child of.
    ctx.span().AddEvent("board_merged",
                        {{attr::kBatchSize, static_cast<int64_t>(served.batch_size)},
                         {telemetry::semconv::kDbCollectionName, "whiteboard_boards"}});
    if (!served.led && delta.update_span.IsValid()) {
      ctx.span().AddLink(delta.update_span, {{telemetry::semconv::kChatLinkReason, "batch"}});
    }
  }
  CHAT_RETURN_IF_ERROR(delta.status);
  std::vector<contracts::WhiteboardElement> changed = std::move(delta.changed);
  ctx.span().SetAttribute("chat.whiteboard.changed", static_cast<int64_t>(changed.size()));
  if (!changed.empty()) {
    contracts::WhiteboardSync sync;
    sync.board_id = req.board_id;
    sync.elements = std::move(changed);
    sync.sender = std::string(ctx.user());
    // Stored already: a lost broadcast is repaired by the next load, so it does not fail the
    // request; it is recorded on the span and logged.
    core::Status published = ctx.Publish(contracts::subjects::kAppEvent, {kAppId, room, "sync"},
                                         contracts::ToJson(sync));
    if (!published.ok()) {
      ctx.span().AddEvent("sync_publish_failed",
                          {{"error.type", std::string(core::ErrorCodeName(published.code()))}});
      ctx.log().Warn(ctx.span_context(), "whiteboard sync broadcast failed",
                     {{"error.type", std::string(core::ErrorCodeName(published.code()))}});
    }
  }
  return RawReply{contracts::ToJson(contracts::OkReply{})};
}

void WhiteboardService::MergeBatch(const telemetry::SpanContext& parent, std::string_view room,
                                   std::string_view board_id,
                                   const std::vector<PendingDelta*>& batch) {
  auto update = repo_->MergeElements(
      parent, room, board_id,
      [&](std::string_view stored_json) -> core::Result<std::optional<std::string>> {
        auto stored = contracts::WhiteboardElementsFromJson(stored_json);
        if (!stored.ok()) return core::Internal("the stored board does not decode");
        BoardElements board(std::move(*stored));
        bool any = false;
        for (PendingDelta* d : batch) {
          d->changed.clear();
          d->status = board.Apply(*d->elements, config_.max_board_bytes, d->changed);
          any = any || !d->changed.empty();
        }
        if (!any) return std::optional<std::string>();
        return std::optional<std::string>(board.ToJson());
      });
  for (PendingDelta* d : batch) {
    if (update.ok()) {
      d->update_span = *update;
      continue;
    }
    // Nothing was stored: no delta of the batch changed anything. A delta refused on its own
    // keeps its own reason.
    d->changed.clear();
    if (d->status.ok()) d->status = update.status();
  }
}

core::Result<RawReply> WhiteboardService::DeleteBoard(std::string_view room, std::string_view body,
                                                      RequestContext& ctx) {
  CHAT_ASSIGN_OR_RETURN(auto req, Decode<contracts::WhiteboardBoardRequest>(body, ctx.user()));
  CHAT_ASSIGN_OR_RETURN(int64_t deleted, repo_->Delete(ctx.span_context(), room, req.board_id));
  if (deleted > 0) {
    ctx.log().Info(ctx.span_context(), "board deleted",
                   {{attr::kRoom, std::string(room)}, {"chat.whiteboard.board_id", req.board_id}});
  }
  return RawReply{contracts::ToJson(contracts::OkReply{})};
}

void WhiteboardService::Drain(std::chrono::milliseconds timeout) {
  if (members_) members_->Stop();
  dispatcher_->Drain(timeout);
}

}  // namespace chat::whiteboard_service
