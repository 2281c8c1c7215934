// Queries, row-to-series mapping (names, types and labels of postgres_exporter v0.17.1's default
// collectors and legacy metric map), Prometheus text rendering and the HTTP listener.
#include "exporter.hpp"

#include <libpq-fe.h>

#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstdlib>
#include <map>
#include <optional>
#include <string_view>
#include <utility>

#include "chat/pg/pool.hpp"
#include "chat/telemetry/exposition.hpp"
#include "chat/telemetry/telemetry.hpp"

namespace chat::pg_exporter {

namespace {

namespace exposition = telemetry::exposition;

using Labels = exposition::LabelPairs;

// --- Prometheus text 0.0.4 ------------------------------------------------------------------
// Collected here rather than in a telemetry::MetricRegistry: the official exporter types
// pg_stat_database_xact_commit & co. as counters without the `_total` suffix, which the registry
// (rightly, for our own metrics) refuses. The text itself comes from the registry's writer.

// Families sorted by name and series by label values, with label pairs sorted by name: the order
// client_golang's registry gathers in, so diffs against the official exporter stay readable.
class Exposition {
 public:
  void Add(const std::string& name, const char* type, std::string_view help, Labels labels,
           double value) {
    Family& f = families_[name];
    if (f.type.empty()) {
      f.type = type;
      f.help = std::string(help);
    }
    std::sort(labels.begin(), labels.end());
    f.series.push_back({std::move(labels), value});
  }
  void Gauge(const std::string& name, std::string_view help, Labels labels, double value) {
    Add(name, "gauge", help, std::move(labels), value);
  }
  void Counter(const std::string& name, std::string_view help, Labels labels, double value) {
    Add(name, "counter", help, std::move(labels), value);
  }

  std::string Render() {
    std::string out;
    for (auto& [name, family] : families_) {
      std::sort(family.series.begin(), family.series.end(),
                [](const Series& a, const Series& b) { return a.labels < b.labels; });
      exposition::AppendHeader(out, name, family.type, family.help, /*openmetrics=*/false);
      for (const Series& s : family.series) {
        exposition::AppendSample(out, name, s.labels, s.value, exposition::NumberStyle::kShortest);
      }
    }
    return out;
  }

 private:
  struct Series {
    Labels labels;
    double value = 0;
  };
  struct Family {
    std::string type;
    std::string help;
    std::vector<Series> series;
  };
  std::map<std::string, Family> families_;
};

// --- queries --------------------------------------------------------------------------------
// Unprepared (empty name): one round trip each, nothing to re-prepare after a reconnect. The
// texts follow the official collectors so the numbers mean the same thing.

// The "ping": fails exactly when the official exporter would mark pg_up 0.
constexpr pg::Statement kInstance{"",
                                  "SELECT current_setting('server_version_num')::int, "
                                  "extract(epoch from pg_postmaster_start_time())::float8",
                                  "SELECT", ""};

// collector/pg_stat_database.go (active_time from PostgreSQL 14).
constexpr pg::Statement kStatDatabase{
    "",
    "SELECT datid, datname, numbackends, xact_commit, xact_rollback, blks_read, blks_hit, "
    "tup_returned, tup_fetched, tup_inserted, tup_updated, tup_deleted, conflicts, temp_files, "
    "temp_bytes, deadlocks, blk_read_time, blk_write_time, "
    "floor(extract(epoch from stats_reset))::float8, active_time FROM pg_stat_database",
    "SELECT", "pg_stat_database"};
constexpr pg::Statement kStatDatabaseBefore14{
    "",
    "SELECT datid, datname, numbackends, xact_commit, xact_rollback, blks_read, blks_hit, "
    "tup_returned, tup_fetched, tup_inserted, tup_updated, tup_deleted, conflicts, temp_files, "
    "temp_bytes, deadlocks, blk_read_time, blk_write_time, "
    "floor(extract(epoch from stats_reset))::float8, NULL::float8 FROM pg_stat_database",
    "SELECT", "pg_stat_database"};

// v0.17.1's legacy map query for pg_stat_activity (it still counts the exporter's own session;
// the pid filter arrived in 0.18).
constexpr pg::Statement kStatActivity{
    "",
    "SELECT pg_database.datname, tmp.state, tmp2.usename, tmp2.application_name, "
    "tmp2.backend_type, tmp2.wait_event_type, tmp2.wait_event, "
    "COALESCE(count, 0) AS count, COALESCE(max_tx_duration, 0) AS max_tx_duration "
    "FROM (VALUES ('active'), ('idle'), ('idle in transaction'), "
    "('idle in transaction (aborted)'), ('fastpath function call'), ('disabled')) "
    "AS tmp(state) CROSS JOIN pg_database "
    "LEFT JOIN (SELECT datname, state, usename, application_name, backend_type, "
    "wait_event_type, wait_event, count(*) AS count, "
    "MAX(EXTRACT(EPOCH FROM now() - xact_start))::float AS max_tx_duration "
    "FROM pg_stat_activity "
    "GROUP BY datname, state, usename, application_name, backend_type, wait_event_type, "
    "wait_event) AS tmp2 "
    "ON tmp.state = tmp2.state AND pg_database.datname = tmp2.datname",
    "SELECT", "pg_stat_activity"};

// collector/pg_locks.go.
constexpr pg::Statement kLocks{
    "",
    "SELECT pg_database.datname AS datname, tmp.mode AS mode, COALESCE(count, 0) AS count "
    "FROM (VALUES ('accesssharelock'), ('rowsharelock'), ('rowexclusivelock'), "
    "('shareupdateexclusivelock'), ('sharelock'), ('sharerowexclusivelock'), "
    "('exclusivelock'), ('accessexclusivelock'), ('sireadlock')) AS tmp(mode) "
    "CROSS JOIN pg_database "
    "LEFT JOIN (SELECT database, lower(mode) AS mode, count(*) AS count FROM pg_locks "
    "WHERE database IS NOT NULL GROUP BY database, lower(mode)) AS tmp2 "
    "ON tmp.mode = tmp2.mode AND pg_database.oid = tmp2.database ORDER BY 1",
    "SELECT", "pg_locks"};

// cmd/postgres_exporter/pg_setting.go. Our connection SETs statement_timeout (the official
// exporter does not), so that one row reports the value a fresh session gets, as upstream sees it.
constexpr pg::Statement kSettings{
    "",
    "SELECT name, CASE WHEN name = 'statement_timeout' THEN reset_val ELSE setting END, "
    "COALESCE(unit, ''), short_desc, vartype FROM pg_settings "
    "WHERE vartype IN ('bool', 'integer', 'real')",
    "SELECT", "pg_settings"};

// collector/pg_database.go, in one statement; the oid form of pg_database_size gives NULL (0)
// instead of an error for a database dropped between the two reads.
constexpr pg::Statement kDatabase{
    "", "SELECT datname, datconnlimit, pg_database_size(oid)::float8 FROM pg_database", "SELECT",
    "pg_database"};

double NumberOrZero(const pg::Rows& rows, int row, int col) {
  return rows.IsNull(row, col) ? 0 : rows.Double(row, col);
}

std::string TextOrEmpty(const pg::Rows& rows, int row, int col) {
  return rows.IsNull(row, col) ? std::string() : std::string(rows.Text(row, col));
}

void RenderStatDatabase(const pg::Rows& rows, bool has_active_time, Exposition& out) {
  struct Column {
    int index;
    const char* name;
    const char* help;
  };
  // Column index in kStatDatabase, metric suffix, official help text. All counters except
  // numbackends.
  static constexpr Column kCounters[] = {
      {3, "xact_commit", "Number of transactions in this database that have been committed"},
      {4, "xact_rollback", "Number of transactions in this database that have been rolled back"},
      {5, "blks_read", "Number of disk blocks read in this database"},
      {6, "blks_hit",
       "Number of times disk blocks were found already in the buffer cache, so that a read was "
       "not necessary (this only includes hits in the PostgreSQL buffer cache, not the operating "
       "system's file system cache)"},
      {7, "tup_returned", "Number of rows returned by queries in this database"},
      {8, "tup_fetched", "Number of rows fetched by queries in this database"},
      {9, "tup_inserted", "Number of rows inserted by queries in this database"},
      {10, "tup_updated", "Number of rows updated by queries in this database"},
      {11, "tup_deleted", "Number of rows deleted by queries in this database"},
      {12, "conflicts",
       "Number of queries canceled due to conflicts with recovery in this database. (Conflicts "
       "occur only on standby servers; see pg_stat_database_conflicts for details.)"},
      {13, "temp_files",
       "Number of temporary files created by queries in this database. All temporary files are "
       "counted, regardless of why the temporary file was created (e.g., sorting or hashing), and "
       "regardless of the log_temp_files setting."},
      {14, "temp_bytes",
       "Total amount of data written to temporary files by queries in this database. All "
       "temporary files are counted, regardless of why the temporary file was created, and "
       "regardless of the log_temp_files setting."},
      {15, "deadlocks", "Number of deadlocks detected in this database"},
      {16, "blk_read_time",
       "Time spent reading data file blocks by backends in this database, in milliseconds"},
      {17, "blk_write_time",
       "Time spent writing data file blocks by backends in this database, in milliseconds"},
      {18, "stats_reset", "Time at which these statistics were last reset"},
  };
  for (int r = 0; r < rows.RowCount(); ++r) {
    // Like the official collector: the shared-objects row (datid 0, datname NULL) and rows with
    // a NULL statistic are skipped (stats_reset NULL reads as 0).
    bool skip = rows.IsNull(r, 0) || rows.IsNull(r, 1);
    for (int c = 2; c <= 17 && !skip; ++c) skip = rows.IsNull(r, c);
    if (skip || (has_active_time && rows.IsNull(r, 19))) continue;
    const Labels labels = {{"datid", std::string(rows.Text(r, 0))},
                           {"datname", std::string(rows.Text(r, 1))}};
    out.Gauge("pg_stat_database_numbackends",
              "Number of backends currently connected to this database. This is the only column "
              "in this view that returns a value reflecting current state; all other columns "
              "return the accumulated values since the last reset.",
              labels, rows.Double(r, 2));
    for (const Column& col : kCounters) {
      out.Counter(std::string("pg_stat_database_") + col.name, col.help, labels,
                  NumberOrZero(rows, r, col.index));
    }
    if (has_active_time) {
      out.Counter("pg_stat_database_active_time_seconds_total",
                  "Time spent executing SQL statements in this database, in seconds", labels,
                  rows.Double(r, 19) / 1000.0);
    }
  }
}

void RenderStatActivity(const pg::Rows& rows, const std::string& server, Exposition& out) {
  // The legacy map keys a series by its label values; two rows that differ only by NULL vs ''
  // would collide, so they are merged (counts added, the longest transaction kept).
  std::map<std::vector<std::string>, std::pair<double, double>> series;
  for (int r = 0; r < rows.RowCount(); ++r) {
    std::vector<std::string> key;
    key.reserve(7);
    for (int c = 0; c < 7; ++c) key.push_back(TextOrEmpty(rows, r, c));
    auto& v = series[key];
    v.first += NumberOrZero(rows, r, 7);
    v.second = std::max(v.second, NumberOrZero(rows, r, 8));
  }
  static constexpr const char* kLabelNames[] = {
      "datname",      "state",           "usename",   "application_name",
      "backend_type", "wait_event_type", "wait_event"};
  for (const auto& [key, value] : series) {
    Labels labels;
    for (size_t i = 0; i < key.size(); ++i) labels.emplace_back(kLabelNames[i], key[i]);
    labels.emplace_back("server", server);
    out.Gauge("pg_stat_activity_count", "number of connections in this state", labels, value.first);
    out.Gauge("pg_stat_activity_max_tx_duration",
              "max duration in seconds any active transaction has been running", labels,
              value.second);
  }
}

void RenderLocks(const pg::Rows& rows, Exposition& out) {
  for (int r = 0; r < rows.RowCount(); ++r) {
    if (rows.IsNull(r, 0) || rows.IsNull(r, 1)) continue;
    out.Gauge("pg_locks_count", "Number of locks",
              {{"datname", std::string(rows.Text(r, 0))}, {"mode", std::string(rows.Text(r, 1))}},
              NumberOrZero(rows, r, 2));
  }
}

struct UnitConversion {
  std::string_view unit;
  const char* suffix;  // "seconds" or "bytes"
  double factor;
};
// pg_setting.go normaliseUnit: every unit PostgreSQL reports in pg_settings.
constexpr UnitConversion kUnits[] = {
    {"ms", "seconds", 0.001},         {"s", "seconds", 1},           {"min", "seconds", 60},
    {"h", "seconds", 3600},           {"d", "seconds", 86400},       {"B", "bytes", 1},
    {"kB", "bytes", 1024.0},          {"MB", "bytes", 1048576.0},    {"GB", "bytes", 1073741824.0},
    {"TB", "bytes", 1099511627776.0}, {"1kB", "bytes", 1024.0},      {"2kB", "bytes", 2048.0},
    {"4kB", "bytes", 4096.0},         {"8kB", "bytes", 8192.0},      {"16kB", "bytes", 16384.0},
    {"32kB", "bytes", 32768.0},       {"64kB", "bytes", 65536.0},    {"16MB", "bytes", 16777216.0},
    {"32MB", "bytes", 33554432.0},    {"64MB", "bytes", 67108864.0},
};

std::optional<double> ParseDouble(std::string_view text) {
  std::string s(text);
  char* end = nullptr;
  double v = std::strtod(s.c_str(), &end);
  if (s.empty() || end != s.c_str() + s.size()) return std::nullopt;
  return v;
}

// Returns how many settings had to be skipped (unknown unit or unparsable value).
int RenderSettings(const pg::Rows& rows, const std::string& server, Exposition& out) {
  int skipped = 0;
  for (int r = 0; r < rows.RowCount(); ++r) {
    std::string name(rows.Text(r, 0));
    for (char& c : name) {
      if (c == '.' || c == '-') c = '_';
    }
    const std::string_view setting = rows.Text(r, 1);
    const std::string_view unit = rows.Text(r, 2);
    std::string help(rows.Text(r, 3));
    const std::string_view vartype = rows.Text(r, 4);
    double value = 0;
    if (vartype == "bool") {
      value = setting == "on" ? 1 : 0;
    } else {
      std::optional<double> parsed = ParseDouble(setting);
      if (!parsed) {
        ++skipped;
        continue;
      }
      value = *parsed;
      if (!unit.empty()) {
        const UnitConversion* conv = nullptr;
        for (const auto& u : kUnits) {
          if (u.unit == unit) conv = &u;
        }
        if (conv == nullptr) {
          ++skipped;
          continue;
        }
        if (value != -1) value *= conv->factor;  // -1 means "disabled": kept as is
        name += std::string("_") + conv->suffix;
        help += std::string(" [Units converted to ") + conv->suffix + ".]";
      }
    }
    out.Gauge("pg_settings_" + name, help, {{"server", server}}, value);
  }
  return skipped;
}

void RenderDatabase(const pg::Rows& rows, Exposition& out) {
  for (int r = 0; r < rows.RowCount(); ++r) {
    if (rows.IsNull(r, 0)) continue;
    const Labels labels = {{"datname", std::string(rows.Text(r, 0))}};
    out.Gauge("pg_database_connection_limit", "Connection limit set for the database", labels,
              NumberOrZero(rows, r, 1));
    out.Gauge("pg_database_size_bytes", "Disk space used by the database", labels,
              NumberOrZero(rows, r, 2));
  }
}

std::optional<std::pair<std::string, uint16_t>> ParseListenAddress(const std::string& addr) {
  size_t colon = addr.rfind(':');
  if (colon == std::string::npos) return std::nullopt;
  std::string host = addr.substr(0, colon);
  const std::string port_text = addr.substr(colon + 1);
  if (host.size() >= 2 && host.front() == '[' && host.back() == ']') {
    host = host.substr(1, host.size() - 2);
  }
  if (host.empty()) host = "0.0.0.0";  // ":9187", the official default
  unsigned port = 0;
  auto [ptr, ec] = std::from_chars(port_text.data(), port_text.data() + port_text.size(), port);
  if (port_text.empty() || ec != std::errc() || ptr != port_text.data() + port_text.size() ||
      port > 65535) {
    return std::nullopt;
  }
  return std::make_pair(host, static_cast<uint16_t>(port));
}

}  // namespace

std::string ServerFingerprint(const std::string& dsn) {
  char* err = nullptr;
  PQconninfoOption* info = PQconninfoParse(dsn.c_str(), &err);
  if (info == nullptr) {
    if (err != nullptr) PQfreemem(err);
    return "";
  }
  std::string host = "localhost";
  std::string port = "5432";
  for (PQconninfoOption* o = info; o->keyword != nullptr; ++o) {
    if (o->val == nullptr || *o->val == '\0') continue;
    std::string_view k = o->keyword;
    if (k == "host") host = o->val;
    if (k == "port") port = o->val;
  }
  PQconninfoFree(info);
  return host + ":" + port;
}

core::Result<Config> Config::FromArgs(const std::vector<std::string>& args, const core::Env& env) {
  core::EnvReader reader(env);
  Config c;
  c.dsn = reader.RequiredString("DATA_SOURCE_NAME");
  std::string listen = reader.String("PG_EXPORTER_WEB_LISTEN_ADDRESS", "127.0.0.1:9187");
  const int64_t timeout_ms = reader.Int("PG_EXPORTER_QUERY_TIMEOUT_MS", 5000, 100, 600000);
  c.query_timeout = std::chrono::milliseconds(timeout_ms);
  std::optional<uint16_t> port_flag;

  for (size_t i = 0; i < args.size(); ++i) {
    std::string a = args[i];
    std::optional<std::string> inline_value;
    if (size_t eq = a.find('='); a.rfind("--", 0) == 0 && eq != std::string::npos) {
      inline_value = a.substr(eq + 1);
      a = a.substr(0, eq);
    }
    auto value = [&](const char* flag) -> std::optional<std::string> {
      if (inline_value) return inline_value;
      if (i + 1 >= args.size()) {
        reader.AddProblem(std::string(flag) + " needs a value");
        return std::nullopt;
      }
      return args[++i];
    };
    if (a == "--web.listen-address") {
      if (auto v = value("--web.listen-address")) listen = *v;
    } else if (a == "--port") {
      if (auto v = value("--port")) {
        unsigned port = 0;
        auto [ptr, ec] = std::from_chars(v->data(), v->data() + v->size(), port);
        if (v->empty() || ec != std::errc() || ptr != v->data() + v->size() || port > 65535) {
          reader.AddProblem("--port \"" + *v + "\" is not a port");
        } else {
          port_flag = static_cast<uint16_t>(port);
        }
      }
    } else {
      reader.AddProblem("unknown argument \"" + a + "\"");
    }
  }
  if (auto parsed = ParseListenAddress(listen)) {
    c.host = parsed->first;
    c.port = parsed->second;
  } else {
    reader.AddProblem("listen address \"" + listen + "\" is not [host]:port");
  }
  if (port_flag) c.port = *port_flag;
  if (!c.dsn.empty()) {
    c.server_label = ServerFingerprint(c.dsn);
    // libpq's own message may quote part of the DSN (and so a password): keep it out.
    if (c.server_label.empty()) {
      reader.AddProblem("DATA_SOURCE_NAME is not a valid libpq connection string or URI");
    }
  }
  CHAT_RETURN_IF_ERROR(reader.Finish());
  return c;
}

Collector::Collector(Config config, telemetry::Logger& log)
    : config_(std::move(config)), log_(log) {}

Collector::~Collector() = default;

core::Result<std::unique_ptr<Collector>> Collector::Create(const Config& config) {
  return Create(config, telemetry::Telemetry::Noop());
}

core::Result<std::unique_ptr<Collector>> Collector::Create(const Config& config,
                                                           const telemetry::Telemetry& telemetry) {
  std::unique_ptr<Collector> collector(new Collector(config, *telemetry.logger));
  pg::PoolOptions options;
  options.dsn = config.dsn;
  options.size = 1;  // scrapes are serialised: one connection, like the official exporter
  options.statement_timeout = config.query_timeout;
  options.connect_timeout = config.query_timeout;
  options.acquire_timeout = config.query_timeout;
  // Prometheus scrapes every 15 s: a short backoff lets the next scrape after a restart
  // reconnect instead of reporting a stale "down".
  options.reconnect_backoff_initial = std::chrono::milliseconds(100);
  options.reconnect_backoff_max = std::chrono::milliseconds(1000);
  options.application_name = "pg-exporter";
  CHAT_ASSIGN_OR_RETURN(collector->pool_, pg::Pool::Create(std::move(options), telemetry));
  return collector;
}

std::string Collector::Scrape() {
  std::lock_guard lock(mu_);
  const auto start = std::chrono::steady_clock::now();
  telemetry::Logger& log = log_;
  ++scrapes_;
  Exposition out;
  bool up = false;
  bool error = false;
  core::Status down_reason = core::Status::Ok();
  {
    core::Result<pg::Lease> lease = pool_->Acquire();
    std::optional<pg::Rows> instance;
    if (!lease.ok()) {
      down_reason = lease.status();
    } else {
      core::Result<pg::Rows> rows = lease->Execute({}, kInstance);
      if (rows.ok() && rows->RowCount() == 1) {
        instance = std::move(rows).value();
      } else {
        down_reason = rows.ok() ? core::Internal("instance query returned no row") : rows.status();
      }
    }
    if (instance) {
      up = true;
      const int64_t version = instance->Int64(0, 0);
      out.Gauge("pg_postmaster_start_time_seconds", "Time at which postmaster started", {},
                NumberOrZero(*instance, 0, 1));
      // Each collector on its own, as in the official exporter: one failing query marks the
      // scrape as errored but the others still report. After a connection error the rest are
      // skipped (they would fail the same way).
      auto run = [&](const pg::Statement& statement) -> std::optional<pg::Rows> {
        if (!lease->healthy()) {
          error = true;
          return std::nullopt;
        }
        core::Result<pg::Rows> rows = lease->Execute({}, statement);
        if (!rows.ok()) {
          error = true;
          log.Warn("collector query failed",
                   {{"collector", statement.collection}, {"error", rows.status().ToString()}});
          return std::nullopt;
        }
        return std::move(rows).value();
      };
      const bool has_active_time = version >= 140000;
      if (auto rows = run(has_active_time ? kStatDatabase : kStatDatabaseBefore14)) {
        RenderStatDatabase(*rows, has_active_time, out);
      }
      if (auto rows = run(kStatActivity)) RenderStatActivity(*rows, config_.server_label, out);
      if (auto rows = run(kLocks)) RenderLocks(*rows, out);
      if (auto rows = run(kSettings)) {
        if (int skipped = RenderSettings(*rows, config_.server_label, out); skipped > 0) {
          log.Warn("pg_settings rows skipped (unknown unit or value)",
                   {{"skipped", static_cast<int64_t>(skipped)}});
        }
      }
      if (auto rows = run(kDatabase)) RenderDatabase(*rows, out);
    }
  }
  if (!up) error = true;
  // Log transitions, not every scrape: a database that stays down would otherwise write one
  // line per scrape interval.
  if (up != was_up_) {
    if (up) {
      log.Info("postgres reachable again", {{"server", config_.server_label}});
    } else {
      log.Warn("postgres unreachable",
               {{"server", config_.server_label}, {"error", down_reason.ToString()}});
    }
    was_up_ = up;
  }

  out.Counter("pg_exporter_scrapes_total",
              "Total number of times PostgreSQL was scraped for metrics.", {},
              static_cast<double>(scrapes_));
  out.Gauge("pg_exporter_last_scrape_error",
            "Whether the last scrape of metrics from PostgreSQL resulted in an error (1 for "
            "error, 0 for success).",
            {}, error ? 1 : 0);
  out.Gauge("pg_up",
            "Whether the last scrape of metrics from PostgreSQL was able to connect to the server "
            "(1 for yes, 0 for no).",
            {}, up ? 1 : 0);
  const std::chrono::duration<double> took = std::chrono::steady_clock::now() - start;
  out.Gauge("pg_exporter_last_scrape_duration_seconds",
            "Duration of the last scrape of metrics from PostgreSQL.", {}, took.count());
  return out.Render();
}

// The official exporter answers / with a landing page; deploy/k8s probes it.
ExporterServer::ExporterServer(Collector& collector, Config config)
    : collector_(collector),
      config_(std::move(config)),
      server_({"pg-exporter", config_.host, config_.port,
               "pg-exporter (postgres_exporter stand-in): /metrics\n"},
              [this] { return collector_.Scrape(); }) {}

}  // namespace chat::pg_exporter
