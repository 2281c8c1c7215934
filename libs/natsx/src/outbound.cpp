// The outbound message builder (see outbound.hpp): subject formatting, the send span, attribute
// set M, message creation and trace context injection, shared by every traced send natsx makes.
#include "outbound.hpp"

#include <string>

namespace chat::natsx::internal {

core::Status OutboundMessage::Build(const core::SubjectTemplate& tmpl, Args args,
                                    std::string_view payload, const telemetry::SpanContext& parent,
                                    const Headers& headers) {
  // A per-thread buffer: no allocation once it has grown to the longest subject. libnats copies
  // the subject into the message, so the buffer is free again when this returns.
  thread_local std::string subject;
  CHAT_RETURN_IF_ERROR(core::FormatSubjectInto(tmpl, args.begin(), args.size(), subject));
  SpanName name(kind_.span_prefix, tmpl);
  span_ = conn_.telemetry().tracer.StartSpan(name.view(), kind_.span_kind, parent);
  conn_.SetMessagingAttributes(span_, kind_.operation_name, "send", subject, tmpl, payload.size(),
                               true);

  natsMsg* raw = nullptr;
  natsStatus s = natsMsg_Create(&raw, subject.c_str(), nullptr, payload.data(),
                                static_cast<int>(payload.size()));
  if (s != NATS_OK) {
    RecordSendFailure(natsStatus_GetText(s));
    return ToStatus(s, "create message");
  }
  msg_.reset(raw);
  if (auto st = conn_.InjectHeaders(msg_.get(), span_.Context(), headers); !st.ok()) {
    RecordSendFailure(st.message());
    return st;
  }
  return core::Status::Ok();
}

void OutboundMessage::RecordSendFailure(std::string_view description) {
  span_.RecordError(kind_.error_type, description, "nats", kind_.error_summary);
}

}  // namespace chat::natsx::internal
