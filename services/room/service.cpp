#include "service.hpp"

#include <string>

#include "chat/contracts/subjects.hpp"

namespace chat::room_service {

RoomService::RoomService(const telemetry::Telemetry& telemetry)
    : metrics_(RoomMetrics::Create(*telemetry.metrics)),
      route_metrics_(metrics_),
      mirror_(telemetry) {}

RoomService::~RoomService() {
  if (rebuilder_) rebuilder_->Stop();
  dispatcher_.reset();
}

core::Result<std::unique_ptr<RoomService>> RoomService::Create(
    const RoomConfig& config, runtime::Bus& bus, const telemetry::Telemetry& telemetry,
    const core::Clock& clock, const runtime::ShutdownSignal* shutdown) {
  std::unique_ptr<RoomService> s(new RoomService(telemetry));
  CHAT_ASSIGN_OR_RETURN(s->repo_, RoomRepository::Connect(config, telemetry, shutdown));
  CHAT_ASSIGN_OR_RETURN(s->js_, bus.OpenJetStream({}));
  runtime::KeyValueConfig bucket;
  bucket.bucket = std::string(contracts::jetstream::kBucketRooms);
  bucket.history = 1;
  bucket.memory_storage = false;
  bucket.max_bytes = config.rooms_limits.max_bytes;
  bucket.max_value_size = config.rooms_limits.max_value_size;
  CHAT_ASSIGN_OR_RETURN(s->kv_, s->js_->CreateKeyValue(bucket));
  s->handlers_ = std::make_unique<RoomHandlers>(*s->repo_, *s->kv_, s->mirror_, s->metrics_);
  s->dispatcher_ = std::make_unique<runtime::Dispatcher>(bus, clock);

  // system.md §3.8: subscribe to deltas first, then hydrate, so nothing falls in between.
  CHAT_RETURN_IF_ERROR(s->handlers_->RegisterDeltaRoute(*s->dispatcher_));
  {
    telemetry::Span span =
        telemetry.tracer.StartSpan("hydrate_membership", telemetry::SpanKind::kInternal, {});
    core::Status hydrated =
        s->mirror_.Hydrate(runtime::LiveKeys(*s->kv_, span.Context()), span.Context());
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
      membership::ReconnectHooks::Of(bus), telemetry, membership::ReconnectRebuilder::Options{},
      [self, bucket](telemetry::Span& span) -> core::Status {
        // Name-based handle: kv_ keeps working once the bucket exists again.
        auto rebound = self->js_->CreateKeyValue(bucket);
        if (!rebound.ok()) return rebound.status();
        CHAT_RETURN_IF_ERROR(
            self->mirror_.Hydrate(runtime::LiveKeys(*self->kv_, span.Context()), span.Context()));
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
