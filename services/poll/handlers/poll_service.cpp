#include "handlers/poll_service.hpp"

#include <sys/random.h>

#include <array>
#include <utility>

#include "chat/contracts/apps.hpp"
#include "chat/contracts/attributes.hpp"
#include "chat/contracts/ids.hpp"
#include "chat/contracts/subjects.hpp"

namespace chat::poll_service {
namespace {

namespace attr = contracts::attr;
namespace subjects = contracts::subjects;
using runtime::Dispatcher;
using runtime::RawPayload;
using runtime::RawReply;
using runtime::RequestContext;

}  // namespace

std::string NewPollId() {
  std::array<unsigned char, 8> bytes{};
  size_t got = 0;
  while (got < bytes.size()) {
    ssize_t n = getrandom(bytes.data() + got, bytes.size() - got, 0);
    if (n > 0) got += static_cast<size_t>(n);
  }
  static constexpr std::string_view kHex = "0123456789abcdef";
  std::string id;
  id.reserve(bytes.size() * 2);
  for (unsigned char b : bytes) {
    id.push_back(kHex[b >> 4]);
    id.push_back(kHex[b & 0x0f]);
  }
  return id;
}

PollService::PollService(PollConfig config, runtime::Bus& bus, const core::Clock& clock)
    : config_(std::move(config)),
      metrics_(PollMetrics::Create(*bus.telemetry().metrics)),
      dispatcher_(std::make_unique<Dispatcher>(bus, clock)) {}

PollService::~PollService() {
  if (members_) members_->Stop();
  dispatcher_.reset();
}

core::Result<std::unique_ptr<PollService>> PollService::Create(const PollConfig& config,
                                                               runtime::Bus& bus,
                                                               const core::Clock& clock) {
  std::unique_ptr<PollService> s(new PollService(config, bus, clock));
  CHAT_ASSIGN_OR_RETURN(s->repo_, PollRepository::Connect(config, bus.telemetry()));
  CHAT_ASSIGN_OR_RETURN(s->js_, bus.OpenJetStream({}));
  CHAT_ASSIGN_OR_RETURN(s->members_, membership::RoomMembers::Start(bus, *s->js_, *s->dispatcher_,
                                                                    config.rooms_limits));
  CHAT_RETURN_IF_ERROR(s->Register());
  return s;
}

core::Status PollService::Register() {
  // The subscription is app.poll.*.*.* (5 tokens): the 4-token app.poll.{room}.updated
  // broadcasts this service publishes never reach it.
  return dispatcher_->Serve<RawPayload>(
      subjects::kAppPollRequest, {.metrics = &metrics_->route, .concurrency = config_.concurrency},
      [this](const RawPayload& body, RequestContext& ctx) { return Handle(body, ctx); });
}

core::Result<RawReply> PollService::Handle(const RawPayload& body, RequestContext& ctx) {
  const std::string_view action = metrics_->route.subject_label->Of(ctx.Arg("action"));
  ctx.span().SetAttribute(attr::kAppId, "poll");
  ctx.span().SetAttribute(attr::kAppAction, action);
  if (action == "unknown") return core::InvalidArgument("unknown action");
  const std::string_view room = ctx.Arg("room");
  CHAT_RETURN_IF_ERROR(
      members_->RequireAppUser(ctx, room, "only members of the room may use its polls"));
  // Only a room's managers install apps (app-registry-service); members use what they chose.
  CHAT_ASSIGN_OR_RETURN(bool installed, repo_->IsInstalled(ctx.span_context(), room));
  if (!installed) return contracts::AppNotInstalled("poll");
  CHAT_ASSIGN_OR_RETURN(contracts::PollRequest req,
                        contracts::FromJson<contracts::PollRequest>(body.bytes));
  // ADR 0001: the body's user (the bridge adds it) may only repeat the subject's.
  if (!req.user.empty() && req.user != ctx.user()) {
    return core::InvalidArgument("the body's user does not match the subject's user");
  }
  if (action == "create") return HandleCreate(req, ctx);
  if (action == "list") return HandleList(ctx);
  if (action == "vote") return HandleVote(req, ctx);
  if (action == "results") return HandleResults(req, ctx);
  return HandleClose(req, ctx);
}

core::Result<RawReply> PollService::HandleCreate(const contracts::PollRequest& req,
                                                 RequestContext& ctx) {
  if (req.question.empty() || req.options.size() < contracts::kMinPollOptions) {
    return core::InvalidArgument("a question and at least 2 options are required");
  }
  contracts::Poll poll;
  poll.id = NewPollId();
  poll.room = std::string(ctx.Arg("room"));
  poll.question = req.question;
  poll.options = req.options;
  poll.created_by = std::string(ctx.user());
  CHAT_RETURN_IF_ERROR(repo_->Insert(ctx.span_context(), poll));
  ctx.log().Info(ctx.span_context(), "poll created",
                 {{attr::kRoom, poll.room}, {attr::kUser, poll.created_by}, {"poll.id", poll.id}});
  PublishUpdated(ctx, poll.id);
  return RawReply{contracts::ToJson(contracts::PollRef{poll.id})};
}

core::Result<RawReply> PollService::HandleList(RequestContext& ctx) {
  contracts::PollList list;
  CHAT_ASSIGN_OR_RETURN(list.polls,
                        repo_->List(ctx.span_context(), ctx.Arg("room"), kMaxListedPolls));
  return RawReply{contracts::ToJson(list)};
}

core::Result<contracts::Poll> PollService::FindPoll(const contracts::PollRequest& req,
                                                    RequestContext& ctx) {
  if (req.poll_id.empty()) return core::InvalidArgument("pollId is required");
  CHAT_ASSIGN_OR_RETURN(auto poll, repo_->Get(ctx.span_context(), ctx.Arg("room"), req.poll_id));
  if (!poll.has_value()) {
    ctx.SetResult("invalid");  // not_found on the wire; the apps' results have no not_found (§6.3)
    return core::NotFound("poll not found");
  }
  return std::move(*poll);
}

core::Result<RawReply> PollService::HandleVote(const contracts::PollRequest& req,
                                               RequestContext& ctx) {
  if (!req.option_idx.has_value()) return core::InvalidArgument("optionIdx is required");
  CHAT_ASSIGN_OR_RETURN(contracts::Poll poll, FindPoll(req, ctx));
  if (poll.closed) return core::FailedPrecondition("poll is closed");
  if (*req.option_idx >= static_cast<std::int64_t>(poll.options.size())) {
    return core::InvalidArgument("optionIdx is out of range");
  }
  // The statement re-checks open and range: a close that commits in between wins.
  CHAT_ASSIGN_OR_RETURN(bool stored, repo_->Vote(ctx.span_context(), poll.room, poll.id, ctx.user(),
                                                 *req.option_idx));
  if (!stored) return core::FailedPrecondition("poll is closed");
  PublishUpdated(ctx, poll.id);
  return RawReply{R"({"ok":true})"};
}

core::Result<RawReply> PollService::HandleResults(const contracts::PollRequest& req,
                                                  RequestContext& ctx) {
  CHAT_ASSIGN_OR_RETURN(contracts::Poll poll, FindPoll(req, ctx));
  CHAT_ASSIGN_OR_RETURN(Tally tally, repo_->Count(ctx.span_context(), poll.id, ctx.user()));
  contracts::PollResults results;
  for (size_t i = 0; i < poll.options.size(); ++i) {
    const auto idx = static_cast<std::int64_t>(i);
    auto it = tally.counts.find(idx);
    const std::int64_t count = it == tally.counts.end() ? 0 : it->second;
    results.votes.push_back({idx, count});
    results.total_votes += count;
  }
  results.user_vote = tally.user_vote;
  results.poll = std::move(poll);
  return RawReply{contracts::ToJson(results)};
}

core::Result<RawReply> PollService::HandleClose(const contracts::PollRequest& req,
                                                RequestContext& ctx) {
  CHAT_ASSIGN_OR_RETURN(contracts::Poll poll, FindPoll(req, ctx));
  if (poll.created_by != ctx.user()) {
    return core::PermissionDenied("only the creator can close a poll");
  }
  CHAT_ASSIGN_OR_RETURN(bool closed,
                        repo_->Close(ctx.span_context(), poll.room, poll.id, ctx.user()));
  if (!closed) {
    ctx.span().AddEvent("already_closed");  // closing twice is a no-op
    return RawReply{R"({"ok":true})"};
  }
  ctx.log().Info(ctx.span_context(), "poll closed",
                 {{attr::kRoom, poll.room}, {attr::kUser, ctx.user()}, {"poll.id", poll.id}});
  PublishUpdated(ctx, poll.id);
  return RawReply{R"({"ok":true})"};
}

void PollService::PublishUpdated(RequestContext& ctx, const std::string& poll_id) {
  core::Status sent = ctx.Publish(subjects::kAppEvent, {"poll", ctx.Arg("room"), "updated"},
                                  contracts::ToJson(contracts::PollRef{poll_id}));
  if (sent.ok()) return;
  // The change is committed: the request succeeded and is answered so (a failure reply would
  // make the client retry a create). Only the live update is lost; clients refresh on their
  // next list/results. The PRODUCER span is ERROR (natsx); here event + WARN (§4.4 fallback).
  ctx.span().AddEvent("fallback", {{attr::kReason, "updated_not_published"}});
  ctx.log().Warn(ctx.span_context(), "poll update broadcast failed",
                 {{"error.type", core::ErrorCodeName(sent.code())}, {"poll.id", poll_id}});
}

void PollService::Drain(std::chrono::milliseconds timeout) {
  if (members_) members_->Stop();
  dispatcher_->Drain(timeout);
}

}  // namespace chat::poll_service
