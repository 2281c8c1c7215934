// PresenceService set-up, the PRESENCE_CONN mirror (watch + expiry sweep) and the steps the
// handlers share (see presence_service.hpp).
#include "presence_service.hpp"

#include <utility>

#include "chat/contracts/attributes.hpp"
#include "chat/contracts/subjects.hpp"

namespace chat::presence_service {

namespace subjects = contracts::subjects;
namespace attr = contracts::attr;
using contracts::PresenceStatus;

PresenceService::PresenceService(const PresenceConfig& config, runtime::Bus& bus,
                                 const telemetry::Telemetry& telemetry, const core::Clock& clock)
    : config_(config),
      bus_(bus),
      telemetry_(telemetry),
      clock_(clock),
      metrics_(PresenceMetrics::Create(*telemetry.metrics)),
      query_metrics_{&metrics_.queries, &metrics_.query_duration, {}, {"ok", "denied", "error"}},
      mirror_(telemetry) {}

PresenceService::~PresenceService() {
  if (rebuilder_) rebuilder_->Stop();
  StopWatcher();
  dispatcher_.reset();
}

void PresenceService::StopWatcher() {
  {
    std::lock_guard lock(stop_mu_);
    stopping_.store(true);
  }
  stop_cv_.notify_all();
  if (watch_thread_.joinable()) watch_thread_.join();
  if (watcher_ && !watcher_stopped_) {
    watcher_->Stop();
    watcher_stopped_ = true;
  }
}

core::Result<std::unique_ptr<PresenceService>> PresenceService::Create(
    const PresenceConfig& config, runtime::Bus& bus, const telemetry::Telemetry& telemetry,
    const core::Clock& clock, const runtime::ShutdownSignal* shutdown) {
  std::unique_ptr<PresenceService> service(new PresenceService(config, bus, telemetry, clock));
  service->shutdown_ = shutdown;
  CHAT_RETURN_IF_ERROR(service->Start());
  return service;
}

core::Status PresenceService::Start() {
  runtime::JetStreamOptions js_options;
  js_options.clock = &clock_;
  CHAT_ASSIGN_OR_RETURN(js_, bus_.OpenJetStream(js_options));

  CHAT_RETURN_IF_ERROR(EnsureBuckets());

  dispatcher_ = std::make_unique<runtime::Dispatcher>(bus_, clock_);
  // Deltas first, then hydrate: the mirror buffers what arrives meanwhile (system.md §3.8).
  CHAT_RETURN_IF_ERROR(dispatcher_->Consume<contracts::RoomChanged>(
      subjects::kRoomChanged, {},
      [this](const contracts::RoomChanged& delta, runtime::RequestContext& ctx) {
        return OnRoomChanged(delta, ctx);
      }));
  CHAT_RETURN_IF_ERROR(
      mirror_.Hydrate(runtime::LiveKeys(*rooms_kv_, {}), telemetry::SpanContext{}));
  CHAT_RETURN_IF_ERROR(LoadConnections());
  CHAT_RETURN_IF_ERROR(RegisterRoutes());
  // Ready means the server has our subscriptions: a heartbeat sent after Create() is seen.
  CHAT_RETURN_IF_ERROR(bus_.Flush(std::chrono::seconds(5)));
  StartWatchThread();
  rebuilder_ = std::make_unique<membership::ReconnectRebuilder>(
      membership::ReconnectHooks::Of(bus_), telemetry_,
      membership::ReconnectRebuilder::Options{.span_name = "rebuild_presence_state"},
      [this](telemetry::Span& span) { return RebuildAfterReconnect(span); });
  telemetry_.logger->Info(
      "presence-service ready",
      {{"chat.presence.connections", static_cast<int64_t>(tracker_.Connections())},
       {"chat.presence.users", static_cast<int64_t>(tracker_.Users())}});
  return core::Status();
}

core::Status PresenceService::EnsureBuckets() {
  // Idempotent: CreateKeyValue binds to a bucket that already exists.
  runtime::KeyValueConfig presence{.bucket = std::string(contracts::jetstream::kBucketPresence),
                                   .max_bytes = config_.presence_limits.max_bytes,
                                   .max_value_size = config_.presence_limits.max_value_size,
                                   .memory_storage = true};
  runtime::KeyValueConfig conns{.bucket = std::string(contracts::jetstream::kBucketPresenceConn),
                                .ttl = config_.conn_ttl,
                                .max_bytes = config_.conn_limits.max_bytes,
                                .max_value_size = config_.conn_limits.max_value_size,
                                .memory_storage = true};
  // ROOMS belongs to room-service; creating it with the same spec lets presence start first.
  runtime::KeyValueConfig rooms{.bucket = std::string(contracts::jetstream::kBucketRooms),
                                .max_bytes = config_.rooms_limits.max_bytes,
                                .max_value_size = config_.rooms_limits.max_value_size};
  CHAT_ASSIGN_OR_RETURN(auto presence_kv, js_->CreateKeyValue(presence));
  CHAT_ASSIGN_OR_RETURN(auto conn_kv, js_->CreateKeyValue(conns));
  CHAT_ASSIGN_OR_RETURN(auto rooms_kv, js_->CreateKeyValue(rooms));
  // At start-up keep the handles; after a reconnect handlers may be using the ones we hold.
  if (!presence_kv_) presence_kv_ = std::move(presence_kv);
  if (!conn_kv_) conn_kv_ = std::move(conn_kv);
  if (!rooms_kv_) rooms_kv_ = std::move(rooms_kv);
  return core::Status();
}

void PresenceService::StartWatchThread() {
  stopping_.store(false);
  watcher_stopped_ = false;
  watch_thread_ = std::thread([this] { WatchLoop(); });
}

core::Status PresenceService::RebuildAfterReconnect(telemetry::Span& span) {
  CHAT_RETURN_IF_ERROR(EnsureBuckets());
  // The old watch may be dead (memory buckets vanish with a restarted server) and missed every
  // update while we were away: replace it, and the tracker with what PRESENCE_CONN holds now.
  StopWatcher();
  watcher_.reset();
  watcher_stopped_ = false;  // refers to the next watcher, which LoadConnections creates
  tracker_.Clear();
  core::Status loaded = LoadConnections();
  if (!loaded.ok()) {
    RefreshGauges();
    return loaded;
  }
  StartWatchThread();
  CHAT_RETURN_IF_ERROR(
      mirror_.Hydrate(runtime::LiveKeys(*rooms_kv_, span.Context()), span.Context()));
  span.SetAttribute("chat.presence.connections", static_cast<int64_t>(tracker_.Connections()));
  telemetry_.logger->Info(
      span.Context(), "presence state rebuilt after NATS reconnect",
      {{"chat.presence.connections", static_cast<int64_t>(tracker_.Connections())},
       {"chat.presence.users", static_cast<int64_t>(tracker_.Users())}});
  return core::Status();
}

namespace {
int64_t EntryTime(const runtime::KvEntry& entry, const core::Clock& clock) {
  return entry.created_unix_nano > 0 ? entry.created_unix_nano : clock.NowUnixNanos();
}
}  // namespace

core::Status PresenceService::LoadConnections() {
  CHAT_ASSIGN_OR_RETURN(watcher_, conn_kv_->Watch("", telemetry::SpanContext{}));
  auto deadline = clock_.SteadyNow() + std::chrono::seconds(10);
  while (true) {
    bool timed_out = false;
    auto next = watcher_->Next(std::chrono::milliseconds(500), &timed_out);
    if (!next.ok()) return next.status();
    if (!next->has_value()) {
      if (!timed_out) break;  // every initial value has been delivered
      // Up to 10 s of waiting: a SIGTERM meanwhile ends start-up instead.
      if (shutdown_ != nullptr && shutdown_->requested()) {
        return core::Unavailable("shutdown requested while loading PRESENCE_CONN");
      }
      if (clock_.SteadyNow() > deadline) {
        return core::Unavailable("PRESENCE_CONN initial values did not arrive in time");
      }
      continue;
    }
    const runtime::KvEntry& entry = **next;
    auto parts = SplitConnKey(entry.key);
    if (!parts || entry.operation != runtime::KvEntry::Operation::kPut) continue;
    tracker_.Touch(parts->first, parts->second, EntryTime(entry, clock_));
  }
  RefreshGauges();
  return core::Status();
}

void PresenceService::WatchLoop() {
  auto poll = std::min(config_.sweep_interval, std::chrono::milliseconds(250));
  auto next_sweep = clock_.SteadyNow() + config_.sweep_interval;
  while (!stopping_.load()) {
    bool timed_out = false;
    auto next = watcher_->Next(poll, &timed_out);
    if (!next.ok()) {
      telemetry_.logger->Warn("PRESENCE_CONN watch failed; retrying",
                              {{"error.type", core::ErrorCodeName(next.status().code())}});
      // Back off briefly so a dead connection does not spin this thread; StopWatcher wakes it.
      std::unique_lock lock(stop_mu_);
      stop_cv_.wait_for(lock, poll, [&] { return stopping_.load(); });
    } else if (next->has_value()) {
      const runtime::KvEntry& entry = **next;
      if (auto parts = SplitConnKey(entry.key)) {
        if (entry.operation == runtime::KvEntry::Operation::kPut) {
          tracker_.Touch(parts->first, parts->second, EntryTime(entry, clock_));
        } else {
          // A delete comes from the disconnect handler (here or on another instance), which
          // owns the offline diffs and cleanup; only the mirror changes here.
          tracker_.Remove(parts->first, parts->second);
        }
        RefreshGauges();
      }
    }
    if (clock_.SteadyNow() >= next_sweep) {
      Sweep();
      next_sweep = clock_.SteadyNow() + config_.sweep_interval;
    }
  }
}

void PresenceService::Sweep() {
  auto horizon = std::chrono::duration_cast<std::chrono::nanoseconds>(config_.conn_ttl +
                                                                      config_.ExpiryGrace());
  auto expired = tracker_.TakeExpired(clock_.NowUnixNanos() - horizon.count());
  if (expired.empty()) return;
  RefreshGauges();
  for (const auto& e : expired) {
    if (!e.last) continue;
    // A periodic job: new root, no link (observability §3.4).
    telemetry::Span span = telemetry_.tracer.StartSpan(
        "expire_connection", telemetry::SpanKind::kInternal, telemetry::SpanContext{});
    span.SetAttribute(attr::kUser, e.user);
    auto won = GoOffline(e.user, "expired", span);
    if (!won.ok()) {
      span.RecordError(core::ErrorCodeName(won.status().code()), won.status().message());
      telemetry_.logger->Error(
          span.Context(), "offline cleanup after expiry failed",
          {{attr::kUser, e.user}, {"error.type", core::ErrorCodeName(won.status().code())}});
      continue;
    }
    // Counted by the CAS winner only, so N instances do not count one expiry N times.
    if (*won) metrics_.expirations.Default().Add(1, &span.Context());
  }
}

core::Result<bool> PresenceService::GoOffline(std::string_view user, std::string_view reason,
                                              telemetry::Span& span) {
  const telemetry::SpanContext parent = span.Context();
  const std::string key(user);
  const std::string offline =
      EncodePresenceRecord({PresenceStatus::kOffline, clock_.NowUnixMillis()});
  auto current = presence_kv_->Get(key, parent);
  if (current.ok()) {
    auto record = DecodePresenceRecord(current->value);
    if (record.ok() && record->status == PresenceStatus::kOffline) {
      span.AddEvent("already_offline");
      return false;
    }
    auto updated = presence_kv_->Update(key, offline, current->revision, parent);
    if (!updated.ok()) {
      if (updated.status().code() == core::ErrorCode::kAlreadyExists) {
        span.AddEvent("offline_cas_lost");
        return false;
      }
      return updated.status();
    }
  } else if (current.status().code() == core::ErrorCode::kNotFound) {
    // No entry: Create is the compare-and-set on absence, so one instance still wins alone.
    auto created = presence_kv_->Create(key, offline, parent);
    if (!created.ok()) {
      if (created.status().code() == core::ErrorCode::kAlreadyExists) {
        span.AddEvent("offline_cas_lost");
        return false;
      }
      return created.status();
    }
  } else {
    return current.status();
  }

  span.SetAttribute(attr::kPresenceStatus, contracts::PresenceStatusName(PresenceStatus::kOffline));
  auto rooms = mirror_.index().RoomsOf(user);
  contracts::PresenceDiff diff{contracts::PresenceDiffAction::kOffline, key, std::nullopt};
  core::Status first_error = PublishDiffToRooms(rooms, diff, parent);
  const std::string leave = contracts::ToJson(contracts::RoomMembershipRequest{key});
  for (const auto& room : rooms) {
    core::Status s = bus_.Publish(subjects::kRoomLeave, {room, user}, leave, parent);
    if (!s.ok() && first_error.ok()) first_error = s;
    // room-service's leave delta will say the same; dropping it now keeps queries honest.
    mirror_.index().Remove(room, user);
  }
  telemetry_.logger->Info(parent, "user went offline",
                          {{attr::kUser, key},
                           {attr::kReason, reason},
                           {"chat.presence.rooms_left", static_cast<int64_t>(rooms.size())}});
  if (!first_error.ok()) return first_error;
  return true;
}

core::Status PresenceService::PublishDiff(std::string_view room,
                                          const contracts::PresenceDiff& diff,
                                          const telemetry::SpanContext& parent) {
  const std::string payload = contracts::ToJson(diff);
  if (room_types_.Visibility(room) == RoomVisibility::kPublic) {
    return bus_.Publish(subjects::kRoomPresence, {room}, payload, parent);
  }
  core::Status first_error;
  for (const auto& member : mirror_.index().Members(room)) {
    core::Status s = bus_.Publish(subjects::kDeliverPresence, {member, room}, payload, parent);
    if (!s.ok() && first_error.ok()) first_error = s;
  }
  return first_error;
}

core::Status PresenceService::PublishDiffToRooms(const std::vector<std::string>& rooms,
                                                 const contracts::PresenceDiff& diff,
                                                 const telemetry::SpanContext& parent) {
  core::Status first_error;
  for (const auto& room : rooms) {
    core::Status s = PublishDiff(room, diff, parent);
    if (!s.ok() && first_error.ok()) first_error = s;
  }
  if (!rooms.empty() && telemetry_.logger->Enabled(telemetry::LogLevel::kDebug)) {
    telemetry_.logger->Debug(
        parent, "presence diffs published",
        {{attr::kUser, diff.user_id}, {"chat.presence.rooms", static_cast<int64_t>(rooms.size())}});
  }
  return first_error;
}

core::Status PresenceService::PutStatus(std::string_view user, PresenceStatus status,
                                        const telemetry::SpanContext& parent) {
  auto put =
      presence_kv_->Put(user, EncodePresenceRecord({status, clock_.NowUnixMillis()}), parent);
  return put.ok() ? core::Status() : put.status();
}

core::Result<PresenceStatus> PresenceService::StoredStatus(std::string_view user,
                                                           const telemetry::SpanContext& parent) {
  auto entry = presence_kv_->Get(user, parent);
  if (!entry.ok()) {
    if (entry.status().code() == core::ErrorCode::kNotFound) return PresenceStatus::kOnline;
    return entry.status();
  }
  auto record = DecodePresenceRecord(entry->value);
  // An unreadable value is someone else's bug; a live connection still means online.
  if (!record.ok()) return PresenceStatus::kOnline;
  return record->status;
}

void PresenceService::RefreshGauges() {
  metrics_.online_users.Default().Set(static_cast<double>(tracker_.Users()));
  metrics_.connections.Default().Set(static_cast<double>(tracker_.Connections()));
}

void PresenceService::Drain(std::chrono::milliseconds timeout) {
  if (rebuilder_) rebuilder_->Stop();
  if (dispatcher_) dispatcher_->Drain(timeout);
  StopWatcher();
}

}  // namespace chat::presence_service
