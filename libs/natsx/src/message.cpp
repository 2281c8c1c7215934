// Messages and acknowledgements: the received Message (an owned natsMsg with its template and
// JetStream delivery info), the MessageContext a handler gets next to it (child spans, Respond),
// and the JetStream Ack/Nak/Term, which are plain publishes to the message's $JS.ACK subject.
#include <nats/nats.h>

#include <string>
#include <utility>

#include "internal.hpp"

namespace chat::natsx {

using telemetry::Span;
using telemetry::SpanKind;

natsStatus internal::PublishJsAck(natsConnection* nc, natsMsg* msg, JsAck kind,
                                  std::chrono::milliseconds nak_delay) {
  const char* reply = msg == nullptr ? nullptr : natsMsg_GetReply(msg);
  if (reply == nullptr || reply[0] == '\0') return NATS_ILLEGAL_STATE;
  switch (kind) {
    case JsAck::kAck: return natsConnection_PublishString(nc, reply, "+ACK");
    case JsAck::kTerm: return natsConnection_PublishString(nc, reply, "+TERM");
    case JsAck::kNak: break;
  }
  if (nak_delay.count() <= 0) return natsConnection_PublishString(nc, reply, "-NAK");
  std::string body = "-NAK {\"delay\":";
  body += std::to_string(std::chrono::nanoseconds(nak_delay).count());
  body += '}';
  return natsConnection_PublishString(nc, reply, body.c_str());
}

// ---------------------------------------------------------------------------------------------
// Message

Message::Message(natsMsg* msg, const core::SubjectTemplate* tmpl) : msg_(msg), template_(tmpl) {}
Message::~Message() {
  if (msg_ != nullptr) natsMsg_Destroy(msg_);
}
Message::Message(Message&& other) noexcept
    : msg_(std::exchange(other.msg_, nullptr)),
      template_(other.template_),
      delivery_(std::move(other.delivery_)) {}
Message& Message::operator=(Message&& other) noexcept {
  if (this != &other) {
    if (msg_ != nullptr) natsMsg_Destroy(msg_);
    msg_ = std::exchange(other.msg_, nullptr);
    template_ = other.template_;
    delivery_ = std::move(other.delivery_);
  }
  return *this;
}

std::string_view Message::subject() const {
  if (msg_ == nullptr) return {};
  const char* s = natsMsg_GetSubject(msg_);
  return s == nullptr ? std::string_view() : std::string_view(s);
}
std::string_view Message::payload() const {
  if (msg_ == nullptr) return {};
  const char* d = natsMsg_GetData(msg_);
  int n = natsMsg_GetDataLength(msg_);
  if (d == nullptr || n <= 0) return {};
  return {d, static_cast<size_t>(n)};
}
std::string_view Message::reply_to() const {
  if (msg_ == nullptr) return {};
  const char* r = natsMsg_GetReply(msg_);
  return r == nullptr ? std::string_view() : std::string_view(r);
}
std::optional<std::string_view> Message::Header(std::string_view key) const {
  if (msg_ == nullptr) return std::nullopt;
  const char* v = nullptr;
  if (natsMsgHeader_Get(msg_, std::string(key).c_str(), &v) != NATS_OK || v == nullptr) {
    return std::nullopt;
  }
  return std::string_view(v);
}
std::optional<std::string_view> Message::Arg(std::string_view name) const {
  if (template_ == nullptr) return std::nullopt;
  return template_->Extract(subject(), name);
}

// ---------------------------------------------------------------------------------------------
// MessageContext

Span MessageContext::StartSpan(std::string_view name, SpanKind kind) const {
  return conn_.telemetry().tracer.StartSpan(name, kind, span_.Context());
}
const telemetry::Telemetry& MessageContext::telemetry() const { return conn_.telemetry(); }

core::Status MessageContext::Respond(std::string_view payload, const Headers& headers) {
  if (msg_.reply_to().empty()) return core::FailedPrecondition("message expects no reply");
  auto st = conn_.Respond(msg_, payload, headers);
  if (st.ok()) responded_ = true;
  return st;
}

core::Status MessageContext::Ack() {
  if (!msg_.delivery().jetstream) return core::FailedPrecondition("not a JetStream message");
  if (acked_) return core::FailedPrecondition("already acknowledged");
  natsStatus s = internal::PublishJsAck(conn_.native(), msg_.native(), internal::JsAck::kAck);
  if (s != NATS_OK) return internal::ToStatus(s, "ack");
  acked_ = true;
  span_.AddEvent("ack");
  return core::Status::Ok();
}

core::Status MessageContext::Nak(std::chrono::milliseconds delay) {
  if (!msg_.delivery().jetstream) return core::FailedPrecondition("not a JetStream message");
  if (acked_) return core::FailedPrecondition("already acknowledged");
  natsStatus s =
      internal::PublishJsAck(conn_.native(), msg_.native(), internal::JsAck::kNak, delay);
  if (s != NATS_OK) return internal::ToStatus(s, "nak");
  acked_ = true;
  span_.AddEvent("nak", {{"delay_ms", static_cast<int64_t>(delay.count())}});
  return core::Status::Ok();
}

core::Status MessageContext::Term(std::string_view reason) {
  if (!msg_.delivery().jetstream) return core::FailedPrecondition("not a JetStream message");
  if (acked_) return core::FailedPrecondition("already acknowledged");
  natsStatus s = internal::PublishJsAck(conn_.native(), msg_.native(), internal::JsAck::kTerm);
  if (s != NATS_OK) return internal::ToStatus(s, "term");
  acked_ = true;
  span_.AddEvent("term", {{"reason", reason}});
  return core::Status::Ok();
}

}  // namespace chat::natsx
