// The dispatcher's type-erased half: identity, reply, metrics and the one log line per request.
#include "chat/runtime/dispatcher.hpp"

#include <algorithm>
#include <array>
#include <exception>
#include <typeinfo>

#include "chat/contracts/attributes.hpp"
#include "chat/runtime/nats_bus.hpp"
#include "chat/telemetry/semconv.hpp"

namespace chat::runtime {

namespace semconv = telemetry::semconv;
using core::ErrorCode;

namespace {

constexpr std::string_view kInboxPrefix = "_INBOX.";

// Codes that mean "the request was refused" rather than "the service failed" (docs/style.md
// rule 4's retry notes): logged at WARN, and never counted as result="error".
bool ClientCaused(ErrorCode code) {
  switch (code) {
    case ErrorCode::kInvalidArgument:
    case ErrorCode::kUnauthenticated:
    case ErrorCode::kPermissionDenied:
    case ErrorCode::kNotFound:
    case ErrorCode::kAlreadyExists:
    case ErrorCode::kFailedPrecondition:
    case ErrorCode::kResourceExhausted: return true;
    default: return false;
  }
}

// chat.reply.result's values (observability §4.3), for the SERVER span of a failed request.
const std::vector<std::string> kReplyResults{"ok", "denied", "not_found", "invalid", "error"};

bool Contains(const std::vector<std::string>& values, std::string_view v) {
  return std::find(values.begin(), values.end(), v) != values.end();
}

// The codes whose failure series exist from start-up on every route, so an alert on
// increase(chat_handler_failures_total[5m]) sees the first one.
constexpr std::array<ErrorCode, 4> kZeroInitCodes = {ErrorCode::kInvalidArgument,
                                                     ErrorCode::kPermissionDenied,
                                                     ErrorCode::kInternal, ErrorCode::kUnavailable};

}  // namespace

struct Dispatcher::Route {
  std::vector<core::SubjectTemplate> templates;
  RouteOptions options;
  // From the catalogue row of templates.front().
  std::string queue_group;
  Identity identity = Identity::kNone;
  int concurrency = 1;
  natsx::ProcessKind kind = natsx::ProcessKind::kServer;
  ErasedHandler handler;
  std::unique_ptr<natsx::Subscription> sub;
  // Bound metric cells: one counter cell per allowed result, in options.metrics->results order;
  // with a subject label, one such row per value of label_values (and one duration cell each).
  std::vector<telemetry::CounterCell*> result_cells;
  std::vector<telemetry::HistogramCell*> duration_cells;
  // The subject label's values, its fallback last (empty without a subject label).
  std::vector<std::string> label_values;
};

// ---- RequestContext ----

std::string_view RequestContext::Arg(std::string_view name) const {
  auto v = msg_.Arg(name);
  return v ? *v : std::string_view();
}

const core::Clock& RequestContext::clock() const { return dispatcher_.clock(); }

core::Status RequestContext::Publish(const core::SubjectTemplate& tmpl, natsx::Args args,
                                     std::string_view payload) {
  return dispatcher_.connection().Publish(tmpl, args, payload, span_context());
}

core::Status RequestContext::PublishInSpan(const core::SubjectTemplate& tmpl, natsx::Args args,
                                           std::string_view payload) {
  return dispatcher_.connection().PublishInContext(tmpl, args, payload, span_context());
}

core::Result<natsx::Message> RequestContext::Request(const core::SubjectTemplate& tmpl,
                                                     natsx::Args args, std::string_view payload,
                                                     std::chrono::milliseconds timeout) {
  return dispatcher_.connection().Request(tmpl, args, payload, timeout, span_context());
}

void RequestContext::Reject(std::string_view reason, std::string_view result) {
  reject_reason_ = reason;
  result_override_ = result;
  span().AddEvent("rejected", {{contracts::attr::kReason, std::string(reason)}});
}

// ---- Dispatcher ----

Dispatcher::Dispatcher(natsx::Connection& conn, const core::Clock& clock)
    : conn_(conn), clock_(clock) {
  failures_ = conn_.telemetry().metrics->AddCounter(
      "chat_handler_failures_total",
      "NATS requests and events a handler refused or failed, by subject template and error code.",
      {"template", "code"});
}

Dispatcher::Dispatcher(Bus& bus, const core::Clock& clock)
    : Dispatcher(NativeConnection(bus), clock) {}

Dispatcher::~Dispatcher() {
  std::lock_guard lock(mu_);
  for (auto& route : routes_) route->sub.reset();  // unsubscribes, waits for in-flight handlers
}

std::optional<std::string_view> Dispatcher::InboxOwner(std::string_view reply_to) {
  if (reply_to.substr(0, kInboxPrefix.size()) != kInboxPrefix) return std::nullopt;
  std::string_view rest = reply_to.substr(kInboxPrefix.size());
  size_t dot = rest.find('.');
  // "_INBOX.alice" alone is not a per-user inbox: the owner token must be followed by more.
  if (dot == std::string_view::npos || dot == 0 || dot + 1 >= rest.size()) return std::nullopt;
  std::string_view owner = rest.substr(0, dot);
  if (owner.find_first_of("*>") != std::string_view::npos) return std::nullopt;
  return owner;
}

std::string_view Dispatcher::ResultLabel(const core::Status& status,
                                         const std::vector<std::string>& allowed) {
  std::string_view natural;
  switch (status.code()) {
    case ErrorCode::kOk: natural = "ok"; break;
    case ErrorCode::kInvalidArgument: natural = "invalid"; break;
    case ErrorCode::kUnauthenticated:
    case ErrorCode::kPermissionDenied:
    case ErrorCode::kAlreadyExists:
    case ErrorCode::kFailedPrecondition:
    case ErrorCode::kResourceExhausted: natural = "denied"; break;
    case ErrorCode::kNotFound: natural = "not_found"; break;
    default: natural = "error"; break;
  }
  if (Contains(allowed, natural)) return natural;
  if (ClientCaused(status.code())) {
    for (std::string_view alt : {"denied", "invalid"}) {
      if (Contains(allowed, alt)) return alt;
    }
  }
  return "error";
}

namespace {

// The catalogue row a route on `tmpl` follows, or why it may not be registered.
core::Result<const contracts::SubjectSpec*> RouteSpec(const core::SubjectTemplate& tmpl,
                                                      natsx::ProcessKind kind,
                                                      std::string_view request_type) {
  const std::string where = "route " + std::string(tmpl.text()) + ": ";
  const contracts::SubjectSpec* spec = contracts::FindSubject(tmpl.text());
  if (spec == nullptr) return core::InvalidArgument(where + "not in the subject catalogue");
  const bool serve = kind == natsx::ProcessKind::kServer;
  if (serve != (spec->pattern == contracts::Pattern::kRequest)) {
    return core::InvalidArgument(where + "the catalogue's pattern is " +
                                 std::string(contracts::PatternName(spec->pattern)) +
                                 (serve ? ", not request (use Consume)" : " (use Serve)"));
  }
  if (request_type != "*" && request_type != spec->request) {
    return core::InvalidArgument(where + "payload type " + std::string(request_type) +
                                 " is not the catalogue's " + std::string(spec->request));
  }
  return spec;
}

}  // namespace

core::Status Dispatcher::Add(const core::SubjectTemplate& tmpl, const RouteOptions& options,
                             natsx::ProcessKind kind, std::string_view request_type,
                             ErasedHandler handler) {
  CHAT_ASSIGN_OR_RETURN(const contracts::SubjectSpec* spec, RouteSpec(tmpl, kind, request_type));
  for (const auto& more : options.more_templates) {
    CHAT_ASSIGN_OR_RETURN(const contracts::SubjectSpec* other, RouteSpec(more, kind, request_type));
    if (other->queue_group != spec->queue_group || other->identity != spec->identity ||
        other->concurrency != spec->concurrency) {
      return core::InvalidArgument("route " + std::string(tmpl.text()) + ": " +
                                   std::string(more.text()) +
                                   " has another queue group, identity or concurrency class");
    }
  }
  if (options.concurrency < 0) return core::InvalidArgument("route concurrency must be >= 0");
  const int concurrency = std::max(options.concurrency, 1);
  if (concurrency > 1 && spec->concurrency != contracts::Concurrency::kConfigured) {
    return core::InvalidArgument("route " + std::string(tmpl.text()) +
                                 ": the catalogue allows one handler thread");
  }
  if (concurrency > 1 && spec->queue_group.empty()) {
    return core::InvalidArgument("route concurrency > 1 needs a queue group");
  }
  auto route = std::make_unique<Route>();
  route->templates.push_back(tmpl);
  for (const auto& more : options.more_templates) route->templates.push_back(more);
  route->queue_group = std::string(spec->queue_group);
  route->identity = spec->identity;
  route->concurrency = concurrency;
  route->kind = kind;
  route->handler = std::move(handler);
  route->options = options;

  // Zero-initialise every series this route can produce (observability §6.1).
  if (const RouteMetrics* m = route->options.metrics) {
    std::vector<std::vector<std::string>> rows;  // the leading labels of each row of cells
    if (m->subject_label) {
      for (const auto& value : m->subject_label->values) {
        if (value != m->subject_label->fallback) route->label_values.push_back(value);
      }
      route->label_values.push_back(m->subject_label->fallback);
      for (const auto& value : route->label_values) {
        rows.push_back(m->labels);
        rows.back().push_back(value);
      }
    } else {
      rows.push_back(m->labels);
    }
    for (const auto& row : rows) {
      if (m->requests != nullptr) {
        for (const auto& result : m->results) {
          std::vector<std::string> labels = row;
          labels.push_back(result);
          route->result_cells.push_back(&m->requests->With(labels));
        }
      }
      if (m->duration != nullptr) route->duration_cells.push_back(&m->duration->With(row));
    }
  }
  for (const auto& t : route->templates) {
    for (ErrorCode code : kZeroInitCodes) {
      (void)failures_.With({t.text(), core::ErrorCodeName(code)});
    }
  }

  natsx::SubscribeOptions sub_options;
  sub_options.templates = route->templates;
  sub_options.pattern = route->options.pattern;
  sub_options.queue_group = route->queue_group;
  sub_options.kind = kind;
  sub_options.traced = route->options.traced;
  // One subscription and a pool of `concurrency` handlers, not one subscription per handler:
  // see natsx::SubscribeOptions::workers.
  sub_options.workers = route->concurrency;
  Route* raw = route.get();
  auto sub = conn_.Subscribe(sub_options,
                             [this, raw](const natsx::Message& msg, natsx::MessageContext& mctx) {
                               return Run(*raw, msg, mctx);
                             });
  if (!sub.ok()) return sub.status();
  route->sub = std::move(*sub);
  std::lock_guard lock(mu_);
  routes_.push_back(std::move(route));
  return core::Status();
}

core::Status Dispatcher::Run(Route& route, const natsx::Message& msg, natsx::MessageContext& mctx) {
  auto started = std::chrono::steady_clock::now();
  const auto& tel = conn_.telemetry();
  const bool server = route.kind == natsx::ProcessKind::kServer;
  const core::SubjectTemplate& tmpl =
      msg.subject_template() != nullptr ? *msg.subject_template() : route.templates.front();

  // Identity (docs/adr/0001): who is acting, and may the reply go where it asks?
  std::string_view user;
  core::Status status;
  bool may_reply = server && !msg.reply_to().empty();
  std::optional<std::string_view> inbox_owner = InboxOwner(msg.reply_to());
  switch (route.identity) {
    case Identity::kNone: break;
    case Identity::kSubjectUser: {
      auto u = msg.Arg("user");
      if (!u || u->empty()) {
        status = core::InvalidArgument("the subject carries no user");
      } else {
        user = *u;
      }
      // Answer only the subject's own user: a reply subject elsewhere would let a client make
      // the service publish into another user's subjects.
      if (may_reply && (!inbox_owner || *inbox_owner != user)) {
        may_reply = false;
        if (status.ok()) {
          status = core::PermissionDenied("replies go only to the caller's own inbox");
        }
      }
      break;
    }
    case Identity::kReplyInbox:
      if (!inbox_owner) {
        may_reply = false;
        status = core::PermissionDenied(
            "read requests must use the caller's own reply inbox (_INBOX.<user>.)");
      } else {
        user = *inbox_owner;
      }
      break;
  }
  // The attributes every route shares (observability §4.3) are set here, once, so a handler
  // only adds what its own logic knows (chat.room.type, chat.target_user, counts, …): the acting
  // user, and the room when the subject names one. A handler that learns a different room (an
  // alias such as fanout's admin-room token) overrides chat.room.
  if (mctx.span().IsRecording()) {
    if (!user.empty()) mctx.span().SetAttribute(contracts::attr::kUser, user);
    if (auto room = msg.Arg("room"); room && !room->empty()) {
      mctx.span().SetAttribute(contracts::attr::kRoom, *room);
    }
  }

  RequestContext ctx(*this, msg, mctx, user);
  Outcome out{status, std::nullopt};
  std::string exception_type;
  if (status.ok()) {
    try {
      out = route.handler(ctx);
    } catch (const std::exception& e) {
      exception_type = typeid(e).name();
      out = {core::Internal("handler threw an exception"), std::nullopt};
    } catch (...) {
      exception_type = "unknown";
      out = {core::Internal("handler threw an exception"), std::nullopt};
    }
  }
  status = out.status;

  if (may_reply) {
    std::string payload = status.ok() ? (out.reply ? std::move(*out.reply) : std::string("{}"))
                                      : contracts::ToJson(contracts::ErrorReplyFromStatus(status));
    core::Status sent = mctx.Respond(payload);
    if (!sent.ok() && status.ok()) {
      status = core::Status(sent.code(), "the reply could not be sent");
    }
  }

  // Metrics: the route's RED figures, then the generic failure counter.
  double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
  const telemetry::SpanContext& span_ctx = mctx.span_context();
  std::string_view result = ctx.result_override();
  if (const RouteMetrics* m = route.options.metrics) {
    if (result.empty()) result = ResultLabel(status, m->results);
    size_t row = 0;  // the subject label's value; the fallback (last) when it is not listed
    if (m->subject_label) {
      std::optional<std::string_view> token = msg.Arg(m->subject_label->placeholder);
      if (ctx.label_override()) token = *ctx.label_override();
      row = route.label_values.size() - 1;
      for (size_t v = 0; token && v + 1 < route.label_values.size(); ++v) {
        if (route.label_values[v] == *token) {
          row = v;
          break;
        }
      }
    }
    const size_t per_row = m->requests != nullptr ? m->results.size() : 0;
    for (size_t i = 0; i < per_row; ++i) {
      if (m->results[i] == result) {
        route.result_cells[row * per_row + i]->Add(1, &span_ctx);
        break;
      }
    }
    if (row < route.duration_cells.size()) route.duration_cells[row]->Record(seconds, &span_ctx);
  }
  if (!status.ok()) failures_.With({tmpl.text(), core::ErrorCodeName(status.code())}).Add(1);

  // The span's outcome (observability §1.3, §4.4). A refusal (a client-caused code: not a
  // member, not found, malformed, rate limited) is a business result, like an HTTP 4xx on a
  // server span: status stays UNSET, the span carries its code (error.type), chat.reply.result
  // (SERVER routes) and a `rejected{chat.reason=<code>}` event — no exception event. Only a failure
  // the service owns (internal, unavailable, deadline_exceeded, …) is handed back to natsx, which
  // makes the span ERROR with error.type and an exception event; HighErrorRate counts exactly
  // those. One exception, §4.4's "undecodable payload on a consumer": an event on a service-only
  // subject (Identity::kNone: room.changed, chat.{room}, …) that does not decode is a peer
  // service's fault, not a user's, and stays an error.
  const bool peer_garbage =
      status.code() == ErrorCode::kInvalidArgument && !server && route.identity == Identity::kNone;
  const bool refused = !status.ok() && ClientCaused(status.code()) && !peer_garbage;
  telemetry::Span& span = mctx.span();
  if (span.IsRecording() && server) {
    span.SetAttribute(contracts::attr::kReplyResult, ResultLabel(status, kReplyResults));
  }
  if (span.IsRecording() && !status.ok()) {
    if (refused) {
      span.SetAttribute(semconv::kErrorType, core::ErrorCodeName(status.code()));
      span.AddEvent("rejected",
                    {{contracts::attr::kReason, std::string(core::ErrorCodeName(status.code()))}});
    }
  }

  // The one log line of this request (observability §7.2). Fields are built only when the
  // level is enabled: the success line is DEBUG and ingest runs thousands of times a second.
  const bool rejected = status.ok() && !ctx.reject_reason().empty();
  telemetry::LogLevel level = route.options.success_level;
  std::string_view msg_text = "request handled";
  if (!status.ok()) {
    level = refused ? telemetry::LogLevel::kWarn : telemetry::LogLevel::kError;
    msg_text = refused ? "request rejected" : "request failed";
  } else if (rejected) {
    level = telemetry::LogLevel::kWarn;
    msg_text = "message rejected";
  }
  if (tel.logger->Enabled(level)) {
    std::vector<telemetry::Attribute> fields;
    fields.reserve(6);
    fields.push_back({semconv::kMessagingDestinationTemplate, std::string(tmpl.text())});
    if (!user.empty()) fields.push_back({contracts::attr::kUser, std::string(user)});
    fields.push_back({"duration_ms", seconds * 1000.0});
    if (!status.ok()) {
      fields.push_back({semconv::kErrorType, std::string(core::ErrorCodeName(status.code()))});
      fields.push_back({semconv::kExceptionMessage, status.message()});
      if (!exception_type.empty()) fields.push_back({semconv::kExceptionType, exception_type});
    } else if (rejected) {
      fields.push_back({contracts::attr::kReason, std::string(ctx.reject_reason())});
    }
    tel.logger->Log(level, &span_ctx, msg_text, std::move(fields));
  }
  // natsx's handler contract: a handled refusal is OK (annotated above), a failure is not.
  return refused ? core::Status() : status;
}

std::vector<RouteInfo> Dispatcher::Routes() const {
  std::vector<RouteInfo> out;
  std::lock_guard lock(mu_);
  for (const auto& route : routes_) {
    for (const auto& t : route->templates) {
      out.push_back({std::string(t.text()), route->kind == natsx::ProcessKind::kServer,
                     route->queue_group, route->identity, route->concurrency});
    }
  }
  return out;
}

void Dispatcher::Drain(std::chrono::milliseconds timeout) {
  std::lock_guard lock(mu_);
  for (auto& route : routes_) {
    if (route->sub) (void)route->sub->Drain(timeout);
  }
}

}  // namespace chat::runtime
