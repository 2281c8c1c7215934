#include "service.hpp"

#include <openssl/rand.h>

#include <array>
#include <utility>

#include "chat/contracts/attributes.hpp"
#include "chat/contracts/ids.hpp"
#include "chat/contracts/subjects.hpp"

namespace chat::fanout {

namespace subjects = contracts::subjects;
using runtime::RouteOptions;

namespace {

// Cryptographically random hex (the notifyId token is a msg.get capability).
core::Result<std::string> RandomHex(size_t bytes) {
  std::array<unsigned char, 32> buf{};
  if (bytes > buf.size()) return core::Internal("random request too large");
  if (RAND_bytes(buf.data(), static_cast<int>(bytes)) != 1) {
    return core::Internal("random generator failed");
  }
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out;
  out.reserve(bytes * 2);
  for (size_t i = 0; i < bytes; ++i) {
    out.push_back(kHex[buf[i] >> 4]);
    out.push_back(kHex[buf[i] & 0x0F]);
  }
  return out;
}

}  // namespace

std::string AdminMembershipRoom(std::string_view admin_token) {
  return std::string(contracts::kAdminRoom) + std::string(admin_token);
}

FanoutService::FanoutService(FanoutConfig config, runtime::Bus& bus, const core::Clock& clock)
    : config_(std::move(config)),
      bus_(bus),
      clock_(clock),
      metrics_(FanoutMetrics::Create(*bus.telemetry().metrics)),
      stickers_(std::make_unique<StickerCatalogue>(
          StickerCatalogue::Options{config_.sticker_catalogue_ttl,
                                    config_.sticker_catalogue_miss_reload,
                                    config_.sticker_catalogue_timeout},
          clock)) {}

FanoutService::~FanoutService() {
  dispatcher_.reset();  // no handler may run while the state below is destroyed
  if (pool_) pool_->Stop();
}

core::Result<std::unique_ptr<FanoutService>> FanoutService::Create(const FanoutConfig& config,
                                                                   runtime::Bus& bus,
                                                                   const core::Clock& clock) {
  std::unique_ptr<FanoutService> svc(new FanoutService(config, bus, clock));
  CHAT_RETURN_IF_ERROR(svc->Start());
  return svc;
}

core::Status FanoutService::Start() {
  const telemetry::Telemetry& tel = bus_.telemetry();
  CHAT_ASSIGN_OR_RETURN(instance_id_, RandomHex(4));

  // Buckets (system.md §4.2), created idempotently from the contracts catalogue.
  runtime::JetStreamOptions js_options;
  js_options.api_timeout = config_.kv_timeout;
  js_options.clock = &clock_;
  CHAT_ASSIGN_OR_RETURN(js_, bus_.OpenJetStream(js_options));
  for (const auto& spec : contracts::jetstream::kBuckets) {
    if (spec.name != contracts::jetstream::kBucketMsgCache &&
        spec.name != contracts::jetstream::kBucketRateLimit) {
      continue;
    }
    const bool cache = spec.name == contracts::jetstream::kBucketMsgCache;
    const contracts::quotas::BucketLimits& limits =
        cache ? config_.msg_cache_limits : config_.rate_limit_limits;
    runtime::KeyValueConfig kv;
    kv.bucket = std::string(spec.name);
    kv.history = 1;
    kv.ttl = std::chrono::seconds(spec.ttl_seconds);
    kv.memory_storage = spec.storage == contracts::jetstream::Storage::kMemory;
    kv.max_bytes = limits.max_bytes;
    kv.max_value_size = limits.max_value_size;
    // MSG_CACHE is a cache: when full (someone flooding within the rate limit) the oldest
    // entries go, and new messages still reach msg.get. RATE_LIMIT refuses new keys instead
    // (the limiter's fallback policy then decides).
    kv.discard_old = cache;
    CHAT_ASSIGN_OR_RETURN(auto handle, js_->CreateKeyValue(kv));
    if (cache) {
      msg_cache_ = std::move(handle);
    } else {
      rate_kv_ = std::move(handle);
    }
  }
  tel.logger->Info("fanout buckets ready",
                   {{"fanout.buckets", "MSG_CACHE,RATE_LIMIT"},
                    {"fanout.msg_cache_max_bytes", config_.msg_cache_limits.max_bytes},
                    {"fanout.rate_limit_max_bytes", config_.rate_limit_limits.max_bytes}});

  limiter_ = std::make_unique<RateLimiter>(*rate_kv_, clock_, config_, metrics_);
  const telemetry::CounterCell& reconnects =
      tel.metrics->AddCounter("nats_client_reconnects_total", "Reconnections to the NATS server")
          .Default();
  members_ = std::make_unique<MemberCache>(static_cast<size_t>(config_.lru_capacity),
                                           metrics_.cached_rooms.Default(),
                                           metrics_.cached_members.Default(), &reconnects);
  pool_ = std::make_unique<DeliveryPool>(bus_, metrics_, static_cast<size_t>(config_.workers),
                                         static_cast<size_t>(config_.queue_capacity));
  dispatcher_ = std::make_unique<runtime::Dispatcher>(bus_, clock_);

  const int concurrency = config_.handler_concurrency;
  CHAT_RETURN_IF_ERROR(dispatcher_->Consume<runtime::RawPayload>(
      subjects::kDeliverSend,
      RouteOptions{.more_templates = {subjects::kDeliverSendThread},
                   .concurrency = config_.ingest_concurrency},
      [this](const runtime::RawPayload& b, runtime::RequestContext& ctx) {
        return Ingest(b, ctx);
      }));
  // chat.* and chat.*.thread.* only (the templates' own patterns), so chat.history.* requests
  // never reach this route.
  CHAT_RETURN_IF_ERROR(dispatcher_->Consume<runtime::RawPayload>(
      subjects::kChatRoom,
      RouteOptions{.more_templates = {subjects::kChatThread}, .concurrency = concurrency},
      [this](const runtime::RawPayload& b, runtime::RequestContext& ctx) {
        return Notify(b, ctx);
      }));
  // admin.{room}.{user}: the author is the subject's user (only that admin's JWT may publish it).
  CHAT_RETURN_IF_ERROR(dispatcher_->Consume<runtime::RawPayload>(
      subjects::kAdminRoom, RouteOptions{.concurrency = concurrency},
      [this](const runtime::RawPayload& b, runtime::RequestContext& ctx) {
        return Admin(b, ctx);
      }));
  CHAT_RETURN_IF_ERROR(dispatcher_->Consume<runtime::RawPayload>(
      subjects::kAppEvent, RouteOptions{.concurrency = concurrency},
      [this](const runtime::RawPayload& b, runtime::RequestContext& ctx) {
        return AppEvent(b, ctx);
      }));
  CHAT_RETURN_IF_ERROR(dispatcher_->Serve<contracts::MsgGetRequest>(
      subjects::kMsgGet, RouteOptions{.concurrency = concurrency},
      [this](const contracts::MsgGetRequest& req, runtime::RequestContext& ctx) {
        return MsgGet(req, ctx);
      }));
  // Plain subscription: every instance keeps its own LRU and room-type map current.
  CHAT_RETURN_IF_ERROR(dispatcher_->Consume<contracts::RoomChanged>(
      subjects::kRoomChanged, RouteOptions{},
      [this](const contracts::RoomChanged& c, runtime::RequestContext& ctx) {
        return RoomChanged(c, ctx);
      }));

  // Subscriptions are active on the server before we call ourselves ready.
  CHAT_RETURN_IF_ERROR(bus_.Flush(std::chrono::milliseconds(5000)));
  tel.logger->Info(
      "fanout-service ready",
      {{"fanout.instance_id", instance_id_},
       {"fanout.lru_capacity", config_.lru_capacity},
       {"fanout.workers", config_.workers},
       {"fanout.rate_limit_per_minute", static_cast<int64_t>(config_.rate_limit_per_minute)},
       {"fanout.rate_limit_fallback", RateLimitFallbackName(config_.rate_limit_fallback)}});
  return core::Status::Ok();
}

void FanoutService::Drain(std::chrono::milliseconds timeout) {
  auto deadline = std::chrono::steady_clock::now() + timeout;
  if (dispatcher_) dispatcher_->Drain(timeout);
  auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
      deadline - std::chrono::steady_clock::now());
  if (pool_) pool_->Stop(std::max(left, std::chrono::milliseconds(100)));
}

RoomClass FanoutService::Classify(std::string_view room) const {
  if (contracts::IsDmRoom(room)) return RoomClass::kDm;
  if (contracts::IsAdminRoom(room)) return RoomClass::kAdmin;
  std::lock_guard<std::mutex> lock(types_mu_);
  auto it = room_types_.find(std::string(room));
  if (it == room_types_.end()) return RoomClass::kUnknown;
  return it->second == contracts::RoomType::kPublic ? RoomClass::kPublic : RoomClass::kPrivate;
}

void FanoutService::LearnRoomType(std::string_view room, contracts::RoomType type) {
  std::lock_guard<std::mutex> lock(types_mu_);
  auto [it, inserted] = room_types_.try_emplace(std::string(room), type);
  if (!inserted && type != contracts::RoomType::kPublic) it->second = type;
}

std::string FanoutService::NewNotifyId(std::string_view room) {
  uint64_t seq = seq_.fetch_add(1, std::memory_order_relaxed) + 1;
  auto token = RandomHex(8);
  // RAND_bytes failing means the process cannot make capabilities at all: crash loudly.
  CHAT_CHECK(token.ok());
  std::string id = EscapeKeyPart(room);
  id += '.';
  id += std::to_string(seq);
  id += '.';
  id += instance_id_;
  id += '.';
  id += *token;
  return id;
}

}  // namespace chat::fanout
