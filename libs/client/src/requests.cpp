// Requests: the client's request/reply and membership calls — history pages, the room list, room
// creation, join (and waiting until presence shows the join), leave — each inside its own span
// where the browser has one.
#include <algorithm>
#include <mutex>
#include <string>

#include "chat/client/session.hpp"
#include "chat/contracts/attributes.hpp"
#include "chat/contracts/ids.hpp"
#include "chat/contracts/presence.hpp"
#include "chat/contracts/replies.hpp"
#include "chat/contracts/subjects.hpp"
#include "internal.hpp"

namespace chat::client {
namespace {

namespace attr = contracts::attr;
namespace subjects = contracts::subjects;

}  // namespace

core::Result<contracts::HistoryPage> Session::History(std::string_view room, int64_t before) {
  CHAT_RETURN_IF_ERROR(contracts::ValidateRoomKey(room));
  telemetry::SpanStartOptions so;
  so.attributes = {{attr::kRoom, std::string(room)}};
  telemetry::Span span =
      telemetry_.tracer.StartSpan(before > 0 ? "load_more_history" : "load_history", std::move(so));
  auto reply = conn_->Request(subjects::kHistory, {room},
                              contracts::ToJson(contracts::HistoryRequest{before}),
                              options_.request_timeout, span.Context());
  if (!reply.ok()) {
    span.RecordError(std::string(core::ErrorCodeName(reply.status().code())),
                     reply.status().message(), "nats", "history request failed");
    return reply.status();
  }
  auto page = contracts::FromReply<contracts::HistoryPage>(reply->payload());
  if (page.ok()) {
    span.SetAttribute(attr::kHistoryReturned, static_cast<int64_t>(page->messages.size()));
  }
  return page;
}

core::Result<contracts::RoomListReply> Session::Rooms() {
  auto reply =
      conn_->Request(subjects::kRoomList, {}, contracts::ToJson(contracts::RoomListRequest{user_}),
                     options_.request_timeout, {});
  if (!reply.ok()) return reply.status();
  return contracts::FromReply<contracts::RoomListReply>(reply->payload());
}

core::Result<contracts::RoomInfo> Session::CreateRoom(std::string_view name,
                                                      std::string_view display_name) {
  contracts::RoomCreateRequest req{std::string(name), std::string(display_name), user_};
  auto reply = conn_->Request(subjects::kRoomCreate, {user_}, contracts::ToJson(req),
                              options_.request_timeout, {});
  if (!reply.ok()) return reply.status();
  return contracts::FromReply<contracts::RoomInfo>(reply->payload());
}

core::Status Session::Join(std::string_view room) {
  CHAT_RETURN_IF_ERROR(contracts::ValidateRoomKey(room));
  telemetry::SpanStartOptions so;
  so.attributes = {{attr::kRoom, std::string(room)}};
  telemetry::Span span = telemetry_.tracer.StartSpan("join_room", std::move(so));
  core::Status s =
      conn_->Publish(subjects::kRoomJoin, {room, user_},
                     contracts::ToJson(contracts::RoomMembershipRequest{user_}), span.Context());
  if (!s.ok()) span.RecordError("publish_failed", s.message(), "nats", "join failed");
  return s;
}

core::Status Session::JoinAndWait(std::string_view room, std::chrono::milliseconds timeout) {
  CHAT_RETURN_IF_ERROR(Join(room));
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  core::Status last =
      core::DeadlineExceeded("the join of #" + std::string(room) + " did not take effect in time");
  while (true) {
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
        deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0) return last;
    // Polls are plumbing, not user actions: untraced like heartbeats.
    auto reply =
        conn_->Request(subjects::kPresenceRoom, {room}, "{}",
                       std::min(left, std::chrono::milliseconds(1000)), internal::Untraced());
    if (reply.ok()) {
      auto members = contracts::FromReply<contracts::PresenceRoomReply>(reply->payload());
      if (members.ok()) {
        for (const auto& m : members->members) {
          if (m.user_id == user_) return core::Status::Ok();
        }
      }
    }
    // The join is applied asynchronously (room-service, then the room.changed delta): ask again
    // shortly, within the caller's deadline.
    std::unique_lock lock(presence_mu_);
    presence_cv_.wait_for(lock, std::min(left, std::chrono::milliseconds(100)));
  }
}

core::Status Session::Leave(std::string_view room) {
  CHAT_RETURN_IF_ERROR(contracts::ValidateRoomKey(room));
  telemetry::SpanStartOptions so;
  so.attributes = {{attr::kRoom, std::string(room)}};
  telemetry::Span span = telemetry_.tracer.StartSpan("leave_room", std::move(so));
  core::Status s =
      conn_->Publish(subjects::kRoomLeave, {room, user_},
                     contracts::ToJson(contracts::RoomMembershipRequest{user_}), span.Context());
  if (!s.ok()) span.RecordError("publish_failed", s.message(), "nats", "leave failed");
  return s;
}

}  // namespace chat::client
