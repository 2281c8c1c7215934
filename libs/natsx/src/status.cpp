// Status mapping: the one place that turns a libnats natsStatus into our error vocabulary
// (core::Status, style.md rule 4) or into the text a log line carries. Every other natsx file
// calls these instead of switching on natsStatus itself.
#include <nats/nats.h>

#include <string>
#include <string_view>

#include "internal.hpp"

namespace chat::natsx::internal {

std::string NatsErrorText(natsStatus s) {
  std::string text = natsStatus_GetText(s);
  const char* last = nats_GetLastError(nullptr);
  if (last != nullptr && *last != '\0' && text != last) {
    text += ": ";
    text += last;
  }
  return text;
}

core::Status ToStatus(natsStatus s, std::string_view what) {
  std::string msg(what);
  msg += ": ";
  msg += natsStatus_GetText(s);
  switch (s) {
    case NATS_OK: return core::Status::Ok();
    case NATS_TIMEOUT: return core::DeadlineExceeded(std::move(msg));
    case NATS_NOT_FOUND: return core::NotFound(std::move(msg));
    case NATS_CONNECTION_AUTH_FAILED: return core::Unauthenticated(std::move(msg));
    case NATS_NOT_PERMITTED: return core::PermissionDenied(std::move(msg));
    case NATS_INVALID_ARG:
    case NATS_INVALID_SUBJECT:
    case NATS_INVALID_TIMEOUT:
    case NATS_INVALID_QUEUE_NAME: return core::InvalidArgument(std::move(msg));
    case NATS_MAX_PAYLOAD: return core::ResourceExhausted(std::move(msg));
    case NATS_NO_MEMORY:
    case NATS_SYS_ERROR:
    case NATS_ILLEGAL_STATE: return core::Internal(std::move(msg));
    default: return core::Unavailable(std::move(msg));
  }
}

}  // namespace chat::natsx::internal
