// FanoutService: fanout-service's routes and state (system.md §3.2, §3.3.1, §6.2; ADR 0001):
// ingest (rate limit, sender and membership checks, republish of the unchanged bytes), notify
// (MSG_CACHE + public room.notify or per-member deliver.{m}.notify), the admin channel, app
// events, msg.get and the room.changed deltas that keep the membership LRU and the room-type map
// current. main.cpp only wires it into runtime::ServiceMain; tests build it in-process.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "chat/contracts/messages.hpp"
#include "chat/contracts/rooms.hpp"
#include "chat/core/clock.hpp"
#include "chat/core/result.hpp"
#include "chat/runtime/bus.hpp"
#include "chat/runtime/dispatcher.hpp"
#include "chat/runtime/jetstream.hpp"
#include "chat/runtime/kv.hpp"
#include "chat/runtime/service_main.hpp"
#include "config.hpp"
#include "delivery_pool.hpp"
#include "member_cache.hpp"
#include "metrics.hpp"
#include "rate_limiter.hpp"
#include "sticker_catalogue.hpp"

namespace chat::fanout {

// How a room's messages are delivered (chat.fanout.kind plus the DM special case). kUnknown: a
// room whose type fanout has not learnt yet — handled like a private room (fail closed, issue 11
// item 2) until room.members or a room.changed delta says it is public.
enum class RoomClass { kPublic, kPrivate, kDm, kAdmin, kUnknown };

class FanoutService final : public runtime::Service {
 public:
  // Creates MSG_CACHE and RATE_LIMIT (idempotent), starts the delivery workers and subscribes
  // every route. `bus` and `clock` must outlive the service.
  static core::Result<std::unique_ptr<FanoutService>> Create(const FanoutConfig& config,
                                                             runtime::Bus& bus,
                                                             const core::Clock& clock);
  ~FanoutService() override;
  FanoutService(const FanoutService&) = delete;
  FanoutService& operator=(const FanoutService&) = delete;

  void Drain(std::chrono::milliseconds timeout) override;
  // The routes registered on this service's dispatcher (README "Routes" test).
  std::vector<runtime::RouteInfo> Routes() const { return dispatcher_->Routes(); }

  // Introspection for tests and the README's failure drills.
  MemberCache& member_cache() { return *members_; }
  const RateLimiter& rate_limiter() const { return *limiter_; }
  const std::string& instance_id() const { return instance_id_; }
  RoomClass Classify(std::string_view room) const;
  // Records what room-service said about a room's type. A private/DM type always wins; public
  // is recorded only for a room not already known as restricted (never downgraded).
  void LearnRoomType(std::string_view room, contracts::RoomType type);

 private:
  FanoutService(FanoutConfig config, runtime::Bus& bus, const core::Clock& clock);
  core::Status Start();

  // ---- routes (handlers/*.cpp) ----
  core::Status Ingest(const runtime::RawPayload& body, runtime::RequestContext& ctx);
  core::Status Notify(const runtime::RawPayload& body, runtime::RequestContext& ctx);
  core::Status Admin(const runtime::RawPayload& body, runtime::RequestContext& ctx);
  core::Status AppEvent(const runtime::RawPayload& body, runtime::RequestContext& ctx);
  core::Result<runtime::RawReply> MsgGet(const contracts::MsgGetRequest& req,
                                         runtime::RequestContext& ctx);
  core::Status RoomChanged(const contracts::RoomChanged& change, runtime::RequestContext& ctx);

  // ---- shared helpers (handlers/members.cpp) ----
  // Current members of `membership_room` (DMs from the key, others via the LRU / room.members).
  // Sets chat.cache.result on the process span and a cache_miss event on a miss.
  core::Result<MemberSnapshot> Members(std::string_view membership_room,
                                       runtime::RequestContext& ctx);
  core::Result<bool> IsMember(std::string_view membership_room, std::string_view user,
                              runtime::RequestContext& ctx);
  // Queues one copy per member under a deliver_members span; returns the number queued.
  void DeliverToMembers(runtime::RequestContext& ctx, const core::SubjectTemplate& tmpl,
                        const MemberSet& members, std::vector<std::string> tail,
                        std::string payload, std::string_view kind);
  // ingest refusal: attribute, counter, `rejected{reason}` event and WARN log (dispatcher).
  core::Status Refuse(runtime::RequestContext& ctx, std::string_view result,
                      std::string_view reason) const;
  std::string NewNotifyId(std::string_view room);
  // A sticker message names an image of the catalogue (issue 14): the shape under the sticker
  // base first, then StickerCatalogue. Returns the refusal reason, or "" when admitted.
  std::string_view CheckSticker(std::string_view url, runtime::RequestContext& ctx);

  FanoutConfig config_;
  runtime::Bus& bus_;
  const core::Clock& clock_;
  FanoutMetrics metrics_;
  std::unique_ptr<runtime::JetStream> js_;
  std::unique_ptr<runtime::KeyValue> msg_cache_;
  std::unique_ptr<runtime::KeyValue> rate_kv_;
  std::unique_ptr<RateLimiter> limiter_;
  std::unique_ptr<MemberCache> members_;
  std::unique_ptr<DeliveryPool> pool_;
  std::unique_ptr<StickerCatalogue> stickers_;

  mutable std::mutex types_mu_;
  // Learnt from room.members replies and room.changed deltas; never cleared (§3.2.5). A room not
  // in here is kUnknown, never public.
  std::unordered_map<std::string, contracts::RoomType> room_types_;

  std::string instance_id_;
  std::atomic<uint64_t> seq_{0};

  // Last: destroyed first, so no handler runs while the state above is torn down.
  std::unique_ptr<runtime::Dispatcher> dispatcher_;
};

// "__admin__{x}": the membership key of the admin channel admin.{x} (system.md §3.2.4).
std::string AdminMembershipRoom(std::string_view admin_token);

}  // namespace chat::fanout
