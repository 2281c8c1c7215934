// The outbound message builder: the one way natsx turns (template, args, payload, headers) into a
// libnats message under its send span. Connection::Publish, Connection::Request,
// JetStream::Publish and JetStream::PublishAsync all build through it, so the subject
// formatting, the span name and kind, attribute set M and the trace context injection are
// written once. Private to natsx (not installed).
#pragma once

#include <nats/nats.h>

#include <memory>
#include <string>
#include <string_view>

#include "chat/core/status.hpp"
#include "chat/core/subject.hpp"
#include "chat/natsx/connection.hpp"
#include "chat/telemetry/trace.hpp"
#include "internal.hpp"

namespace chat::natsx::internal {

// "<operation> <template>" built on the stack (no allocation per message for typical sizes).
class SpanName {
 public:
  SpanName(std::string_view operation, const core::SubjectTemplate& tmpl) {
    size_t n = operation.size() + tmpl.text().size();
    if (n <= sizeof(buf_)) {
      operation.copy(buf_, operation.size());
      tmpl.text().copy(buf_ + operation.size(), tmpl.text().size());
      view_ = std::string_view(buf_, n);
    } else {
      heap_.assign(operation);
      heap_.append(tmpl.text());
      view_ = heap_;
    }
  }
  SpanName(const SpanName&) = delete;
  SpanName& operator=(const SpanName&) = delete;
  ~SpanName() = default;
  std::string_view view() const { return view_; }

 private:
  char buf_[128]{};
  std::string heap_;
  std::string_view view_;
};

// What differs between the sends that share the builder.
struct SendKind {
  std::string_view span_prefix;     // span name is "<prefix><template>"
  telemetry::SpanKind span_kind;    // PRODUCER for publishes, CLIENT for requests
  std::string_view operation_name;  // messaging.operation.name
  std::string_view error_type;      // error.type when building or sending fails
  std::string_view error_summary;   // the span's status description for that failure
};

inline constexpr SendKind kPublishSend{"publish ", telemetry::SpanKind::kProducer, "publish",
                                       "publish_failed", "publish failed"};
inline constexpr SendKind kRequestSend{"request ", telemetry::SpanKind::kClient, "request",
                                       "request_failed", "request failed"};

// One outbound message and its send span. Build() first; the span ends when this is destroyed,
// after the message is freed (or after it was Released to libnats). Not thread-safe; lives on
// the sending thread's stack.
class OutboundMessage {
 public:
  OutboundMessage(const Connection& conn, const SendKind& kind) : conn_(conn), kind_(kind) {}
  OutboundMessage(const OutboundMessage&) = delete;
  OutboundMessage& operator=(const OutboundMessage&) = delete;
  ~OutboundMessage() = default;

  // Formats the subject (no allocation once the thread's buffer has grown), starts the span
  // "<prefix><template>" as a child of `parent` (a root when it is invalid), sets attribute set M
  // (operation type `send`), creates the message and injects the span's own context plus the
  // caller's extra headers. Errors: invalid_argument (bad args; no span is started), or the
  // mapped libnats status of message creation / header setting (recorded on the span).
  core::Status Build(const core::SubjectTemplate& tmpl, Args args, std::string_view payload,
                     const telemetry::SpanContext& parent, const Headers& headers);

  telemetry::Span& span() { return span_; }
  natsMsg* msg() const { return msg_.get(); }
  // Gives up ownership, for libnats calls that take the message (js_PublishMsgAsync).
  natsMsg* Release() { return msg_.release(); }
  // Records a failed send on the span with the kind's error type and summary.
  void RecordSendFailure(std::string_view description);

 private:
  const Connection& conn_;
  const SendKind& kind_;
  telemetry::Span span_{};  // declared before msg_: the message is freed before the span ends
  std::unique_ptr<natsMsg, MsgDeleter> msg_{};
};

}  // namespace chat::natsx::internal
