#include "derived_metrics.hpp"

#include <string_view>
#include <variant>

#include "store.hpp"

namespace chat::sink {
namespace {

using telemetry::AttributeValue;
using telemetry::sdk::DecodedAttribute;
using telemetry::sdk::DecodedSpan;

constexpr int kKindServer = 2;
constexpr int kKindClient = 3;
constexpr int kKindProducer = 4;
constexpr int kKindConsumer = 5;
constexpr int kStatusError = 2;

const std::vector<std::string> kSpanLabels = {"service", "span_name", "span_kind", "status_code",
                                              "chat_action"};
const std::vector<std::string> kEdgeLabels = {"client", "server", "connection_type"};

uint64_t VarintSize(uint64_t v) {
  uint64_t n = 1;
  while (v >= 0x80) {
    v >>= 7;
    ++n;
  }
  return n;
}

// Size of a length-delimited field (tag + length prefix + payload); tags below 16 take 1 byte.
uint64_t LenField(uint64_t payload) { return 1 + VarintSize(payload) + payload; }

uint64_t AnyValueSize(const AttributeValue& v) {
  if (const auto* s = std::get_if<std::string>(&v)) return LenField(s->size());
  if (std::holds_alternative<bool>(v)) return 2;
  if (const auto* i = std::get_if<int64_t>(&v)) return 1 + VarintSize(static_cast<uint64_t>(*i));
  return 9;  // double: tag + fixed64
}

uint64_t AttributesSize(const std::vector<DecodedAttribute>& attrs) {
  uint64_t total = 0;
  for (const auto& a : attrs) {
    uint64_t kv = LenField(a.key.size()) + LenField(AnyValueSize(a.value));
    total += LenField(kv);
  }
  return total;
}

const std::string* FindString(const std::vector<DecodedAttribute>& attrs, std::string_view key) {
  for (const auto& a : attrs) {
    if (a.key == key) {
      if (const auto* s = std::get_if<std::string>(&a.value)) return s;
      return nullptr;
    }
  }
  return nullptr;
}

std::string FindText(const DecodedSpan& span, std::string_view key) {
  for (const auto& a : span.attributes) {
    if (a.key == key) return AttributeText(a.value);
  }
  return {};
}

bool HasAttr(const DecodedSpan& span, std::string_view key) {
  for (const auto& a : span.attributes) {
    if (a.key == key) return true;
  }
  return false;
}

const std::string& ServiceName(const DecodedSpan& span) {
  static const std::string kUnknown = "unknown_service";
  return span.resource ? span.resource->service_name : kUnknown;
}

double Seconds(int64_t from, int64_t to) {
  return to > from ? static_cast<double>(to - from) / 1e9 : 0.0;
}

telemetry::SpanContext ExemplarContext(const telemetry::TraceId& trace_id,
                                       const telemetry::SpanId& span_id) {
  telemetry::SpanContext ctx;
  ctx.trace_id = trace_id;
  ctx.span_id = span_id;
  ctx.trace_flags = telemetry::kTraceFlagSampled;
  return ctx;
}

std::string EdgeKey(const telemetry::TraceId& t, const telemetry::SpanId& s) {
  std::string key(reinterpret_cast<const char*>(t.bytes.data()), t.bytes.size());
  key.append(reinterpret_cast<const char*>(s.bytes.data()), s.bytes.size());
  return key;
}

}  // namespace

uint64_t SpanProtoSize(const DecodedSpan& s) {
  uint64_t n = 0;
  n += LenField(16);  // trace_id
  n += LenField(8);   // span_id
  if (!s.trace_state.empty()) n += LenField(s.trace_state.size());
  if (s.parent_span_id.IsValid()) n += LenField(8);
  if (!s.name.empty()) n += LenField(s.name.size());
  if (s.kind != 0) n += 1 + VarintSize(static_cast<uint64_t>(s.kind));
  if (s.start_unix_nano != 0) n += 9;
  if (s.end_unix_nano != 0) n += 9;
  n += AttributesSize(s.attributes);
  if (s.dropped_attributes != 0) n += 1 + VarintSize(s.dropped_attributes);
  for (const auto& e : s.events) {
    uint64_t ev = 9 + (e.name.empty() ? 0 : LenField(e.name.size())) + AttributesSize(e.attributes);
    n += LenField(ev);
  }
  if (s.dropped_events != 0) n += 1 + VarintSize(s.dropped_events);
  for (const auto& l : s.links) {
    uint64_t lk = LenField(16) + LenField(8) + AttributesSize(l.attributes);
    if (!l.trace_state.empty()) lk += LenField(l.trace_state.size());
    n += LenField(lk);
  }
  if (s.dropped_links != 0) n += 1 + VarintSize(s.dropped_links);
  if (s.status_code != 0 || !s.status_message.empty()) {
    uint64_t st = (s.status_message.empty() ? 0 : LenField(s.status_message.size())) +
                  (s.status_code != 0 ? 2 : 0);
    n += LenField(st);
  }
  if (s.flags != 0) n += 2 + 4;  // field 16 needs a two-byte tag
  return n;
}

DerivedMetrics::DerivedMetrics(telemetry::MetricRegistry& registry, ServiceGraphOptions options,
                               const core::Clock& clock)
    : options_(options), clock_(clock) {
  calls_ = registry.AddCounter("traces_spanmetrics_calls_total",
                               "Spans received, by service, name, kind, status and chat.action.",
                               kSpanLabels);
  latency_ = registry.AddHistogram("traces_spanmetrics_latency", "Span duration in seconds.",
                                   telemetry::kBucketsNats, kSpanLabels);
  size_ = registry.AddCounter("traces_spanmetrics_size_total",
                              "Bytes of spans received (protobuf size).", kSpanLabels);
  request_total_ = registry.AddCounter("traces_service_graph_request_total",
                                       "Requests between two nodes.", kEdgeLabels);
  request_failed_ = registry.AddCounter("traces_service_graph_request_failed_total",
                                        "Failed requests between two nodes.", kEdgeLabels);
  server_seconds_ = registry.AddHistogram("traces_service_graph_request_server_seconds",
                                          "Request time as seen by the server, seconds.",
                                          telemetry::kBucketsNats, kEdgeLabels);
  client_seconds_ = registry.AddHistogram("traces_service_graph_request_client_seconds",
                                          "Request time as seen by the client, seconds.",
                                          telemetry::kBucketsNats, kEdgeLabels);
  messaging_seconds_ =
      registry.AddHistogram("traces_service_graph_request_messaging_system_seconds",
                            "Time from producer span end to consumer span start, seconds.",
                            telemetry::kBucketsNats, kEdgeLabels);
  unpaired_ = registry.AddCounter("traces_service_graph_unpaired_spans_total",
                                  "Client or server spans that found no pair within the wait.",
                                  {"client", "server"});
  dropped_ = registry.AddCounter(
      "traces_service_graph_dropped_spans_total",
      "Client or server spans dropped because the pairing store was full.", {"client", "server"});
}

void DerivedMetrics::Observe(const std::vector<DecodedSpan>& spans) {
  for (const auto& s : spans) ObserveSpanMetrics(s);
  const int64_t now =
      std::chrono::duration_cast<std::chrono::nanoseconds>(clock_.SteadyNow().time_since_epoch())
          .count();
  std::lock_guard lock(mu_);
  for (const auto& s : spans) ObserveGraphLocked(s, now);
}

void DerivedMetrics::ObserveSpanMetrics(const DecodedSpan& s) {
  std::vector<std::string> labels = {ServiceName(s), s.name, SpanKindLabel(s.kind),
                                     StatusCodeLabel(s.status_code), FindText(s, "chat.action")};
  calls_.With(labels).Add(1);
  auto ctx = ExemplarContext(s.trace_id, s.span_id);
  latency_.With(labels).Record(Seconds(s.start_unix_nano, s.end_unix_nano), &ctx);
  size_.With(labels).Add(static_cast<double>(SpanProtoSize(s)));
}

void DerivedMetrics::ObserveGraphLocked(const DecodedSpan& s, int64_t now) {
  const bool is_client = s.kind == kKindClient || s.kind == kKindProducer;
  const bool is_server = s.kind == kKindServer || s.kind == kKindConsumer;
  if (!is_client && !is_server) return;

  Half half;
  half.service = ServiceName(s);
  half.trace_id = s.trace_id;
  half.span_id = s.span_id;
  half.start = s.start_unix_nano;
  half.end = s.end_unix_nano;
  half.failed = s.status_code == kStatusError;
  half.messaging = s.kind == kKindProducer || s.kind == kKindConsumer;

  if (s.kind == kKindClient && (HasAttr(s, "db.system") || HasAttr(s, "db.name") ||
                                HasAttr(s, "db.system.name") || HasAttr(s, "db.namespace"))) {
    // A database call has no server span: the edge is complete at once (as in Tempo). The
    // node is named by the first of these attributes that is present.
    static constexpr std::string_view kDbNodeKeys[] = {
        "peer.service", "server.address", "network.peer.address", "db.name",
        "db.namespace", "db.system",      "db.system.name"};
    std::string server;
    for (std::string_view key : kDbNodeKeys) {
      if (const std::string* v = FindString(s.attributes, key); v != nullptr && !v->empty()) {
        server = *v;
        if (key == "network.peer.address") {
          std::string port = FindText(s, "network.peer.port");
          if (!port.empty()) server += ":" + port;
        }
        break;
      }
    }
    EmitDatabaseEdge(s, server);
    return;
  }

  if (is_client) {
    for (std::string_view key : {"peer.service", "db.name", "db.system"}) {
      if (const std::string* v = FindString(s.attributes, key); v != nullptr && !v->empty()) {
        half.peer_node = *v;
        break;
      }
    }
  } else {
    half.root = !s.parent_span_id.IsValid();
  }

  const std::string key = EdgeKey(s.trace_id, is_client ? s.span_id : s.parent_span_id);
  auto it = pending_.find(key);
  if (it == pending_.end()) {
    if (pending_.size() >= options_.max_items) {
      if (is_client) {
        dropped_.With({half.service, ""}).Add(1);
      } else {
        dropped_.With({"", half.service}).Add(1);
      }
      return;
    }
    Pending p;
    p.generation = next_generation_++;
    it = pending_.emplace(key, std::move(p)).first;
    expiry_.push_back(ExpiryItem{
        now + std::chrono::duration_cast<std::chrono::nanoseconds>(options_.wait).count(), key,
        it->second.generation});
  }
  Pending& p = it->second;
  if (is_client) {
    p.client = half;
    for (const Half& server : p.servers) {
      EmitEdge(*p.client, server, p.client->service, server.service,
               server.messaging ? "messaging_system" : "");
      ++p.pairs;
    }
    p.servers.clear();
  } else if (p.client) {
    EmitEdge(*p.client, half, p.client->service, half.service,
             half.messaging ? "messaging_system" : "");
    ++p.pairs;
  } else {
    p.servers.push_back(std::move(half));
  }
  // A request pairs once (Tempo's rule); a message may reach several consumers (fanout's notify
  // path and persist-worker both consume `publish chat.{room}`), so a producer waits out its
  // window and pairs with every consumer that arrives meanwhile.
  if (p.client && p.pairs > 0 && !p.client->messaging) pending_.erase(it);
}

void DerivedMetrics::EmitEdge(const Half& client, const Half& server,
                              const std::string& client_name, const std::string& server_name,
                              const char* connection_type) {
  std::vector<std::string> labels = {client_name, server_name, connection_type};
  request_total_.With(labels).Add(1);
  request_failed_.With(labels).Add(client.failed || server.failed ? 1 : 0);
  const Half& witness = server.span_id.IsValid() ? server : client;
  auto ctx = ExemplarContext(witness.trace_id, witness.span_id);
  server_seconds_.With(labels).Record(Seconds(server.start, server.end), &ctx);
  client_seconds_.With(labels).Record(Seconds(client.start, client.end), &ctx);
  if (std::string_view(connection_type) == "messaging_system" && server.start >= client.end &&
      client.end != 0) {
    messaging_seconds_.With(labels).Record(Seconds(client.end, server.start), &ctx);
  }
}

void DerivedMetrics::EmitDatabaseEdge(const DecodedSpan& s, const std::string& server) {
  std::vector<std::string> labels = {ServiceName(s), server, "database"};
  request_total_.With(labels).Add(1);
  request_failed_.With(labels).Add(s.status_code == kStatusError ? 1 : 0);
  auto ctx = ExemplarContext(s.trace_id, s.span_id);
  const double d = Seconds(s.start_unix_nano, s.end_unix_nano);
  server_seconds_.With(labels).Record(d, &ctx);
  client_seconds_.With(labels).Record(d, &ctx);
}

void DerivedMetrics::SettleLocked(Pending& p) {
  ++expired_total_;
  if (p.client) {
    if (p.pairs > 0) return;  // a producer that found its consumers
    if (!p.client->peer_node.empty()) {
      // An uninstrumented peer (an IdP, a third-party API): Tempo's virtual node.
      Half none;  // Tempo observes 0 s for the side that does not exist
      EmitEdge(*p.client, none, p.client->service, p.client->peer_node, "virtual_node");
    } else {
      unpaired_.With({p.client->service, ""}).Add(1);
    }
    return;
  }
  for (const Half& server : p.servers) {
    if (server.root) {
      // A root server span was called by something untraced (curl, a browser without tracing).
      Half none;
      EmitEdge(none, server, "user", server.service, "virtual_node");
    } else {
      unpaired_.With({"", server.service}).Add(1);
    }
  }
}

void DerivedMetrics::ExpireLocked(int64_t now, bool all) {
  while (!expiry_.empty() && (all || expiry_.front().deadline <= now)) {
    ExpiryItem item = std::move(expiry_.front());
    expiry_.pop_front();
    auto it = pending_.find(item.key);
    if (it == pending_.end() || it->second.generation != item.generation) continue;
    SettleLocked(it->second);
    pending_.erase(it);
  }
}

void DerivedMetrics::Expire() {
  const int64_t now =
      std::chrono::duration_cast<std::chrono::nanoseconds>(clock_.SteadyNow().time_since_epoch())
          .count();
  std::lock_guard lock(mu_);
  ExpireLocked(now, false);
}

void DerivedMetrics::ExpireAll() {
  std::lock_guard lock(mu_);
  ExpireLocked(0, true);
}

size_t DerivedMetrics::waiting() const {
  std::lock_guard lock(mu_);
  return pending_.size();
}

uint64_t DerivedMetrics::expired_total() const {
  std::lock_guard lock(mu_);
  return expired_total_;
}

}  // namespace chat::sink
