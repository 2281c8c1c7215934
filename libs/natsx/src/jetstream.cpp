#include "chat/natsx/jetstream.hpp"

#include <nats/nats.h>

#include "chat/natsx/kv.hpp"
#include "chat/telemetry/semconv.hpp"
#include "internal.hpp"

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

core::Status JsStatus(natsStatus s, jsErrCode code, std::string_view what) {
  if (s == NATS_OK) return core::Status::Ok();
  if (code == JSStreamNotFoundErr || code == JSConsumerNotFoundErr) {
    return core::NotFound(std::string(what) + ": not found");
  }
  return internal::ToStatus(s, what);
}

}  // namespace

JetStream::JetStream(Connection& conn, JetStreamOptions options)
    : conn_(conn), options_(options) {
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
  cfg.MaxAge = ToNanos(config.max_age);
  cfg.Replicas = config.replicas;
  if (config.duplicate_window.count() > 0) cfg.Duplicates = ToNanos(config.duplicate_window);
  jsStreamInfo* si = nullptr;
  jsErrCode jerr = static_cast<jsErrCode>(0);
  natsStatus s = js_AddStream(&si, js_, &cfg, nullptr, &jerr);
  if (s != NATS_OK && jerr == JSStreamNameExistErr) {
    jerr = static_cast<jsErrCode>(0);
    s = js_UpdateStream(&si, js_, &cfg, nullptr, &jerr);
  }
  if (si != nullptr) jsStreamInfo_Destroy(si);
  if (s != NATS_OK) {
    conn_.telemetry().logger->Warn("jetstream stream set-up failed",
                                   {{"stream", std::string_view(config.name)},
                                    {"error", telemetry::AttributeValue(internal::NatsErrorText(s))},
                                    {"js_error_code", static_cast<int>(jerr)}});
  }
  return JsStatus(s, jerr, "add stream");
}

core::Status JetStream::DeleteStream(const std::string& name) {
  jsErrCode jerr = static_cast<jsErrCode>(0);
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
  jsErrCode jerr = static_cast<jsErrCode>(0);
  natsStatus s = js_AddConsumer(&ci, js_, config.stream.c_str(), &cfg, nullptr, &jerr);
  if (s != NATS_OK && jerr != JSStreamNotFoundErr) {
    // Exists with another configuration: update it in place.
    jerr = static_cast<jsErrCode>(0);
    s = js_UpdateConsumer(&ci, js_, config.stream.c_str(), &cfg, nullptr, &jerr);
  }
  if (ci != nullptr) jsConsumerInfo_Destroy(ci);
  if (s != NATS_OK) {
    conn_.telemetry().logger->Warn("jetstream consumer set-up failed",
                                   {{"stream", std::string_view(config.stream)},
                                    {"durable", std::string_view(config.durable)},
                                    {"error", telemetry::AttributeValue(internal::NatsErrorText(s))},
                                    {"js_error_code", static_cast<int>(jerr)}});
  }
  return JsStatus(s, jerr, "add consumer");
}

core::Result<uint64_t> JetStream::Publish(const SubjectTemplate& tmpl, Args args,
                                          std::string_view payload, const SpanContext& parent,
                                          const Headers& headers, std::string_view msg_id) {
  CHAT_ASSIGN_OR_RETURN(std::string subject, tmpl.Format(args));
  internal::SpanName name("publish ", tmpl);
  Span span = conn_.telemetry().tracer.StartSpan(name.view(), SpanKind::kProducer, parent);
  conn_.SetMessagingAttributes(span, "publish", "send", subject, tmpl, payload.size(), true);

  natsMsg* raw = nullptr;
  natsStatus s = natsMsg_Create(&raw, subject.c_str(), nullptr, payload.data(),
                                static_cast<int>(payload.size()));
  if (s != NATS_OK) {
    span.RecordError("publish_failed", natsStatus_GetText(s), "nats", "publish failed");
    return internal::ToStatus(s, "create message");
  }
  std::unique_ptr<natsMsg, internal::MsgDeleter> msg(raw);
  if (auto st = conn_.InjectHeaders(msg.get(), span.Context(), headers); !st.ok()) {
    span.RecordError("publish_failed", st.message(), "nats", "publish failed");
    return st;
  }
  jsPubOptions po;
  jsPubOptions_Init(&po);
  std::string id(msg_id);
  if (!id.empty()) po.MsgId = id.c_str();
  jsPubAck* pa = nullptr;
  jsErrCode jerr = static_cast<jsErrCode>(0);
  s = js_PublishMsg(&pa, js_, msg.get(), &po, &jerr);
  if (s != NATS_OK) {
    if (s == NATS_TIMEOUT) {
      span.RecordError("timeout", "no JetStream ack within the timeout", "nats",
                       "publish timed out");
      return core::DeadlineExceeded("JetStream publish not acknowledged in time");
    }
    span.RecordError("publish_failed", internal::NatsErrorText(s), "nats", "publish failed");
    return internal::ToStatus(s, "JetStream publish");
  }
  uint64_t seq = pa->Sequence;
  jsPubAck_Destroy(pa);
  if (span.IsRecording()) span.SetAttribute(semconv::kMessagingMessageId, std::to_string(seq));
  return seq;
}

core::Status JetStream::PublishAsync(const SubjectTemplate& tmpl, Args args,
                                     std::string_view payload, const SpanContext& parent,
                                     const Headers& headers) {
  CHAT_ASSIGN_OR_RETURN(std::string subject, tmpl.Format(args));
  internal::SpanName name("publish ", tmpl);
  // The span covers handing the message to libnats; a later ack failure is counted and logged
  // (the span has ended by then).
  Span span = conn_.telemetry().tracer.StartSpan(name.view(), SpanKind::kProducer, parent);
  conn_.SetMessagingAttributes(span, "publish", "send", subject, tmpl, payload.size(), true);
  natsMsg* raw = nullptr;
  natsStatus s = natsMsg_Create(&raw, subject.c_str(), nullptr, payload.data(),
                                static_cast<int>(payload.size()));
  if (s != NATS_OK) {
    span.RecordError("publish_failed", natsStatus_GetText(s), "nats", "publish failed");
    return internal::ToStatus(s, "create message");
  }
  if (auto st = conn_.InjectHeaders(raw, span.Context(), headers); !st.ok()) {
    natsMsg_Destroy(raw);
    span.RecordError("publish_failed", st.message(), "nats", "publish failed");
    return st;
  }
  s = js_PublishMsgAsync(js_, &raw, nullptr);  // takes ownership on success (raw = NULL)
  if (raw != nullptr) natsMsg_Destroy(raw);
  if (s != NATS_OK) {
    span.RecordError(s == NATS_TIMEOUT ? "timeout" : "publish_failed",
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
    std::vector<SubjectTemplate> templates) {
  if (templates.empty()) return core::InvalidArgument("pull consumer needs a template");
  jsConsumerInfo* ci = nullptr;
  jsErrCode jerr = static_cast<jsErrCode>(0);
  natsStatus s = js_GetConsumerInfo(&ci, js_, stream.c_str(), durable.c_str(), nullptr, &jerr);
  if (s != NATS_OK) return JsStatus(s, jerr, "consumer info");
  std::string filter;
  if (ci->Config != nullptr && ci->Config->FilterSubject != nullptr) {
    filter = ci->Config->FilterSubject;
  }
  jsConsumerInfo_Destroy(ci);

  jsSubOptions so;
  jsSubOptions_Init(&so);
  so.Stream = stream.c_str();
  so.Consumer = durable.c_str();
  natsSubscription* sub = nullptr;
  jerr = static_cast<jsErrCode>(0);
  s = js_PullSubscribe(&sub, js_, filter.empty() ? nullptr : filter.c_str(), durable.c_str(),
                       nullptr, &so, &jerr);
  if (s != NATS_OK) return JsStatus(s, jerr, "bind pull consumer");
  return std::unique_ptr<PullConsumer>(
      new PullConsumer(*this, sub, stream, durable, std::move(templates)));
}

// ---------------------------------------------------------------------------------------------
// PullConsumer

PullConsumer::PullConsumer(JetStream& js, natsSubscription* sub, std::string stream,
                           std::string durable, std::vector<SubjectTemplate> templates)
    : js_(js),
      sub_(sub),
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
  if (sub_ != nullptr) natsSubscription_Destroy(sub_);
}

core::Result<int> PullConsumer::Fetch(int batch, std::chrono::milliseconds timeout,
                                      const Handler& handler) {
  natsMsgList list{};
  jsErrCode jerr = static_cast<jsErrCode>(0);
  natsStatus s = natsSubscription_Fetch(&list, sub_, batch, timeout.count(), &jerr);
  if (s == NATS_TIMEOUT && list.Count == 0) {
    natsMsgList_Destroy(&list);
    return 0;
  }
  if (s != NATS_OK && list.Count == 0) {
    natsMsgList_Destroy(&list);
    return internal::ToStatus(s, "fetch");
  }
  int handled = 0;
  for (int i = 0; i < list.Count; ++i) {
    natsMsg* m = list.Msgs[i];
    list.Msgs[i] = nullptr;  // ownership moves to Process
    if (m == nullptr) continue;
    Process(m, handler);
    ++handled;
  }
  natsMsgList_Destroy(&list);
  return handled;
}

core::Result<std::vector<std::unique_ptr<ReceivedMessage>>> PullConsumer::FetchBatch(
    int batch, std::chrono::milliseconds timeout) {
  std::vector<std::unique_ptr<ReceivedMessage>> out;
  natsMsgList list{};
  jsErrCode jerr = static_cast<jsErrCode>(0);
  natsStatus s = natsSubscription_Fetch(&list, sub_, batch, timeout.count(), &jerr);
  if (s == NATS_TIMEOUT && list.Count == 0) {
    natsMsgList_Destroy(&list);
    return out;
  }
  if (s != NATS_OK && list.Count == 0) {
    natsMsgList_Destroy(&list);
    return internal::ToStatus(s, "fetch");
  }
  out.reserve(static_cast<size_t>(list.Count));
  for (int i = 0; i < list.Count; ++i) {
    natsMsg* m = list.Msgs[i];
    list.Msgs[i] = nullptr;  // ownership moves to Receive
    if (m == nullptr) continue;
    if (auto received = Receive(m)) out.push_back(std::move(received));
  }
  natsMsgList_Destroy(&list);
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
  const SubjectTemplate* tmpl =
      MatchTemplate(templates_, raw_subject == nullptr ? std::string_view() : raw_subject);
  Message msg(raw, tmpl);
  DeliveryInfo& d = msg.mutable_delivery();
  d.jetstream = true;
  jsMsgMetaData* meta = nullptr;
  if (natsMsg_GetMetaData(&meta, raw) == NATS_OK && meta != nullptr) {
    d.stream_sequence = meta->Sequence.Stream;
    d.consumer_sequence = meta->Sequence.Consumer;
    d.delivery_count = meta->NumDelivered;
    d.timestamp_unix_nano = meta->Timestamp;
    if (meta->Stream != nullptr) d.stream = meta->Stream;
    if (meta->Consumer != nullptr) d.consumer = meta->Consumer;
    jsMsgMetaData_Destroy(meta);
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
    natsMsg_Term(raw, nullptr);
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
        .SetAttribute(semconv::kChatJetstreamDeliveryCount,
                      static_cast<int64_t>(d.delivery_count));
  }
  return std::unique_ptr<ReceivedMessage>(new ReceivedMessage(conn, std::move(msg), std::move(span)));
}

void PullConsumer::Process(natsMsg* raw, const Handler& handler) {
  std::unique_ptr<ReceivedMessage> received = Receive(raw);
  if (received == nullptr) return;
  Connection& conn = js_.connection();
  MessageContext& ctx = received->context();
  core::Status st =
      internal::RunHandler(conn, received->message(), ctx, received->span(), handler);
  if (!ctx.acknowledged()) {
    core::Status ack = st.ok() ? ctx.Ack() : ctx.Nak();
    if (!ack.ok()) {
      conn.telemetry().logger->Warn(received->span().Context(), "jetstream acknowledgement failed",
                                    {{"durable", std::string_view(durable_)},
                                     {"error", std::string_view(ack.message())}});
    }
  }
}

}  // namespace chat::natsx
