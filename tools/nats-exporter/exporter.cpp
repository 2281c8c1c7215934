// Polling, JSON-to-series mapping (names and labels of prometheus-nats-exporter's varz and jsz
// collectors) and the HTTP listener.
#include "exporter.hpp"

#include <httplib.h>

#include <charconv>
#include <ctime>
#include <nlohmann/json.hpp>
#include <optional>
#include <utility>

#include "chat/telemetry/metrics.hpp"

namespace chat::nats_exporter {

namespace {

using nlohmann::json;
using telemetry::Gauge;
using telemetry::MetricRegistry;

struct SplitUrl {
  std::string scheme_host_port;  // "http://host:port"
  std::string base_path;         // "" or "/prefix" (no trailing slash)
};

std::optional<SplitUrl> SplitMonitorUrl(const std::string& url) {
  size_t scheme_end = url.find("://");
  if (scheme_end == std::string::npos) return std::nullopt;
  std::string scheme = url.substr(0, scheme_end);
  if (scheme != "http" && scheme != "https") return std::nullopt;
  size_t path_start = url.find('/', scheme_end + 3);
  SplitUrl out;
  out.scheme_host_port = url.substr(0, path_start);
  if (out.scheme_host_port.size() <= scheme_end + 3) return std::nullopt;  // no host
  if (path_start != std::string::npos) out.base_path = url.substr(path_start);
  while (!out.base_path.empty() && out.base_path.back() == '/') out.base_path.pop_back();
  return out;
}

// GET and parse; nullopt on transport error, non-200 or invalid JSON (never throws).
std::optional<json> FetchJson(const SplitUrl& url, const std::string& path,
                              std::chrono::milliseconds timeout) {
  httplib::Client client(url.scheme_host_port);
  const auto secs = std::chrono::duration_cast<std::chrono::seconds>(timeout);
  const auto usecs = std::chrono::duration_cast<std::chrono::microseconds>(timeout - secs);
  client.set_connection_timeout(static_cast<time_t>(secs.count()),
                                static_cast<time_t>(usecs.count()));
  client.set_read_timeout(static_cast<time_t>(secs.count()), static_cast<time_t>(usecs.count()));
  auto res = client.Get(url.base_path + path);
  if (!res || res->status != 200) return std::nullopt;
  json j = json::parse(res->body, nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded() || !j.is_object()) return std::nullopt;
  return j;
}

double Number(const json& obj, const char* key) {
  if (!obj.is_object()) return 0;
  auto it = obj.find(key);
  if (it == obj.end() || !it->is_number()) return 0;
  return it->get<double>();
}

std::string Text(const json& obj, const char* key) {
  if (!obj.is_object()) return "";
  auto it = obj.find(key);
  if (it == obj.end() || !it->is_string()) return "";
  return it->get<std::string>();
}

const json& Child(const json& obj, const char* key) {
  static const json kNull;  // immutable, trivially safe to share
  if (!obj.is_object()) return kNull;
  auto it = obj.find(key);
  return it == obj.end() ? kNull : *it;
}

// The official exporter formats consumer creation times with Go's RFC 3339 (seconds); nats-server
// sends RFC 3339 with nanoseconds in UTC: keep up to the seconds and the zone.
std::string CreatedSeconds(const std::string& created) {
  size_t dot = created.find('.');
  if (dot == std::string::npos) return created;
  size_t zone = created.find_first_of("Z+-", dot);
  return created.substr(0, dot) + (zone == std::string::npos ? "" : created.substr(zone));
}

// "true" when `leader` is this server, or when there is no cluster (a single server leads all).
std::string IsLeader(const json& cluster, const std::string& server_name) {
  if (!cluster.is_object()) return "true";
  return Text(cluster, "leader") == server_name ? "true" : "false";
}

// /varz fields exported as gnatsd_varz_<field>; all gauges, as in the official exporter (it
// types every numeric varz field as a gauge; rate() works on them all the same).
constexpr const char* kVarzFields[] = {
    "connections", "total_connections", "slow_consumers", "subscriptions", "in_msgs",
    "out_msgs",    "in_bytes",          "out_bytes",      "mem",           "cpu",
    "routes",      "remotes",           "leafnodes",
};

const std::vector<std::string> kServerLabels = {"server_id", "server_name", "cluster",
                                                "domain",    "meta_leader", "is_meta_leader"};

std::vector<std::string> Concat(std::vector<std::string> a, const std::vector<std::string>& b) {
  a.insert(a.end(), b.begin(), b.end());
  return a;
}

void RenderVarz(MetricRegistry& registry, const json& varz, const std::string& server_id) {
  for (const char* field : kVarzFields) {
    auto g = registry.AddGauge(std::string("gnatsd_varz_") + field, field, {"server_id"});
    g.With({server_id}).Set(Number(varz, field));
  }
}

void RenderJsz(MetricRegistry& registry, const json& jsz, const json& varz,
               const std::string& server_id) {
  const std::vector<std::string> stream_labels = Concat(
      kServerLabels, {"account", "account_id", "stream_name", "stream_leader", "is_stream_leader"});
  const std::vector<std::string> consumer_labels =
      Concat(stream_labels, {"consumer_name", "consumer_leader", "is_consumer_leader",
                             "consumer_desc", "consumer_created"});

  auto server_gauge = [&](const char* name, const char* help) {
    return registry.AddGauge(std::string("jetstream_server_") + name, help, kServerLabels);
  };
  Gauge disabled = server_gauge("jetstream_disabled", "JetStream disabled or not");
  Gauge max_memory = server_gauge("max_memory", "JetStream Max Memory");
  Gauge max_storage = server_gauge("max_storage", "JetStream Max Storage");
  Gauge streams = server_gauge("total_streams", "Total number of streams in JetStream");
  Gauge consumers = server_gauge("total_consumers", "Total number of consumers in JetStream");
  Gauge messages = server_gauge("total_messages", "Total number of stored messages in JetStream");
  Gauge bytes = server_gauge("total_message_bytes", "Total number of bytes stored in JetStream");

  auto stream_gauge = [&](const char* name, const char* help) {
    return registry.AddGauge(std::string("jetstream_stream_") + name, help, stream_labels);
  };
  Gauge s_messages = stream_gauge("total_messages", "Total number of messages from a stream");
  Gauge s_bytes = stream_gauge("total_bytes", "Total stored bytes from a stream");
  Gauge s_first = stream_gauge("first_seq", "First sequence from a stream");
  Gauge s_last = stream_gauge("last_seq", "Last sequence from a stream");
  Gauge s_consumers = stream_gauge("consumer_count", "Total number of consumers from a stream");

  auto consumer_gauge = [&](const char* name, const char* help) {
    return registry.AddGauge(std::string("jetstream_consumer_") + name, help, consumer_labels);
  };
  Gauge c_delivered_consumer =
      consumer_gauge("delivered_consumer_seq", "Latest sequence number of a stream consumer");
  Gauge c_delivered_stream =
      consumer_gauge("delivered_stream_seq", "Latest sequence number of a stream");
  Gauge c_ack_pending = consumer_gauge("num_ack_pending", "Number of pending acks from a consumer");
  Gauge c_redelivered =
      consumer_gauge("num_redelivered", "Number of redelivered messages from a consumer");
  Gauge c_waiting =
      consumer_gauge("num_waiting", "Number of inflight fetch requests from a pull consumer");
  Gauge c_pending = consumer_gauge("num_pending", "Number of pending messages from a consumer");
  Gauge c_ack_floor_stream =
      consumer_gauge("ack_floor_stream_seq", "Number of ack floor stream seq from a consumer");
  Gauge c_ack_floor_consumer =
      consumer_gauge("ack_floor_consumer_seq", "Number of ack floor consumer seq from a consumer");

  const std::string server_name = Text(varz, "server_name");
  const json& meta = Child(jsz, "meta_cluster");
  const std::string cluster = Text(meta, "name");
  const std::string meta_leader = Text(meta, "leader");
  const std::string is_meta_leader =
      meta.is_object() ? (meta_leader == server_name ? "true" : "false") : "true";
  const std::string domain = Text(Child(jsz, "config"), "domain");
  const std::vector<std::string> server_values = {server_id, server_name, cluster,
                                                  domain,    meta_leader, is_meta_leader};

  const json& js_config = Child(jsz, "config");
  auto disabled_it = jsz.find("disabled");
  const bool is_disabled =
      disabled_it != jsz.end() && disabled_it->is_boolean() && disabled_it->get<bool>();
  disabled.With(server_values).Set(is_disabled ? 1 : 0);
  max_memory.With(server_values).Set(Number(js_config, "max_memory"));
  max_storage.With(server_values).Set(Number(js_config, "max_storage"));
  streams.With(server_values).Set(Number(jsz, "streams"));
  consumers.With(server_values).Set(Number(jsz, "consumers"));
  messages.With(server_values).Set(Number(jsz, "messages"));
  bytes.With(server_values).Set(Number(jsz, "bytes"));

  const json& accounts = Child(jsz, "account_details");
  if (!accounts.is_array()) return;
  for (const json& account : accounts) {
    const json& stream_list = Child(account, "stream_detail");
    if (!stream_list.is_array()) continue;
    for (const json& stream : stream_list) {
      const json& stream_cluster = Child(stream, "cluster");
      std::vector<std::string> sv = Concat(
          server_values, {Text(account, "name"), Text(account, "id"), Text(stream, "name"),
                          Text(stream_cluster, "leader"), IsLeader(stream_cluster, server_name)});
      const json& state = Child(stream, "state");
      s_messages.With(sv).Set(Number(state, "messages"));
      s_bytes.With(sv).Set(Number(state, "bytes"));
      s_first.With(sv).Set(Number(state, "first_seq"));
      s_last.With(sv).Set(Number(state, "last_seq"));
      s_consumers.With(sv).Set(Number(state, "consumer_count"));

      const json& consumer_list = Child(stream, "consumer_detail");
      if (!consumer_list.is_array()) continue;
      for (const json& consumer : consumer_list) {
        const json& consumer_cluster = Child(consumer, "cluster");
        std::vector<std::string> cv =
            Concat(sv, {Text(consumer, "name"), Text(consumer_cluster, "leader"),
                        IsLeader(consumer_cluster, server_name),
                        Text(Child(consumer, "config"), "description"),
                        CreatedSeconds(Text(consumer, "created"))});
        const json& delivered = Child(consumer, "delivered");
        const json& ack_floor = Child(consumer, "ack_floor");
        c_delivered_consumer.With(cv).Set(Number(delivered, "consumer_seq"));
        c_delivered_stream.With(cv).Set(Number(delivered, "stream_seq"));
        c_ack_pending.With(cv).Set(Number(consumer, "num_ack_pending"));
        c_redelivered.With(cv).Set(Number(consumer, "num_redelivered"));
        c_waiting.With(cv).Set(Number(consumer, "num_waiting"));
        c_pending.With(cv).Set(Number(consumer, "num_pending"));
        c_ack_floor_stream.With(cv).Set(Number(ack_floor, "stream_seq"));
        c_ack_floor_consumer.With(cv).Set(Number(ack_floor, "consumer_seq"));
      }
    }
  }
}

}  // namespace

core::Result<Config> Config::FromArgs(const std::vector<std::string>& args, const core::Env& env) {
  core::EnvReader reader(env);
  Config c;
  c.monitor_url = reader.Url("NATS_EXPORTER_MONITOR_URL", c.monitor_url);
  c.host = reader.String("NATS_EXPORTER_HOST", c.host);
  c.port = reader.Port("NATS_EXPORTER_PORT", c.port);
  c.server_id_from_varz = reader.Bool("NATS_EXPORTER_SERVER_ID_FROM_VARZ", false);

  bool positional_seen = false;
  for (size_t i = 0; i < args.size(); ++i) {
    const std::string& a = args[i];
    auto value = [&](const char* flag) -> std::optional<std::string> {
      if (i + 1 >= args.size()) {
        reader.AddProblem(std::string(flag) + " needs a value");
        return std::nullopt;
      }
      return args[++i];
    };
    if (a == "--monitor-url") {
      if (auto v = value("--monitor-url")) c.monitor_url = *v;
    } else if (a == "--host") {
      if (auto v = value("--host")) c.host = *v;
    } else if (a == "--port") {
      if (auto v = value("--port")) {
        unsigned port = 0;
        auto [ptr, ec] = std::from_chars(v->data(), v->data() + v->size(), port);
        if (ec != std::errc() || ptr != v->data() + v->size() || port > 65535) {
          reader.AddProblem("--port \"" + *v + "\" is not a port");
        } else {
          c.port = static_cast<uint16_t>(port);
        }
      }
    } else if (a == "--server-id-from-varz") {
      c.server_id_from_varz = true;
    } else if (!a.empty() && a[0] != '-' && !positional_seen) {
      c.monitor_url = a;
      positional_seen = true;
    } else {
      reader.AddProblem("unknown argument \"" + a + "\"");
    }
  }
  if (!SplitMonitorUrl(c.monitor_url)) {
    reader.AddProblem("monitoring URL \"" + c.monitor_url + "\" is not an http(s) URL");
  }
  CHAT_RETURN_IF_ERROR(reader.Finish());
  return c;
}

Collector::Collector(Config config) : config_(std::move(config)) {}

std::string Collector::Scrape() {
  std::lock_guard lock(mu_);
  ++scrapes_;
  // Config validation guarantees the URL splits.
  const SplitUrl url = SplitMonitorUrl(config_.monitor_url).value_or(SplitUrl{});
  std::optional<json> varz = FetchJson(url, "/varz", config_.poll_timeout);
  std::optional<json> jsz;
  if (!varz) {
    ++varz_errors_;
  } else {
    // Like the official jsz collector: jsz series need varz (for server_name), so skip both.
    jsz = FetchJson(url, "/jsz?consumers=true&config=true", config_.poll_timeout);
    if (!jsz) ++jsz_errors_;
  }

  // A fresh registry per scrape: series of deleted streams and consumers disappear.
  MetricRegistry registry(1000000);
  std::string server_id = config_.monitor_url;
  if (config_.server_id_from_varz && varz) server_id = Text(*varz, "server_id");
  if (varz) RenderVarz(registry, *varz, server_id);
  if (varz && jsz) RenderJsz(registry, *jsz, *varz, server_id);

  auto errors =
      registry.AddCounter("nats_exporter_scrape_errors_total",
                          "Failed polls of a nats-server monitoring endpoint.", {"endpoint"});
  errors.With({"varz"}).Add(static_cast<double>(varz_errors_));
  errors.With({"jsz"}).Add(static_cast<double>(jsz_errors_));
  registry.AddCounter("nats_exporter_scrapes_total", "Scrapes served.")
      .Default()
      .Add(static_cast<double>(scrapes_));
  registry.AddGauge("nats_exporter_up", "1 when every endpoint answered during this scrape.")
      .Default()
      .Set(varz && jsz ? 1 : 0);
  return registry.Expose(telemetry::ExpositionFormat::kPrometheusText);
}

ExporterServer::ExporterServer(Config config)
    : config_(config),
      collector_(std::move(config)),
      server_({"nats-exporter", config_.host, config_.port, ""},
              [this] { return collector_.Scrape(); }) {}

}  // namespace chat::nats_exporter
