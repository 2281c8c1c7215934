// kb-service (system.md §3.3.10 "Knowledge Base", §6.14; issue 13): rich-text pages per room in
// kb_pages and "who is editing" presence in the KB_EDITORS bucket. One route serves every action
// of app.kb.{room}.{action}.{user} (queue group kb-workers); only current members of the room
// may call it (membership mirror fed by ROOMS + room.changed), only while the kb app is installed
// there (room_apps, written by app-registry-service), never in DM rooms. Page HTML is
// sanitised (sanitizer/html_sanitizer.hpp) before it is stored. Editing presence is shared by
// every instance: one key per page and editor with the bucket's TTL, re-put by `editing` (the
// browser refreshes it while the page is open), deleted by `stopedit`; the editor list is read
// back from the bucket and broadcast on app.kb.{room}.presence in the request's trace.
#pragma once

#include <chrono>
#include <condition_variable>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "chat/contracts/kb.hpp"
#include "chat/contracts/rooms.hpp"
#include "chat/core/clock.hpp"
#include "chat/core/result.hpp"
#include "chat/membership/reconnect_rebuilder.hpp"
#include "chat/membership/room_index.hpp"
#include "chat/membership/room_members.hpp"
#include "chat/runtime/bus.hpp"
#include "chat/runtime/dispatcher.hpp"
#include "chat/runtime/jetstream.hpp"
#include "chat/runtime/kv.hpp"
#include "chat/runtime/service_main.hpp"
#include "config.hpp"
#include "metrics.hpp"
#include "repository/page_repository.hpp"

namespace chat::kb_service {

// KB_EDITORS keys: "{room}.{page_id}.{user as base64url}" (usernames may hold characters a KV
// key may not; base64url's alphabet is a valid key token).
std::string EditorKey(std::string_view room, std::string_view page_id, std::string_view user);
// The editor of a key under "{room}.{page_id}.", or nullopt for a key that is not one.
std::optional<std::string> EditorOfKey(std::string_view key);

class KbService final : public runtime::Service {
 public:
  // Connects the pool, creates KB_EDITORS (binds or creates ROOMS), subscribes to room.changed
  // and hydrates the mirror, serves app.kb.{room}.{action}.{user} and starts the editors gauge.
  // `bus` and `clock` must outlive it.
  static core::Result<std::unique_ptr<KbService>> Create(const KbConfig& config, runtime::Bus& bus,
                                                         const core::Clock& clock);
  ~KbService() override;
  KbService(const KbService&) = delete;
  KbService& operator=(const KbService&) = delete;
  KbService(KbService&&) = delete;
  KbService& operator=(KbService&&) = delete;

  void Drain(std::chrono::milliseconds timeout) override;
  // The routes registered on this service's dispatcher (README "Routes" test).
  std::vector<runtime::RouteInfo> Routes() const { return dispatcher_->Routes(); }
  const membership::ReconnectRebuilder& rebuilder() const { return members_->rebuilder(); }

  // Recounts KB_EDITORS into kb_active_editors (the gauge thread calls it).
  core::Status CountEditors();

 private:
  KbService(KbConfig config, runtime::Bus& bus, const core::Clock& clock);
  core::Status Register();
  runtime::KeyValueConfig EditorsBucket() const;
  void GaugeLoop();
  void StopGauge();

  core::Result<runtime::RawReply> HandleRequest(const contracts::KbRequest& req,
                                                runtime::RequestContext& ctx);
  core::Result<runtime::RawReply> Save(const contracts::KbRequest& req, std::string_view room,
                                       runtime::RequestContext& ctx);
  // editing / stopedit: the key put or deleted, then the page's editors broadcast.
  core::Result<runtime::RawReply> Presence(const contracts::KbRequest& req, std::string_view room,
                                           bool editing, runtime::RequestContext& ctx);
  core::Result<std::vector<std::string>> Editors(std::string_view room, std::string_view page_id,
                                                 const telemetry::SpanContext& parent);
  core::Status CheckTitle(std::string_view title) const;
  core::Status CheckContent(std::string_view content) const;

  KbConfig config_;
  const telemetry::Telemetry& telemetry_;
  std::unique_ptr<KbMetrics> metrics_;
  std::unique_ptr<PageRepository> repo_;
  std::unique_ptr<runtime::JetStream> js_;
  std::unique_ptr<runtime::KeyValue> editors_;

  std::mutex gauge_mu_;
  std::condition_variable gauge_cv_;
  bool stop_ = false;
  std::thread gauge_;

  std::unique_ptr<membership::RoomMembers> members_;  // outlives the dispatcher (its route)

  // Destroyed before the rest, so no handler runs while it is torn down.
  std::unique_ptr<runtime::Dispatcher> dispatcher_;
};

}  // namespace chat::kb_service
