// Every contract FromJson (libs/contracts): each wire struct a service or client decodes from a
// NATS payload. Every input is given to every decoder (a payload can be sent to any subject), and
// an accepted value must survive the codec round trip: ToJson(v) decodes again, and re-encodes to
// the same canonical text.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include "chat/contracts/codec.hpp"
#include "chat/contracts/kb.hpp"
#include "chat/contracts/messages.hpp"
#include "chat/contracts/presence.hpp"
#include "chat/contracts/receipts.hpp"
#include "chat/contracts/replies.hpp"
#include "chat/contracts/rooms.hpp"
#include "chat/contracts/translate.hpp"

namespace c = chat::contracts;

namespace {

template <typename T>
void RoundTrip(std::string_view json) {
  auto decoded = c::FromJson<T>(json);
  if (!decoded.ok()) return;
  std::string canonical = c::ToJson(*decoded);
  auto again = c::FromJson<T>(canonical);
  if (!again.ok() || c::ToJson(*again) != canonical) std::abort();
}

template <typename... Ts>
void All(std::string_view json) {
  (RoundTrip<Ts>(json), ...);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view json(reinterpret_cast<const char*>(data), size);
  All<c::ChatMessage, c::DmListReply, c::ErrorReply, c::HistoryMessage, c::HistoryPage,
      c::HistoryRequest, c::HistoryThreadReply, c::KbPage, c::KbPageCreated, c::KbPageList,
      c::KbPageSummary, c::KbPresence, c::KbRequest, c::MsgGetRequest, c::Notification, c::OkReply,
      c::PresenceDiff, c::PresenceEntry, c::PresenceHeartbeat, c::PresenceRoomReply,
      c::PresenceUpdate, c::ReadStateEntry, c::ReadStateReply, c::ReadUpdate, c::RoomChanged,
      c::RoomCreateRequest, c::RoomDepartRequest, c::RoomInfo, c::RoomListReply, c::RoomListRequest,
      c::RoomMember, c::RoomMembersReply, c::RoomMembershipRequest, c::RoomTargetRequest,
      c::TranslateChunk, c::TranslatePingReply, c::TranslateRequest>(json);
  return 0;
}
