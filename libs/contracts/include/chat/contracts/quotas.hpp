// Quotas (issue 11 item 6): the per-user NATS limits auth-service writes into every user JWT,
// presence-service's cap on connection ids per user, and the byte bounds of every KV bucket
// (defaults in jetstream::kBuckets, overridable per service from the environment). Pure data
// plus one environment reader; the services apply them.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "chat/contracts/ids.hpp"
#include "chat/contracts/subjects.hpp"
#include "chat/core/env.hpp"

namespace chat::contracts::quotas {

// User JWT `nats.limits` (nats-server 2.9 enforces subs and payload per user connection).
// Payload: the largest legitimate client payload is a contract payload, which every FromJson caps
// at kMaxPayloadBytes (64 KiB, README "Validation rules"). The server announces the limit as the
// connection's max_payload (clients refuse bigger publishes) and disconnects a client that sends
// one anyway ("Maximum Payload Violation"). Subscriptions: the web client
// holds 2 per joined public room plus deliver.{user}.> and its inbox, so 500 leaves room for
// ~245 public rooms per tab.
inline constexpr int64_t kUserMaxPayloadBytes = static_cast<int64_t>(kMaxPayloadBytes);
inline constexpr int64_t kUserMaxSubscriptions = 500;
// presence-service: live connection ids (PRESENCE_CONN keys) one user may hold.
inline constexpr int kPresenceMaxConnectionsPerUser = 8;

struct BucketLimits {
  int64_t max_bytes = -1;
  int32_t max_value_size = -1;
};

// The catalogue's default bounds of `bucket` ({-1, -1}, i.e. none, for an unknown name).
constexpr BucketLimits DefaultLimits(std::string_view bucket) {
  for (const auto& spec : jetstream::kBuckets) {
    if (spec.name == bucket) return {spec.max_bytes, spec.max_value_size};
  }
  return {};
}

// The catalogue row of `bucket`; nullptr when the catalogue has no such bucket.
const jetstream::BucketSpec* FindBucket(std::string_view bucket);

// The spec's defaults, overridden by CHAT_KV_{BUCKET}_MAX_BYTES (4096 .. 2^40) and
// CHAT_KV_{BUCKET}_MAX_VALUE_SIZE (16 .. 1 MiB, and at most max_bytes); problems go to `reader`.
BucketLimits ReadBucketLimits(core::EnvReader& reader, const jetstream::BucketSpec& spec);
// The same by name; a name missing from the catalogue is recorded as a problem.
BucketLimits ReadBucketLimits(core::EnvReader& reader, std::string_view bucket);

// "CHAT_KV_MSG_CACHE_MAX_BYTES" etc.
std::string BucketEnvName(std::string_view bucket, std::string_view suffix);

}  // namespace chat::contracts::quotas
