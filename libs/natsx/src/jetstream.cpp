#include "chat/natsx/jetstream.hpp"

#include <nats/nats.h>

#include <algorithm>
#include <array>
#include <charconv>
#include <string_view>

#include "chat/natsx/kv.hpp"
#include "chat/telemetry/semconv.hpp"
#include "internal.hpp"
#include "outbound.hpp"

namespace chat::natsx {

namespace semconv = telemetry::semconv;
using telemetry::Span;
using telemetry::SpanContext;
using telemetry::SpanKind;

namespace {

int64_t ToNanos(std::chrono::nanoseconds d) { return d.count(); }

void OnAsyncPublishError(jsCtx*, jsPubAckErr* pae, void* closure) {
  static_cast<JetStream*>(closure)->RecordAsyncFailure(static_cast<int>(pae->Err),
                                                       static_cast<int>(pae->ErrCode));
}

constexpr std::string_view kJsApiPrefix = "$JS.API";
constexpr std::string_view kAckPrefix = "$JS.ACK.";
// Pull requests expire on the server this much before the caller gives up, so the 408 and the
// last deliveries of a request normally arrive within the same Fetch (libnats does the same).
constexpr auto kExpiryMargin = std::chrono::milliseconds(10);
constexpr auto kMinWaitForMargin = std::chrono::milliseconds(20);
// The inbox subscription only ever holds deliveries of our own pull requests (bounded by the
// requested batches and the consumer's max_ack_pending), so generous limits cost nothing.
constexpr int kPendingMsgsLimit = 1 << 20;
constexpr int kPendingBytesLimit = 512 * 1024 * 1024;

bool IsJsDelivery(natsMsg* m) {
  const char* reply = natsMsg_GetReply(m);
  return reply != nullptr && std::string_view(reply).starts_with(kAckPrefix);
}

template <typename T>
bool ParseNumber(std::string_view text, T& out) {
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), out);
  return ec == std::errc() && end == text.data() + text.size();
}

// Delivery metadata from the $JS.ACK reply subject:
//   v1: $JS.ACK.<stream>.<consumer>.<delivered>.<sseq>.<cseq>.<ts_ns>.<pending>      (9 tokens)
//   v2: $JS.ACK.<domain>.<acc_hash>.<stream>.<consumer>.<delivered>.<sseq>.<cseq>.<ts_ns>
//       .<pending>[.<token>...]                                                   (11+ tokens)
bool ParseAckSubject(std::string_view reply, DeliveryInfo& d) {
  std::array<std::string_view, 16> tok{};
  size_t n = 0;
  while (true) {
    if (n == tok.size()) return false;
    size_t dot = reply.find('.');
    tok[n++] = reply.substr(0, dot);
    if (dot == std::string_view::npos) break;
    reply.remove_prefix(dot + 1);
  }
  if (n < 9 || (n > 9 && n < 11) || tok[0] != "$JS" || tok[1] != "ACK") return false;
  size_t base = n == 9 ? 2 : 4;  // index of <stream>
  uint64_t delivered = 0, sseq = 0, cseq = 0;
  int64_t ts = 0;
  if (!ParseNumber(tok[base + 2], delivered) || !ParseNumber(tok[base + 3], sseq) ||
      !ParseNumber(tok[base + 4], cseq) || !ParseNumber(tok[base + 5], ts)) {
    return false;
  }
  d.stream = std::string(tok[base]);
  d.consumer = std::string(tok[base + 1]);
  d.delivery_count = delivered;
  d.stream_sequence = sseq;
  d.consumer_sequence = cseq;
  d.timestamp_unix_nano = ts;
  return true;
}

// The code of a JetStream status message (header-only, "NATS/1.0 408 Request Timeout"), or 0.
int StatusCodeOf(natsMsg* m, std::string_view& description) {
  const char* v = nullptr;
  if (natsMsgHeader_Get(m, "Status", &v) != NATS_OK || v == nullptr) return 0;
  int code = 0;
  if (!ParseNumber(std::string_view(v), code)) return 0;
  const char* desc = nullptr;
  if (natsMsgHeader_Get(m, "Description", &desc) == NATS_OK && desc != nullptr) {
    description = desc;
  }
  return code;
}

bool IsOutOfStorage(jsErrCode code) {
  return code == JSStorageResourcesExceededErr || code == JSMemoryResourcesExceededErr;
}

core::Status JsStatus(natsStatus s, jsErrCode code, std::string_view what) {
  if (s == NATS_OK) return core::Status::Ok();
  if (IsOutOfStorage(code)) {
    return core::ResourceExhausted(std::string(what) + ": insufficient JetStream storage");
  }
  if (code == JSStreamNotFoundErr || code == JSConsumerNotFoundErr) {
    return core::NotFound(std::string(what) + ": not found");
  }
  return internal::ToStatus(s, what);
}

}  // namespace

JetStream::JetStream(Connection& conn, JetStreamOptions options) : conn_(conn), options_(options) {
  if (options_.clock == nullptr) options_.clock = &core::SystemClock::Instance();
}

JetStream::~JetStream() {
  if (js_ != nullptr) jsCtx_Destroy(js_);
}

core::Result<std::unique_ptr<JetStream>> JetStream::Create(Connection& conn,
                                                           JetStreamOptions options) {
  std::unique_ptr<JetStream> js(new JetStream(conn, options));
  jsOptions o;
  jsOptions_Init(&o);
  o.Wait = js->options_.api_timeout.count();
  o.PublishAsync.MaxPending = js->options_.max_pending_async;
  o.PublishAsync.ErrHandler = &OnAsyncPublishError;
  o.PublishAsync.ErrHandlerClosure = js.get();
  o.PublishAsync.StallWait = js->options_.api_timeout.count();
  natsStatus s = natsConnection_JetStream(&js->js_, conn.native(), &o);
  if (s != NATS_OK) return internal::ToStatus(s, "create JetStream context");
  return js;
}

void JetStream::RecordAsyncFailure(int nats_status, int js_error_code) {
  async_failures_.fetch_add(1);
  conn_.metrics().js_async_publish_failed->Add(1);
  conn_.telemetry().logger->Warn(
      "jetstream async publish not acknowledged",
      {{"error", natsStatus_GetText(static_cast<natsStatus>(nats_status))},
       {"js_error_code", js_error_code}});
}

core::Status JetStream::AddOrUpdateStream(const StreamConfig& config) {
  if (config.name.empty() || config.subjects.empty()) {
    return core::InvalidArgument("stream needs a name and subjects");
  }
  jsStreamConfig cfg;
  jsStreamConfig_Init(&cfg);
  std::vector<const char*> subjects;
  for (const auto& s : config.subjects) subjects.push_back(s.c_str());
  cfg.Name = config.name.c_str();
  cfg.Subjects = subjects.data();
  cfg.SubjectsLen = static_cast<int>(subjects.size());
  cfg.Storage = config.memory_storage ? js_MemoryStorage : js_FileStorage;
  cfg.MaxMsgs = config.max_msgs;
  cfg.MaxBytes = config.max_bytes;
  cfg.MaxMsgSize = config.max_msg_size;
  cfg.MaxAge = ToNanos(config.max_age);
  cfg.Replicas = config.replicas;
  if (config.duplicate_window.count() > 0) cfg.Duplicates = ToNanos(config.duplicate_window);
  jsStreamInfo* si = nullptr;
  auto jerr = static_cast<jsErrCode>(0);
  natsStatus s = js_AddStream(&si, js_, &cfg, nullptr, &jerr);
  // An existing stream is updated. nats-server 2.9 checks the storage reservation before it
  // notices that the stream exists, so re-adding one whose max_bytes does not fit a second time
  // beside everything reserved (itself included) fails with 10047 (10028 for memory) instead of
  // 10058, and a restarted persist-worker could not set up CHAT_MESSAGES. Both mean "try an
  // update"; when there is no such stream, the update's not-found gives the add's answer back.
  if (s != NATS_OK && (jerr == JSStreamNameExistErr || IsOutOfStorage(jerr))) {
    const natsStatus add_status = s;
    const jsErrCode add_error = jerr;
    jerr = static_cast<jsErrCode>(0);
    s = js_UpdateStream(&si, js_, &cfg, nullptr, &jerr);
    if (s != NATS_OK && jerr == JSStreamNotFoundErr) {
      s = add_status;
      jerr = add_error;
    }
  }
  if (si != nullptr) jsStreamInfo_Destroy(si);
  if (s != NATS_OK) {
    conn_.telemetry().logger->Warn(
        "jetstream stream set-up failed",
        {{"stream", std::string_view(config.name)},
         {"error", telemetry::AttributeValue(internal::NatsErrorText(s))},
         {"js_error_code", static_cast<int>(jerr)}});
  }
  return JsStatus(s, jerr, "add stream");
}

core::Status JetStream::DeleteStream(const std::string& name) {
  auto jerr = static_cast<jsErrCode>(0);
  natsStatus s = js_DeleteStream(js_, name.c_str(), nullptr, &jerr);
  return JsStatus(s, jerr, "delete stream");
}

core::Status JetStream::AddOrUpdateConsumer(const ConsumerConfig& config) {
  if (config.stream.empty() || config.durable.empty()) {
    return core::InvalidArgument("consumer needs a stream and a durable name");
  }
  jsConsumerConfig cfg;
  jsConsumerConfig_Init(&cfg);
  cfg.Durable = config.durable.c_str();
  cfg.AckPolicy = js_AckExplicit;
  cfg.AckWait = ToNanos(config.ack_wait);
  cfg.MaxDeliver = config.max_deliver;
  cfg.MaxAckPending = config.max_ack_pending;
  cfg.DeliverPolicy = config.deliver_new_only ? js_DeliverNew : js_DeliverAll;
  if (!config.filter_subject.empty()) cfg.FilterSubject = config.filter_subject.c_str();
  jsConsumerInfo* ci = nullptr;
  auto jerr = static_cast<jsErrCode>(0);
  natsStatus s = js_AddConsumer(&ci, js_, config.stream.c_str(), &cfg, nullptr, &jerr);
  if (s != NATS_OK && jerr != JSStreamNotFoundErr) {
    // Exists with another configuration: update it in place.
    jerr = static_cast<jsErrCode>(0);
    s = js_UpdateConsumer(&ci, js_, config.stream.c_str(), &cfg, nullptr, &jerr);
  }
  if (ci != nullptr) jsConsumerInfo_Destroy(ci);
  if (s != NATS_OK) {
    conn_.telemetry().logger->Warn(
        "jetstream consumer set-up failed",
        {{"stream", std::string_view(config.stream)},
         {"durable", std::string_view(config.durable)},
         {"error", telemetry::AttributeValue(internal::NatsErrorText(s))},
         {"js_error_code", static_cast<int>(jerr)}});
  }
  return JsStatus(s, jerr, "add consumer");
}

core::Result<uint64_t> JetStream::Publish(const core::SubjectTemplate& tmpl, Args args,
                                          std::string_view payload, const SpanContext& parent,
                                          const Headers& headers, std::string_view msg_id) {
  internal::OutboundMessage out(conn_, internal::kPublishSend);
  CHAT_RETURN_IF_ERROR(out.Build(tmpl, args, payload, parent, headers));
  Span& span = out.span();
  jsPubOptions po;
  jsPubOptions_Init(&po);
  std::string id(msg_id);
  if (!id.empty()) po.MsgId = id.c_str();
  jsPubAck* pa = nullptr;
  auto jerr = static_cast<jsErrCode>(0);
  natsStatus s = js_PublishMsg(&pa, js_, out.msg(), &po, &jerr);
  if (s != NATS_OK) {
    if (s == NATS_TIMEOUT) {
      span.RecordError("timeout", "no JetStream ack within the timeout", "nats",
                       "publish timed out");
      return core::DeadlineExceeded("JetStream publish not acknowledged in time");
    }
    out.RecordSendFailure(internal::NatsErrorText(s));
    return internal::ToStatus(s, "JetStream publish");
  }
  uint64_t seq = pa->Sequence;
  jsPubAck_Destroy(pa);
  if (span.IsRecording()) span.SetAttribute(semconv::kMessagingMessageId, std::to_string(seq));
  return seq;
}

core::Status JetStream::PublishAsync(const core::SubjectTemplate& tmpl, Args args,
                                     std::string_view payload, const SpanContext& parent,
                                     const Headers& headers) {
  // The span covers handing the message to libnats; a later ack failure is counted and logged
  // (the span has ended by then).
  internal::OutboundMessage out(conn_, internal::kPublishSend);
  CHAT_RETURN_IF_ERROR(out.Build(tmpl, args, payload, parent, headers));
  natsMsg* raw = out.Release();
  natsStatus s = js_PublishMsgAsync(js_, &raw, nullptr);  // takes ownership on success (raw = NULL)
  if (raw != nullptr) natsMsg_Destroy(raw);
  if (s != NATS_OK) {
    out.span().RecordError(s == NATS_TIMEOUT ? "timeout" : "publish_failed",
                           internal::NatsErrorText(s), "nats", "publish failed");
    return internal::ToStatus(s, "JetStream async publish");
  }
  return core::Status::Ok();
}

core::Status JetStream::PublishAsyncComplete(std::chrono::milliseconds timeout) {
  jsPubOptions po;
  jsPubOptions_Init(&po);
  po.MaxWait = timeout.count();
  natsStatus s = js_PublishAsyncComplete(js_, &po);
  return internal::ToStatus(s, "JetStream async publish completion");
}

core::Result<std::unique_ptr<PullConsumer>> JetStream::BindPullConsumer(
    const std::string& stream, const std::string& durable,
    std::vector<core::SubjectTemplate> templates) {
  if (templates.empty()) return core::InvalidArgument("pull consumer needs a template");
  jsConsumerInfo* ci = nullptr;
  auto jerr = static_cast<jsErrCode>(0);
  natsStatus s = js_GetConsumerInfo(&ci, js_, stream.c_str(), durable.c_str(), nullptr, &jerr);
  if (s != NATS_OK) return JsStatus(s, jerr, "consumer info");
  jsConsumerInfo_Destroy(ci);

  // A unique inbox under the connection's prefix (user JWTs may only allow their own).
  natsInbox* raw_inbox = nullptr;
  s = natsInbox_Create(&raw_inbox);
  if (s != NATS_OK) return internal::ToStatus(s, "create pull inbox");
  std::string_view unique(raw_inbox);
  if (unique.starts_with("_INBOX.")) unique.remove_prefix(7);
  const std::string& prefix = conn_.options().inbox_prefix;
  std::string inbox = (prefix.empty() ? std::string("_INBOX") : prefix) + "." + std::string(unique);
  natsInbox_Destroy(raw_inbox);

  natsSubscription* sub = nullptr;
  s = natsConnection_SubscribeSync(&sub, conn_.native(), (inbox + ".*").c_str());
  if (s == NATS_OK) {
    s = natsSubscription_SetPendingLimits(sub, kPendingMsgsLimit, kPendingBytesLimit);
  }
  if (s != NATS_OK) {
    if (sub != nullptr) natsSubscription_Destroy(sub);
    return internal::ToStatus(s, "subscribe pull inbox");
  }
  std::string next = std::string(kJsApiPrefix) + ".CONSUMER.MSG.NEXT." + stream + "." + durable;
  return std::unique_ptr<PullConsumer>(new PullConsumer(
      *this, sub, std::move(inbox), std::move(next), stream, durable, std::move(templates)));
}

// ---------------------------------------------------------------------------------------------
// PullConsumer

PullConsumer::PullConsumer(JetStream& js, natsSubscription* sub, std::string inbox,
                           std::string next_subject, std::string stream, std::string durable,
                           std::vector<core::SubjectTemplate> templates)
    : js_(js),
      sub_(sub),
      inbox_(std::move(inbox)),
      next_subject_(std::move(next_subject)),
      stream_(std::move(stream)),
      durable_(std::move(durable)),
      templates_(std::move(templates)) {
  for (const auto& t : templates_) {
    std::string n = "process ";
    n += t.text();
    span_names_.push_back(std::move(n));
  }
}

PullConsumer::~PullConsumer() {
  // Leaves the durable consumer on the server (it is shared state), only drops our interest.
  if (sub_ == nullptr) return;
  std::lock_guard<std::mutex> lock(pull_mu_);
  natsConnection* nc = js_.connection().native();
  // Deliveries that arrived after the last Fetch are handed back now instead of after the ack
  // wait (a closed subscription no longer yields its queue, hence before unsubscribing).
  int pending = 0;
  while (natsSubscription_GetPending(sub_, &pending, nullptr) == NATS_OK && pending > 0) {
    natsMsg* m = nullptr;
    natsStatus s = natsSubscription_NextMsg(&m, sub_, 1);
    if (s == NATS_SLOW_CONSUMER) continue;
    if (s != NATS_OK || m == nullptr) break;
    if (IsJsDelivery(m)) (void)internal::PublishJsAck(nc, m, internal::JsAck::kNak);
    natsMsg_Destroy(m);
  }
  (void)natsSubscription_Unsubscribe(sub_);
  natsSubscription_Destroy(sub_);
}

core::Status PullConsumer::SendPullRequest(const std::string& reply, size_t batch,
                                           std::chrono::nanoseconds expires, bool no_wait) {
  std::string req = "{\"batch\":";
  req += std::to_string(batch);
  req += ",\"expires\":";
  req += std::to_string(expires.count());
  if (no_wait) req += ",\"no_wait\":true";
  req += '}';
  natsStatus s =
      natsConnection_PublishRequest(js_.connection().native(), next_subject_.c_str(), reply.c_str(),
                                    req.data(), static_cast<int>(req.size()));
  return internal::ToStatus(s, "send pull request");
}

core::Status PullConsumer::Pull(int batch, std::chrono::milliseconds timeout,
                                std::vector<natsMsg*>& out) {
  if (batch <= 0) return core::InvalidArgument("fetch batch must be positive");
  std::lock_guard<std::mutex> lock(pull_mu_);
  using Clock = std::chrono::steady_clock;
  const auto deadline = Clock::now() + timeout;
  const auto want = static_cast<size_t>(batch);

  // 1. Deliveries of earlier requests that arrived after their Fetch gave up. Stale status
  //    messages are dropped here.
  int pending = 0;
  while (out.size() < want && natsSubscription_GetPending(sub_, &pending, nullptr) == NATS_OK &&
         pending > 0) {
    natsMsg* m = nullptr;
    natsStatus s = natsSubscription_NextMsg(&m, sub_, 1);
    if (s == NATS_SLOW_CONSUMER) continue;  // counted by the connection's error handler
    if (s != NATS_OK || m == nullptr) break;
    if (IsJsDelivery(m)) {
      out.push_back(m);
    } else {
      natsMsg_Destroy(m);
    }
  }

  // 2. Pull requests. The first is no_wait (the server answers as soon as it has anything
  //    instead of holding out for the whole batch); when it ends without a message, one waiting
  //    request covers the rest of the time.
  std::string reply;  // of the request in flight; empty = none
  bool no_wait = false;
  int requests = 0;
  while (out.size() < want) {
    auto remaining = deadline - Clock::now();
    if (reply.empty()) {
      if (requests == 2 || remaining <= Clock::duration::zero()) break;
      if (requests == 1 && remaining < kMinWaitForMargin) break;
      no_wait = requests == 0 && want - out.size() > 1;
      auto expires = std::chrono::duration_cast<std::chrono::nanoseconds>(remaining);
      if (remaining >= kMinWaitForMargin) expires -= kExpiryMargin;
      expires = std::max<std::chrono::nanoseconds>(expires, std::chrono::milliseconds(1));
      reply = inbox_ + "." + std::to_string(++request_seq_);
      CHAT_RETURN_IF_ERROR(SendPullRequest(reply, want - out.size(), expires, no_wait));
      ++requests;
    }
    auto wait_ms = std::chrono::ceil<std::chrono::milliseconds>(remaining).count();
    if (wait_ms <= 0) break;
    natsMsg* m = nullptr;
    natsStatus s = natsSubscription_NextMsg(&m, sub_, wait_ms);
    if (s == NATS_TIMEOUT) break;
    if (s == NATS_SLOW_CONSUMER) continue;
    if (s != NATS_OK || m == nullptr) {
      if (!out.empty()) break;
      return internal::ToStatus(s, "fetch");
    }
    if (IsJsDelivery(m)) {
      out.push_back(m);
      continue;
    }
    std::string_view description;
    int code = StatusCodeOf(m, description);
    const char* subject = natsMsg_GetSubject(m);
    bool current = subject != nullptr && reply == subject;
    std::string desc(description);
    natsMsg_Destroy(m);
    if (!current || code == 100) continue;  // a stale request's status, or a heartbeat
    if ((code == 404 || code == 408) && no_wait && out.empty()) {
      reply.clear();  // nothing was ready: wait properly for the rest of the time
      continue;
    }
    if (code == 404 || code == 408) break;
    // 409 (consumer deleted, max waiting exceeded, leadership change, ...) or anything else.
    if (!warned_refused_) {
      warned_refused_ = true;
      js_.connection().telemetry().logger->Warn("jetstream pull request refused",
                                                {{"durable", std::string_view(durable_)},
                                                 {"status", static_cast<int64_t>(code)},
                                                 {"description", std::string_view(desc)}});
    }
    if (out.empty()) {
      return core::Unavailable("pull request refused: " + std::to_string(code) + " " + desc);
    }
    break;
  }
  return core::Status::Ok();
}

core::Result<int> PullConsumer::Fetch(int batch, std::chrono::milliseconds timeout,
                                      const Handler& handler) {
  std::vector<natsMsg*> raw;
  core::Status st = Pull(batch, timeout, raw);
  if (!st.ok() && raw.empty()) return st;
  int handled = 0;
  for (natsMsg* m : raw) {
    Process(m, handler);  // takes ownership
    ++handled;
  }
  return handled;
}

core::Result<std::vector<std::unique_ptr<ReceivedMessage>>> PullConsumer::FetchBatch(
    int batch, std::chrono::milliseconds timeout) {
  std::vector<std::unique_ptr<ReceivedMessage>> out;
  std::vector<natsMsg*> raw;
  core::Status st = Pull(batch, timeout, raw);
  if (!st.ok() && raw.empty()) return st;
  out.reserve(raw.size());
  for (natsMsg* m : raw) {
    if (auto received = Receive(m)) out.push_back(std::move(received));  // takes ownership
  }
  return out;
}

ReceivedMessage::~ReceivedMessage() {
  if (!ctx_.acknowledged() && msg_.delivery().jetstream) {
    // Dropped without a decision: hand it back at once rather than after the ack wait.
    (void)ctx_.Nak();
  }
}

std::unique_ptr<ReceivedMessage> PullConsumer::Receive(natsMsg* raw) {
  Connection& conn = js_.connection();
  const auto& tel = conn.telemetry();
  const char* raw_subject = natsMsg_GetSubject(raw);
  const core::SubjectTemplate* tmpl =
      core::MatchTemplate(templates_, raw_subject == nullptr ? std::string_view() : raw_subject);
  Message msg(raw, tmpl);
  DeliveryInfo& d = msg.mutable_delivery();
  d.jetstream = true;
  const char* reply = natsMsg_GetReply(raw);
  if (reply == nullptr || !ParseAckSubject(reply, d)) {
    tel.logger->Warn("jetstream delivery has unparsable metadata",
                     {{"durable", std::string_view(durable_)}});
  }

  size_t size = msg.payload().size();
  if (size > conn.options().max_inbound_payload_bytes || tmpl == nullptr) {
    // Undeliverable forever: terminate instead of letting it redeliver in a loop.
    bool oversized = tmpl != nullptr;
    (oversized ? conn.metrics().rejected_oversized : conn.metrics().rejected_no_template)->Add(1);
    tel.logger->Warn(oversized ? "jetstream message terminated: payload too large"
                               : "jetstream message terminated: subject matches no template",
                     {{"durable", std::string_view(durable_)},
                      {"stream_sequence", static_cast<int64_t>(d.stream_sequence)}});
    (void)internal::PublishJsAck(conn.native(), raw, internal::JsAck::kTerm);
    return nullptr;
  }

  // Parent or link (observability §3.4).
  SpanContext creation = conn.ExtractContext(raw);
  telemetry::SpanStartOptions so;
  so.kind = SpanKind::kConsumer;
  if (creation.IsValid()) {
    int64_t age_ns = js_.options().clock->NowUnixNanos() - d.timestamp_unix_nano;
    int64_t limit_ns =
        std::chrono::duration_cast<std::chrono::nanoseconds>(js_.options().trace_link_age).count();
    if (d.delivery_count > 1) {
      so.links.push_back({creation, {{semconv::kChatLinkReason, "redelivery"}}});
    } else if (age_ns > limit_ns) {
      so.links.push_back({creation, {{semconv::kChatLinkReason, "backlog"}}});
    } else {
      so.parent = creation;
    }
  }
  auto index = static_cast<size_t>(tmpl - templates_.data());
  Span span = tel.tracer.StartSpan(span_names_[index], std::move(so));
  conn.SetMessagingAttributes(span, "process", "process", msg.subject(), *tmpl, size, false);
  if (span.IsRecording()) {
    span.SetAttribute(semconv::kMessagingDestinationSubscriptionName, durable_)
        .SetAttribute(semconv::kMessagingMessageId, std::to_string(d.stream_sequence))
        .SetAttribute(semconv::kChatJetstreamDeliveryCount, static_cast<int64_t>(d.delivery_count));
  }
  return std::unique_ptr<ReceivedMessage>(
      new ReceivedMessage(conn, std::move(msg), std::move(span)));
}

void PullConsumer::Process(natsMsg* raw, const Handler& handler) {
  std::unique_ptr<ReceivedMessage> received = Receive(raw);
  if (received == nullptr) return;
  Connection& conn = js_.connection();
  MessageContext& ctx = received->context();
  core::Status st = internal::RunHandler(conn, received->message(), ctx, received->span(), handler);
  if (!ctx.acknowledged()) {
    core::Status ack = st.ok() ? ctx.Ack() : ctx.Nak();
    if (!ack.ok()) {
      conn.telemetry().logger->Warn(
          received->span().Context(), "jetstream acknowledgement failed",
          {{"durable", std::string_view(durable_)}, {"error", std::string_view(ack.message())}});
    }
  }
}

}  // namespace chat::natsx
