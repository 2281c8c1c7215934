// Bucket quotas from the catalogue and the environment (see quotas.hpp).
#include "chat/contracts/quotas.hpp"

namespace chat::contracts::quotas {

const jetstream::BucketSpec* FindBucket(std::string_view bucket) {
  for (const auto& spec : jetstream::kBuckets) {
    if (spec.name == bucket) return &spec;
  }
  return nullptr;
}

std::string BucketEnvName(std::string_view bucket, std::string_view suffix) {
  std::string name = "CHAT_KV_";
  name.append(bucket);
  name.append("_");
  name.append(suffix);
  return name;
}

BucketLimits ReadBucketLimits(core::EnvReader& reader, const jetstream::BucketSpec& spec) {
  BucketLimits limits;
  const std::string bytes_var = BucketEnvName(spec.name, "MAX_BYTES");
  const std::string value_var = BucketEnvName(spec.name, "MAX_VALUE_SIZE");
  limits.max_bytes = reader.Int(bytes_var, spec.max_bytes, 4096, int64_t{1} << 40);
  limits.max_value_size =
      static_cast<int32_t>(reader.Int(value_var, spec.max_value_size, 16, 1 << 20));
  if (limits.max_value_size > limits.max_bytes) {
    reader.AddProblem(value_var + " exceeds " + bytes_var);
  }
  return limits;
}

BucketLimits ReadBucketLimits(core::EnvReader& reader, std::string_view bucket) {
  const jetstream::BucketSpec* spec = FindBucket(bucket);
  if (spec == nullptr) {
    reader.AddProblem("bucket " + std::string(bucket) + " is not in the catalogue");
    return {};
  }
  return ReadBucketLimits(reader, *spec);
}

}  // namespace chat::contracts::quotas
