// Core NATS sends: Connection::Publish and Connection::Request, both built by the outbound
// message builder (outbound.hpp), and Connection::Respond, which replies to a request's inbox
// without trace headers (§3.3). Maps each send's libnats outcome to a status and the span.
#include <nats/nats.h>

#include <memory>
#include <string>

#include "internal.hpp"
#include "outbound.hpp"

namespace chat::natsx {

using telemetry::SpanContext;

core::Status Connection::Publish(const core::SubjectTemplate& tmpl, Args args,
                                 std::string_view payload, const SpanContext& parent,
                                 const Headers& headers) {
  internal::OutboundMessage out(*this, internal::kPublishSend);
  CHAT_RETURN_IF_ERROR(out.Build(tmpl, args, payload, parent, headers));
  natsStatus s = natsConnection_PublishMsg(nc_, out.msg());
  if (s != NATS_OK) {
    out.RecordSendFailure(natsStatus_GetText(s));
    return internal::ToStatus(s, "publish");
  }
  return core::Status::Ok();
}

core::Status Connection::PublishInContext(const core::SubjectTemplate& tmpl, Args args,
                                          std::string_view payload, const SpanContext& context) {
  std::string subject;
  CHAT_RETURN_IF_ERROR(core::FormatSubjectInto(tmpl, args.begin(), args.size(), subject));
  natsMsg* raw = nullptr;
  natsStatus s = natsMsg_Create(&raw, subject.c_str(), nullptr, payload.data(),
                                static_cast<int>(payload.size()));
  if (s != NATS_OK) return internal::ToStatus(s, "create message");
  std::unique_ptr<natsMsg, internal::MsgDeleter> msg(raw);
  CHAT_RETURN_IF_ERROR(InjectHeaders(msg.get(), context, {}));
  s = natsConnection_PublishMsg(nc_, msg.get());
  if (s != NATS_OK) return internal::ToStatus(s, "publish");
  return core::Status::Ok();
}

core::Result<Message> Connection::Request(const core::SubjectTemplate& tmpl, Args args,
                                          std::string_view payload,
                                          std::chrono::milliseconds timeout,
                                          const SpanContext& parent, const Headers& headers) {
  internal::OutboundMessage out(*this, internal::kRequestSend);
  CHAT_RETURN_IF_ERROR(out.Build(tmpl, args, payload, parent, headers));
  natsMsg* reply = nullptr;
  natsStatus s = natsConnection_RequestMsg(&reply, nc_, out.msg(), timeout.count());
  if (s == NATS_TIMEOUT) {
    out.span().RecordError("timeout", "no reply within the timeout", "nats", "request timed out");
    return core::DeadlineExceeded("request timed out");
  }
  if (s == NATS_NO_RESPONDERS) {
    out.span().RecordError("no_responders", "no responders for the subject", "nats",
                           "no responders");
    return core::Unavailable("no responders");
  }
  if (s != NATS_OK) {
    out.RecordSendFailure(natsStatus_GetText(s));
    return internal::ToStatus(s, "request");
  }
  return Message(reply, nullptr);
}

core::Status Connection::Respond(const Message& request, std::string_view payload,
                                 const Headers& headers) {
  if (request.reply_to().empty()) return core::FailedPrecondition("message expects no reply");
  std::string reply(request.reply_to());
  natsMsg* raw = nullptr;
  natsStatus s = natsMsg_Create(&raw, reply.c_str(), nullptr, payload.data(),
                                static_cast<int>(payload.size()));
  if (s != NATS_OK) return internal::ToStatus(s, "create reply");
  std::unique_ptr<natsMsg, internal::MsgDeleter> msg(raw);
  // Replies carry no trace headers (§3.3): pass an invalid context.
  CHAT_RETURN_IF_ERROR(InjectHeaders(msg.get(), SpanContext{}, headers));
  s = natsConnection_PublishMsg(nc_, msg.get());
  return internal::ToStatus(s, "reply");
}

}  // namespace chat::natsx
