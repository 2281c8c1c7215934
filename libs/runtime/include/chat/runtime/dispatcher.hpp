// runtime::Dispatcher: the one place where every NATS handler of every service gets its
// cross-cutting work (docs/style.md rule 1). A route is a subject template plus a typed handler:
//
//   dispatcher.Serve<contracts::RoomCreateRequest>(
//       subjects::kRoomCreate, {.metrics = &room_requests_create},
//       [&](const contracts::RoomCreateRequest& req, RequestContext& ctx)
//           -> core::Result<contracts::RoomInfo> { ... });
//
// The route's queue group, identity rule and concurrency class come from the template's row of
// the subject catalogue (contracts::kSubjectCatalogue), never from the registration: a template
// without a row, a Serve on a non-request template (or Consume on a request), or a payload type
// other than the row's request type is refused at start-up with a Status.
//
// natsx already opens the process span (SERVER for Serve, CONSUMER for Consume), extracts the
// trace context and marks the span ERROR when the status handed back to it is not OK. On top of
// that the dispatcher: decides the span's outcome (a refusal — a client-caused code such as
// permission_denied, not_found, invalid_argument — stays UNSET with its code as error.type,
// chat.reply.result and a `rejected{chat.reason}` event, observability §1.3; only a failure the
// service owns, such as internal or unavailable, reaches natsx as an error and turns the span
// ERROR); enforces the identity rules of docs/adr/0001 (the acting user comes from the subject's
// {user} token or from the per-user reply inbox, and a body user that disagrees is refused);
// decodes the JSON body (empty body = "{}"; failure = invalid_argument); calls the handler; encodes
// the reply (value → JSON, error → contracts::ErrorReply); records the route's RED metrics with the
// span as exemplar; counts every failure in chat_handler_failures_total{template,code}; and writes
// exactly one log line per request (DEBUG when handled, WARN for a rejected request, ERROR for a
// failure the service owns). Handlers may run concurrently on several libnats threads: they keep no
// unguarded state.
#pragma once

#include <chrono>
#include <functional>
#include <initializer_list>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>
#include <vector>

#include "chat/contracts/codec.hpp"
#include "chat/contracts/replies.hpp"
#include "chat/contracts/subjects.hpp"
#include "chat/core/clock.hpp"
#include "chat/core/result.hpp"
#include "chat/core/status.hpp"
#include "chat/core/subject.hpp"
#include "chat/natsx/connection.hpp"
#include "chat/runtime/bus.hpp"
#include "chat/telemetry/metrics.hpp"
#include "chat/telemetry/telemetry.hpp"
#include "chat/telemetry/trace.hpp"

namespace chat::runtime {

// Where a route's acting user comes from (docs/adr/0001-identity-on-subjects.md): the catalogue's
// contracts::Identity of the route's template. With kSubjectUser an empty body `user` / `userId`
// is filled in before the handler runs.
using Identity = contracts::Identity;

// The RED metrics of one route, from the service's metrics struct (docs/style.md rule 8).
// `requests` has the leading labels `labels` and then a `result` label; `duration` has the
// leading labels only. Both are optional. Every (labels…, result) series in `results` is created
// with value 0 when the route is registered (docs/observability.md §6.1).
struct RouteMetrics {
  const telemetry::Counter* requests = nullptr;
  const telemetry::Histogram* duration = nullptr;
  std::vector<std::string> labels{};
  // The `result` values this counter allows, e.g. {"ok","denied","not_found","error"}.
  std::vector<std::string> results{"ok", "error"};
  // One more label, after `labels`, whose value comes from the request's subject: the
  // placeholder `placeholder` of the matched template, kept when it is one of `values` and
  // `fallback` otherwise — a token a client controls never becomes a label value itself
  // (observability §6.3: app actions outside the list are `unknown`). For routes that serve
  // several actions on one subscription (app.kb.{room}.{action}.{user}). Every value and the
  // fallback get their series at 0. A handler whose label value is in the body rather than the
  // subject (translation's target_lang) names a placeholder the template does not have and
  // hands the value to RequestContext::SetLabel; the same list-or-fallback rule applies.
  struct SubjectLabel {
    std::string placeholder;
    std::vector<std::string> values;
    std::string fallback = "unknown";
    // The label `token` gets: itself when listed, else the fallback (also for span attributes,
    // so spans and metrics agree).
    std::string_view Of(std::string_view token) const {
      for (const auto& v : values) {
        if (v == token) return v;
      }
      return fallback;
    }
  };
  std::optional<SubjectLabel> subject_label{};
};

// What a registration adds to the catalogue row: nothing here can change the queue group or the
// identity rule.
struct RouteOptions {
  const RouteMetrics* metrics = nullptr;  // must outlive the dispatcher
  // Success logs at DEBUG by default; handlers write their own INFO lines for state changes.
  telemetry::LogLevel success_level = telemetry::LogLevel::kDebug;
  // Extra templates served by the same handler (e.g. the thread form of an ingest subject); each
  // needs its own catalogue row with the same queue group, identity and concurrency class.
  std::vector<core::SubjectTemplate> more_templates{};
  // Subscription subject when it differs from the templates' own patterns.
  std::string pattern{};
  // false for routes the contract leaves untraced (presence heartbeats): no span is recorded,
  // and children are unsampled; metrics and the log line are unaffected.
  bool traced = true;
  // Native subscriptions in the queue group (each gets its own libnats delivery thread): the
  // deployment's configured count, for templates whose catalogue concurrency class is
  // kConfigured. 0 = one.
  int concurrency = 0;
};

// One registered route, for tests that compare a service's routes with its README.
struct RouteInfo {
  std::string template_text;  // "room.create.{user}"
  bool serve = false;         // request/reply (Serve) or event (Consume)
  std::string queue_group;    // "" = plain subscription
  Identity identity = Identity::kNone;
  int concurrency = 1;
};

// The request's raw body, for handlers that must forward the exact bytes (fanout republish) or
// accept non-JSON bodies.
struct RawPayload {
  std::string_view bytes;
};
// A reply sent verbatim (already-encoded JSON such as a cached ChatMessage or a bare array).
struct RawReply {
  std::string bytes;
};
// A body that is ignored whatever it holds (the contract's "empty" requests).
struct IgnoredBody {};

class Dispatcher;

// What a handler receives next to its decoded request. Lives on the handler's stack only.
class RequestContext {
 public:
  RequestContext(Dispatcher& dispatcher, const natsx::Message& msg, natsx::MessageContext& mctx,
                 std::string_view user)
      : dispatcher_(dispatcher), msg_(msg), mctx_(mctx), user_(user) {}
  RequestContext(const RequestContext&) = delete;
  RequestContext& operator=(const RequestContext&) = delete;
  ~RequestContext() = default;

  // The acting user per the route's Identity ("" for kNone).
  std::string_view user() const { return user_; }
  // A placeholder of the matched template ("room" in room.join.{room}.{user}); "" if absent.
  std::string_view Arg(std::string_view name) const;
  std::string_view subject() const { return msg_.subject(); }
  const core::SubjectTemplate& subject_template() const { return *msg_.subject_template(); }
  std::string_view payload() const { return msg_.payload(); }
  std::string_view reply_to() const { return msg_.reply_to(); }
  const natsx::DeliveryInfo& delivery() const { return msg_.delivery(); }

  // The process span: add chat.* attributes and events to it; StartSpan opens a child.
  telemetry::Span& span() { return mctx_.span(); }
  const telemetry::SpanContext& span_context() const { return mctx_.span_context(); }
  telemetry::Span StartSpan(std::string_view name,
                            telemetry::SpanKind kind = telemetry::SpanKind::kInternal) const {
    return mctx_.StartSpan(name, kind);
  }
  const telemetry::Telemetry& telemetry() const { return mctx_.telemetry(); }
  telemetry::Logger& log() const { return *mctx_.telemetry().logger; }
  const core::Clock& clock() const;

  // Publishes as a child of the process span (natsx makes the PRODUCER span and injects it).
  core::Status Publish(const core::SubjectTemplate& tmpl, natsx::Args args,
                       std::string_view payload);
  // Publishes one message of a stream that belongs to the process span: the message carries
  // the process span's own context and no PRODUCER span is made (translation chunks).
  core::Status PublishInSpan(const core::SubjectTemplate& tmpl, natsx::Args args,
                             std::string_view payload);
  // Requests as a child of the process span.
  core::Result<natsx::Message> Request(const core::SubjectTemplate& tmpl, natsx::Args args,
                                       std::string_view payload, std::chrono::milliseconds timeout);

  // Overrides the metric `result` label for this request (e.g. "noop", "denied" on a request
  // that is answered OK but refused by business rules). Must be one of the route's results.
  void SetResult(std::string_view result) { result_override_ = result; }
  // The route's subject-label value for this request when it comes from the body (see
  // RouteMetrics::SubjectLabel); a value not in the label's list counts as its fallback.
  void SetLabel(std::string_view value) { label_override_ = std::string(value); }
  // A handled, silent refusal on an event route (fanout's non-member drop, a denied join):
  // event `rejected{chat.reason}` on the span, WARN log, result label `result` (default
  // "denied"); the handler then returns OK, so the span stays UNSET (§4.4).
  void Reject(std::string_view reason, std::string_view result = "denied");

  // ---- for the dispatcher ----
  std::string_view result_override() const { return result_override_; }
  const std::optional<std::string>& label_override() const { return label_override_; }
  std::string_view reject_reason() const { return reject_reason_; }
  natsx::MessageContext& message_context() { return mctx_; }

 private:
  Dispatcher& dispatcher_;
  const natsx::Message& msg_;
  natsx::MessageContext& mctx_;
  std::string_view user_;
  std::string_view result_override_{};
  std::string_view reject_reason_{};
  std::optional<std::string> label_override_{};
};

namespace internal {
// Is T's body user field present? RoomCreateRequest has `user`, RoomMembershipRequest `user_id`.
template <typename T>
concept HasUser = requires(T t) {
  t.user = std::string();
};
template <typename T>
concept HasUserId = requires(T t) {
  t.user_id = std::string();
};

// The unqualified name of T ("RoomCreateRequest"), from the compiler's function signature.
template <typename T>
std::string_view TypeName() {
  std::string_view sig = __PRETTY_FUNCTION__;  // "... [with T = chat::contracts::X; ...]" (GCC)
  size_t start = sig.find("T = ");
  if (start == std::string_view::npos) return {};
  sig = sig.substr(start + 4);
  sig = sig.substr(0, sig.find_first_of(";]"));
  size_t colon = sig.rfind("::");
  return colon == std::string_view::npos ? sig : sig.substr(colon + 2);
}

// The catalogue request type a payload type stands for: "*" (any) for RawPayload, "Empty" for
// IgnoredBody, else the wire struct's own name.
template <typename Req>
std::string_view RequestTypeName() {
  if constexpr (std::is_same_v<Req, RawPayload>) {
    return "*";
  } else if constexpr (std::is_same_v<Req, IgnoredBody>) {
    return "Empty";
  } else {
    return TypeName<Req>();
  }
}

template <typename Req>
core::Result<Req> Decode(std::string_view payload) {
  if constexpr (std::is_same_v<Req, RawPayload>) {
    return RawPayload{payload};
  } else if constexpr (std::is_same_v<Req, IgnoredBody>) {
    return IgnoredBody{};
  } else {
    return contracts::FromJson<Req>(payload.empty() ? std::string_view("{}") : payload);
  }
}

template <typename Rep>
std::string Encode(const Rep& reply) {
  if constexpr (std::is_same_v<Rep, RawReply>) {
    return reply.bytes;
  } else {
    using contracts::ToJson;
    return ToJson(reply);
  }
}

// Checks a decoded body's user against the route's user; fills it in when empty.
template <typename Req>
core::Status ReconcileBodyUser(Req& req, std::string_view user) {
  std::string* field = nullptr;
  if constexpr (HasUser<Req>) {
    field = &req.user;
  } else if constexpr (HasUserId<Req>) {
    field = &req.user_id;
  }
  if (field == nullptr || user.empty()) return core::Status();
  if (field->empty()) {
    *field = std::string(user);
    return core::Status();
  }
  if (*field != user) {
    return core::InvalidArgument("the body's user does not match the subject's user");
  }
  return core::Status();
}
}  // namespace internal

class Dispatcher {
 public:
  // A route's type-erased core: runs on libnats threads; returns the reply (nullopt for events)
  // or the failure.
  struct Outcome {
    core::Status status;
    std::optional<std::string> reply;  // encoded success reply (Serve routes only)
  };
  using ErasedHandler = std::function<Outcome(RequestContext&)>;

  Dispatcher(natsx::Connection& conn, const core::Clock& clock);
  // Over the connection behind `bus` (a NatsBus, as ServiceContext::bus() hands out).
  Dispatcher(Bus& bus, const core::Clock& clock);
  ~Dispatcher();  // unsubscribes every route
  Dispatcher(const Dispatcher&) = delete;
  Dispatcher& operator=(const Dispatcher&) = delete;

  // A request/reply route (SERVER span). `handler(const Req&, RequestContext&)` returns
  // core::Result<Rep>; Rep is a contracts wire struct (ToJson), or RawReply.
  template <typename Req, typename F>
  core::Status Serve(const core::SubjectTemplate& tmpl, const RouteOptions& options, F handler) {
    using Rep = typename std::invoke_result_t<F, const Req&, RequestContext&>::value_type;
    return Add(tmpl, options, natsx::ProcessKind::kServer, internal::RequestTypeName<Req>(),
               [h = std::move(handler)](RequestContext& ctx) -> Outcome {
                 auto req = internal::Decode<Req>(ctx.payload());
                 if (!req.ok()) return {req.status(), std::nullopt};
                 core::Status who = internal::ReconcileBodyUser(*req, ctx.user());
                 if (!who.ok()) return {who, std::nullopt};
                 core::Result<Rep> rep = h(*req, ctx);
                 if (!rep.ok()) return {rep.status(), std::nullopt};
                 return {core::Status(), internal::Encode(*rep)};
               });
  }

  // An event route (CONSUMER span, no reply). `handler(const Req&, RequestContext&)` returns
  // core::Status.
  template <typename Req, typename F>
  core::Status Consume(const core::SubjectTemplate& tmpl, const RouteOptions& options, F handler) {
    return Add(tmpl, options, natsx::ProcessKind::kConsumer, internal::RequestTypeName<Req>(),
               [h = std::move(handler)](RequestContext& ctx) -> Outcome {
                 auto req = internal::Decode<Req>(ctx.payload());
                 if (!req.ok()) return {req.status(), std::nullopt};
                 core::Status who = internal::ReconcileBodyUser(*req, ctx.user());
                 if (!who.ok()) return {who, std::nullopt};
                 return {h(*req, ctx), std::nullopt};
               });
  }

  // Stops every route's subscription and waits for in-flight handlers (within `timeout`).
  void Drain(std::chrono::milliseconds timeout);

  // Every registered route, in registration order (one entry per template).
  std::vector<RouteInfo> Routes() const;

  natsx::Connection& connection() { return conn_; }
  const core::Clock& clock() const { return clock_; }
  const telemetry::Telemetry& telemetry() const { return conn_.telemetry(); }

  // The user owning a reply subject "_INBOX.{user}.…", or nullopt.
  static std::optional<std::string_view> InboxOwner(std::string_view reply_to);
  // The metric result label for a status: ok, invalid, denied, not_found, or error — adjusted
  // to what `allowed` contains (a client-caused code falls back to denied, then invalid, then
  // error; a server-caused one to error).
  static std::string_view ResultLabel(const core::Status& status,
                                      const std::vector<std::string>& allowed);

 private:
  struct Route;
  core::Status Add(const core::SubjectTemplate& tmpl, const RouteOptions& options,
                   natsx::ProcessKind kind, std::string_view request_type, ErasedHandler handler);
  core::Status Run(Route& route, const natsx::Message& msg, natsx::MessageContext& mctx);

  natsx::Connection& conn_;
  const core::Clock& clock_;
  telemetry::Counter failures_;
  mutable std::mutex mu_;
  std::vector<std::unique_ptr<Route>> routes_;
};

}  // namespace chat::runtime
