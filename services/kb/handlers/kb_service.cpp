#include "handlers/kb_service.hpp"

#include <algorithm>
#include <utility>

#include "chat/contracts/apps.hpp"
#include "chat/contracts/attributes.hpp"
#include "chat/contracts/ids.hpp"
#include "chat/contracts/replies.hpp"
#include "chat/contracts/subjects.hpp"
#include "chat/core/base64.hpp"
#include "sanitizer/html_sanitizer.hpp"

namespace chat::kb_service {
namespace {

namespace attr = contracts::attr;
using runtime::Dispatcher;
using runtime::RawReply;
using runtime::RequestContext;

constexpr std::string_view kAppId = "kb";
constexpr std::string_view kPresenceEvent = "presence";
constexpr size_t kMaxPageIdBytes = 64;
constexpr auto kKvReadTimeout = std::chrono::seconds(5);

// Page ids are the UUIDs create hands out; anything else never names a page (and must not reach
// a KV key).
core::Status CheckPageId(std::string_view page_id) {
  if (page_id.empty()) return core::InvalidArgument("pageId required");
  if (page_id.size() > kMaxPageIdBytes || !std::all_of(page_id.begin(), page_id.end(), [](char c) {
        return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
               c == '-';
      })) {
    return core::InvalidArgument("pageId is not a page id");
  }
  return core::Status();
}

// A page id that names no page of the room: not_found on the wire, counted as `invalid` (the
// metric's results are those of every app, observability §6.3).
core::Status PageNotFound(RequestContext& ctx) {
  ctx.SetResult("invalid");
  return core::NotFound("page not found");
}

RawReply Ok(bool ok) {
  contracts::OkReply reply;
  reply.ok = ok;
  return RawReply{contracts::ToJson(reply)};
}

// A parent that makes the periodic bucket scan's spans unsampled: a gauge refresh every few
// seconds is not a trace anyone needs.
telemetry::SpanContext Unsampled() {
  telemetry::SpanContext parent;
  parent.trace_id = telemetry::NewTraceId();
  parent.span_id = telemetry::NewSpanId();
  parent.trace_flags = 0;
  parent.is_remote = true;
  return parent;
}

}  // namespace

std::string EditorKey(std::string_view room, std::string_view page_id, std::string_view user) {
  std::string key(room);
  key += '.';
  key += page_id;
  key += '.';
  key += core::Base64UrlEncode(user);
  return key;
}

std::optional<std::string> EditorOfKey(std::string_view key) {
  size_t dot = key.rfind('.');
  if (dot == std::string_view::npos || dot + 1 == key.size()) return std::nullopt;
  auto user = core::Base64UrlDecode(key.substr(dot + 1));
  if (!user.ok() || !contracts::ValidateUsername(*user).ok()) return std::nullopt;
  return std::move(*user);
}

KbService::KbService(KbConfig config, runtime::Bus& bus, const core::Clock& clock)
    : config_(std::move(config)),
      telemetry_(bus.telemetry()),
      metrics_(KbMetrics::Create(*bus.telemetry().metrics)),
      dispatcher_(std::make_unique<Dispatcher>(bus, clock)) {}

KbService::~KbService() {
  if (members_) members_->Stop();
  dispatcher_.reset();
  StopGauge();
}

core::Result<std::unique_ptr<KbService>> KbService::Create(const KbConfig& config,
                                                           runtime::Bus& bus,
                                                           const core::Clock& clock) {
  std::unique_ptr<KbService> s(new KbService(config, bus, clock));
  CHAT_ASSIGN_OR_RETURN(s->repo_, PageRepository::Connect(config, bus.telemetry()));
  CHAT_ASSIGN_OR_RETURN(s->js_, bus.OpenJetStream({}));
  CHAT_ASSIGN_OR_RETURN(s->editors_, s->js_->CreateKeyValue(s->EditorsBucket()));
  CHAT_ASSIGN_OR_RETURN(s->members_,
                        membership::RoomMembers::Start(
                            bus, *s->js_, *s->dispatcher_, config.rooms_limits, [raw = s.get()] {
                              return raw->js_->CreateKeyValue(raw->EditorsBucket()).status();
                            }));
  CHAT_RETURN_IF_ERROR(s->Register());
  (void)s->CountEditors();  // a failure is logged; the loop retries
  s->gauge_ = std::thread([raw = s.get()] { raw->GaugeLoop(); });
  return s;
}

runtime::KeyValueConfig KbService::EditorsBucket() const {
  runtime::KeyValueConfig c;
  c.bucket = std::string(contracts::jetstream::kBucketKbEditors);
  c.ttl = config_.editing_ttl;
  c.memory_storage = true;
  c.max_bytes = config_.kb_editors_limits.max_bytes;
  c.max_value_size = config_.kb_editors_limits.max_value_size;
  return c;
}

core::Status KbService::Register() {
  return dispatcher_->Serve<contracts::KbRequest>(
      contracts::subjects::kAppKbRequest,
      {.metrics = &metrics_->route, .concurrency = config_.concurrency},
      [this](const contracts::KbRequest& req, RequestContext& ctx) {
        return HandleRequest(req, ctx);
      });
}

core::Status KbService::CheckTitle(std::string_view title) const {
  if (title.size() > config_.max_title_bytes) {
    return core::InvalidArgument("title too long: at most " +
                                 std::to_string(config_.max_title_bytes) + " bytes");
  }
  return core::Status();
}

core::Status KbService::CheckContent(std::string_view content) const {
  if (content.size() > config_.max_content_bytes) {
    return core::InvalidArgument("content too long: at most " +
                                 std::to_string(config_.max_content_bytes) + " bytes of HTML");
  }
  return core::Status();
}

core::Result<RawReply> KbService::HandleRequest(const contracts::KbRequest& req,
                                                RequestContext& ctx) {
  const std::string room(ctx.Arg("room"));
  const std::string_view action = ctx.Arg("action");
  const std::string_view label = metrics_->route.subject_label->Of(action);
  ctx.span().SetAttribute(attr::kAppId, kAppId);
  ctx.span().SetAttribute(attr::kAppAction, label);

  CHAT_RETURN_IF_ERROR(
      members_->RequireAppUser(ctx, room, "only members of the room may use its knowledge base"));
  // Only a room's managers install apps (app-registry-service); members use what they chose.
  CHAT_ASSIGN_OR_RETURN(bool installed, repo_->IsInstalled(ctx.span_context(), room));
  if (!installed) return contracts::AppNotInstalled(kAppId);
  const std::string user(ctx.user());

  if (label == "list") {
    CHAT_ASSIGN_OR_RETURN(auto pages, repo_->List(ctx.span_context(), room));
    return RawReply{contracts::ToJson(contracts::KbPageList{std::move(pages)})};
  }
  if (label == "create") {
    std::string title = req.title.empty() ? std::string("Untitled") : req.title;
    CHAT_RETURN_IF_ERROR(CheckTitle(title));
    CHAT_ASSIGN_OR_RETURN(auto created, repo_->Create(ctx.span_context(), room, title, user,
                                                      config_.max_pages_per_room));
    if (!created.has_value()) {
      return core::ResourceExhausted("the room already has the maximum of " +
                                     std::to_string(config_.max_pages_per_room) + " pages");
    }
    ctx.log().Info(ctx.span_context(), "kb page created",
                   {{attr::kRoom, room}, {attr::kUser, user}, {"chat.kb.page_id", created->id}});
    return RawReply{contracts::ToJson(*created)};
  }
  if (label == "load") {
    CHAT_RETURN_IF_ERROR(CheckPageId(req.page_id));
    CHAT_ASSIGN_OR_RETURN(auto page, repo_->Load(ctx.span_context(), room, req.page_id));
    if (!page.has_value()) return PageNotFound(ctx);
    // Stored content is sanitised on save; cleaning it again on the way out also covers rows
    // written before (or around) this service.
    page->content = SanitizeHtml(page->content);
    CHAT_ASSIGN_OR_RETURN(page->editors, Editors(room, req.page_id, ctx.span_context()));
    return RawReply{contracts::ToJson(*page)};
  }
  if (label == "save") return Save(req, room, ctx);
  if (label == "delete") {
    CHAT_RETURN_IF_ERROR(CheckPageId(req.page_id));
    CHAT_ASSIGN_OR_RETURN(bool deleted, repo_->Delete(ctx.span_context(), room, req.page_id));
    if (deleted) {
      ctx.log().Info(ctx.span_context(), "kb page deleted",
                     {{attr::kRoom, room}, {attr::kUser, user}, {"chat.kb.page_id", req.page_id}});
    } else {
      ctx.span().AddEvent("no_matching_row");
      ctx.SetResult("invalid");
    }
    return Ok(deleted);
  }
  if (label == "editing" || label == "stopedit") {
    return Presence(req, room, label == "editing", ctx);
  }
  return core::InvalidArgument(
      "unknown action (expected list, create, load, save, delete, editing or stopedit)");
}

core::Result<RawReply> KbService::Save(const contracts::KbRequest& req, std::string_view room,
                                       RequestContext& ctx) {
  CHAT_RETURN_IF_ERROR(CheckPageId(req.page_id));
  std::string title = req.title.empty() ? std::string("Untitled") : req.title;
  CHAT_RETURN_IF_ERROR(CheckTitle(title));
  CHAT_RETURN_IF_ERROR(CheckContent(req.content));
  std::string content = SanitizeHtml(req.content);
  CHAT_RETURN_IF_ERROR(CheckContent(content));  // links gain rel/target: it can grow a little
  CHAT_ASSIGN_OR_RETURN(
      bool saved, repo_->Save(ctx.span_context(), room, req.page_id, title, content, ctx.user()));
  if (!saved) {
    // {"ok":false} as system.md has it; counted apart from real saves.
    ctx.span().AddEvent("no_matching_row");
    ctx.SetResult("invalid");
  }
  return Ok(saved);
}

core::Result<RawReply> KbService::Presence(const contracts::KbRequest& req, std::string_view room,
                                           bool editing, RequestContext& ctx) {
  CHAT_RETURN_IF_ERROR(CheckPageId(req.page_id));
  const std::string key = EditorKey(room, req.page_id, ctx.user());
  if (editing) {
    CHAT_ASSIGN_OR_RETURN(bool exists, repo_->Exists(ctx.span_context(), room, req.page_id));
    if (!exists) return PageNotFound(ctx);
    CHAT_RETURN_IF_ERROR(editors_->Put(key, "{}", ctx.span_context()).status());
  } else {
    CHAT_RETURN_IF_ERROR(editors_->Delete(key, ctx.span_context()));
  }
  CHAT_ASSIGN_OR_RETURN(auto editors, Editors(room, req.page_id, ctx.span_context()));
  contracts::KbPresence presence{req.page_id, std::move(editors)};
  core::Status published = ctx.Publish(contracts::subjects::kAppEvent,
                                       {kAppId, room, kPresenceEvent}, contracts::ToJson(presence));
  if (!published.ok()) {
    // The bucket is right; the other editors see the change on their next load or broadcast.
    ctx.span().AddEvent("fallback", {{attr::kReason, "presence_publish_failed"}});
    ctx.log().Warn(ctx.span_context(), "presence broadcast failed",
                   {{"error.type", core::ErrorCodeName(published.code())}});
  }
  return Ok(true);
}

core::Result<std::vector<std::string>> KbService::Editors(std::string_view room,
                                                          std::string_view page_id,
                                                          const telemetry::SpanContext& parent) {
  std::vector<std::string> editors;
  std::string filter = std::string(room) + "." + std::string(page_id) + ".*";
  CHAT_RETURN_IF_ERROR(
      runtime::ReadLiveKeys(*editors_, filter, parent, kKvReadTimeout, [&](std::string_view key) {
        if (auto user = EditorOfKey(key)) editors.push_back(std::move(*user));
      }));
  std::sort(editors.begin(), editors.end());
  editors.erase(std::unique(editors.begin(), editors.end()), editors.end());
  return editors;
}

core::Status KbService::CountEditors() {
  int64_t count = 0;
  core::Status status = runtime::ReadLiveKeys(*editors_, "", Unsampled(), kKvReadTimeout,
                                              [&](std::string_view) { ++count; });
  if (!status.ok()) {
    telemetry_.logger->Warn("kb_active_editors not updated: KB_EDITORS unreadable",
                            {{"error.type", core::ErrorCodeName(status.code())}});
    return status;
  }
  metrics_->active_editors.Default().Set(static_cast<double>(count));
  return core::Status();
}

void KbService::GaugeLoop() {
  std::unique_lock<std::mutex> lock(gauge_mu_);
  while (!stop_) {
    if (gauge_cv_.wait_for(lock, config_.editors_gauge_interval, [this] { return stop_; })) break;
    lock.unlock();
    (void)CountEditors();  // failures are logged inside; the next period retries
    lock.lock();
  }
}

void KbService::StopGauge() {
  {
    std::lock_guard<std::mutex> lock(gauge_mu_);
    stop_ = true;
  }
  gauge_cv_.notify_all();
  if (gauge_.joinable()) gauge_.join();
}

void KbService::Drain(std::chrono::milliseconds timeout) {
  if (members_) members_->Stop();
  dispatcher_->Drain(timeout);
  StopGauge();
}

}  // namespace chat::kb_service
