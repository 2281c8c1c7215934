#include "chat/runtime/kv.hpp"

namespace chat::runtime {

core::Status ReadLiveKeys(KeyValue& kv, std::string_view keys, const telemetry::SpanContext& parent,
                          std::chrono::milliseconds next_timeout,
                          const std::function<void(std::string_view key)>& each) {
  auto watcher = kv.Watch(keys, parent);
  if (!watcher.ok()) return core::Unavailable("watch failed: " + watcher.status().message());
  while (true) {
    bool timed_out = false;
    auto next = (*watcher)->Next(next_timeout, &timed_out);
    if (!next.ok()) return core::Unavailable("read failed: " + next.status().message());
    if (timed_out) return core::Unavailable("read timed out");
    if (!next->has_value()) break;  // end of the initial values
    const KvEntry& e = **next;
    if (e.operation != KvEntry::Operation::kPut) continue;
    each(e.key);
  }
  (*watcher)->Stop();
  return core::Status();
}

KeyReader LiveKeys(KeyValue& kv, const telemetry::SpanContext& parent,
                   std::chrono::milliseconds next_timeout) {
  return [&kv, parent, next_timeout](const std::function<void(std::string_view key)>& each) {
    return ReadLiveKeys(kv, "", parent, next_timeout, each);
  };
}

}  // namespace chat::runtime
