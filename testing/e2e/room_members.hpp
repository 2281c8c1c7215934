// room-service's live member list as fanout's ingest check sees it (room.members.{room}), for the
// end-to-end tests that wait until a join has landed. One observer connection under the dev-admin
// identity and the contract's codec, instead of a hand-written JSON walk in every test.
#pragma once

#include <algorithm>
#include <chrono>
#include <memory>
#include <string>
#include <vector>

#include "chat/contracts/replies.hpp"
#include "chat/contracts/rooms.hpp"
#include "chat/contracts/subjects.hpp"
#include "chat/natsx/connection.hpp"
#include "chat_stack.hpp"

namespace chat::testing {

// A plain NATS connection with the stack's dev-admin credentials (may request room.members).
inline core::Result<std::unique_ptr<natsx::Connection>> ConnectObserver(const ChatStack& stack,
                                                                        std::string name) {
  natsx::ConnectionOptions o;
  o.urls = {stack.nats_url()};
  o.name = std::move(name);
  o.credentials = natsx::Credentials::FromCredsFile(stack.creds("dev-admin"));
  return natsx::Connection::Connect(o, telemetry::Telemetry::Noop());
}

// The users room-service lists for `room`; an error when the request or the decoding fails.
inline core::Result<std::vector<std::string>> RoomMembersOf(natsx::Connection& observer,
                                                            const std::string& room) {
  CHAT_ASSIGN_OR_RETURN(auto reply,
                        observer.Request(contracts::subjects::kRoomMembers, {room}, "{}",
                                         std::chrono::seconds(2), telemetry::SpanContext{}));
  CHAT_ASSIGN_OR_RETURN(auto members,
                        contracts::FromReply<contracts::RoomMembersReply>(reply.payload()));
  return std::move(members.users);
}

inline bool Lists(const std::vector<std::string>& users, const std::string& user) {
  return std::find(users.begin(), users.end(), user) != users.end();
}

}  // namespace chat::testing
