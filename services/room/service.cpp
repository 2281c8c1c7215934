#include "service.hpp"

#include <string>

#include "chat/contracts/subjects.hpp"
#include "chat/telemetry/semconv.hpp"

namespace chat::room_service {

core::Result<std::unique_ptr<pg::Pool>> ConnectDatabase(const RoomConfig& config,
                                                        const telemetry::Telemetry& telemetry,
                                                        const runtime::ShutdownSignal* shutdown) {
  pg::PoolOptions options;
  options.dsn = config.database_url;
  options.size = config.db_pool_size;
  options.connect_eagerly = true;
  options.statement_timeout = config.db_statement_timeout;
  options.application_name = "room-service";
  core::Status last;
  for (int attempt = 1; attempt <= config.db_connect_attempts; ++attempt) {
    auto pool = pg::Pool::Create(options, telemetry);
    if (pool.ok()) return pool;
    last = pool.status();
    // A bad DSN will not get better by waiting.
    if (last.code() == core::ErrorCode::kInvalidArgument) return last;
    telemetry.logger->Warn("database not reachable yet, retrying",
                           {{"attempt", attempt},
                            {"max_attempts", config.db_connect_attempts},
                            {telemetry::semconv::kErrorType, core::ErrorCodeName(last.code())}});
    if (attempt == config.db_connect_attempts) break;
    // The wait between attempts ends early on SIGTERM: a stuck start-up must not hold up a
    // shutdown (30 attempts × 2 s would outlast any orchestrator's grace period).
    static const runtime::ShutdownSignal kNever;  // callers without a process (unit tests)
    if ((shutdown != nullptr ? *shutdown : kNever).WaitFor(config.db_connect_interval)) {
      return core::Unavailable("shutdown requested while waiting for the database");
    }
  }
  return core::Unavailable("database unreachable after " +
                           std::to_string(config.db_connect_attempts) + " attempts: " +
                           last.message());
}

RoomService::RoomService(const telemetry::Telemetry& telemetry)
    : telemetry_(telemetry),
      metrics_(RoomMetrics::Create(*telemetry.metrics)),
      route_metrics_(metrics_),
      mirror_(telemetry) {}

RoomService::~RoomService() {
  if (rebuilder_) rebuilder_->Stop();
  dispatcher_.reset();
}

core::Result<std::unique_ptr<RoomService>> RoomService::Create(
    const RoomConfig& config, natsx::Connection& conn, const telemetry::Telemetry& telemetry,
    const core::Clock& clock, const runtime::ShutdownSignal* shutdown) {
  std::unique_ptr<RoomService> s(new RoomService(telemetry));
  CHAT_ASSIGN_OR_RETURN(s->pool_, ConnectDatabase(config, telemetry, shutdown));
  CHAT_ASSIGN_OR_RETURN(s->js_, natsx::JetStream::Create(conn));
  natsx::KeyValueConfig bucket;
  bucket.bucket = std::string(contracts::jetstream::kBucketRooms);
  bucket.history = 1;
  bucket.memory_storage = false;
  bucket.max_bytes = config.rooms_limits.max_bytes;
  bucket.max_value_size = config.rooms_limits.max_value_size;
  CHAT_ASSIGN_OR_RETURN(s->kv_, s->js_->CreateKeyValue(bucket));
  s->repo_ = std::make_unique<RoomRepository>(*s->pool_);
  s->handlers_ = std::make_unique<RoomHandlers>(*s->repo_, *s->kv_, s->mirror_, s->metrics_);
  s->dispatcher_ = std::make_unique<runtime::Dispatcher>(conn, clock);

  // system.md §3.8: subscribe to deltas first, then hydrate, so nothing falls in between.
  CHAT_RETURN_IF_ERROR(s->handlers_->RegisterDeltaRoute(*s->dispatcher_));
  {
    telemetry::Span span =
        telemetry.tracer.StartSpan("hydrate_membership", telemetry::SpanKind::kInternal, {});
    core::Status hydrated = s->mirror_.Hydrate(*s->kv_, span.Context());
    if (!hydrated.ok()) {
      span.RecordError(core::ErrorCodeName(hydrated.code()), hydrated.message());
      return hydrated;
    }
  }
  s->handlers_->UpdateGauges();
  CHAT_RETURN_IF_ERROR(s->handlers_->RegisterRoutes(*s->dispatcher_, s->route_metrics_));
  // system.md §6.5: deltas published while we were disconnected are lost to the mirror, so every
  // reconnect re-binds ROOMS (re-created when the server lost it) and re-hydrates. The delta
  // route stays subscribed (libnats re-subscribes), so the mirror buffers what races the read.
  RoomService* self = s.get();
  s->rebuilder_ = std::make_unique<membership::ReconnectRebuilder>(
      conn, telemetry, membership::ReconnectRebuilder::Options{},
      [self, bucket](telemetry::Span& span) -> core::Status {
        // Name-based handle: kv_ keeps working once the bucket exists again.
        auto rebound = self->js_->CreateKeyValue(bucket);
        if (!rebound.ok()) return rebound.status();
        CHAT_RETURN_IF_ERROR(self->mirror_.Hydrate(*self->kv_, span.Context()));
        self->handlers_->UpdateGauges();
        return core::Status::Ok();
      });
  telemetry.logger->Info("room-service ready",
                         {{"room.db_pool_size", static_cast<int64_t>(config.db_pool_size)}});
  return s;
}

void RoomService::Drain(std::chrono::milliseconds timeout) {
  if (rebuilder_) rebuilder_->Stop();
  if (dispatcher_) dispatcher_->Drain(timeout);
}

}  // namespace chat::room_service
