// Pool, Lease and Transaction: libpq connections with the contract's spans and metrics.
#include "chat/pg/pool.hpp"

#include <libpq-fe.h>

#include <algorithm>
#include <cstdlib>
#include <string>
#include <unordered_map>
#include <utility>

#include "chat/core/clock.hpp"
#include "chat/pg/errors.hpp"
#include "chat/telemetry/semconv.hpp"

namespace chat::pg {

namespace sc = telemetry::semconv;
using Clock = std::chrono::steady_clock;

// One pooled connection. Touched only by the thread holding its lease (or by the pool while the
// slot is in the free list, under the pool mutex).
struct Slot {
  PGconn* conn = nullptr;
  bool broken = false;
  std::unordered_map<std::string, std::string> prepared;  // statement name → SQL
  std::string host;
  int port = 0;
  std::string db_namespace;  // "<dbname>.public"
};

namespace {

constexpr size_t kMaxQueryTextLength = 2048;
constexpr Statement kBegin{"", "BEGIN", "BEGIN", ""};
constexpr Statement kCommit{"", "COMMIT", "COMMIT", ""};
constexpr Statement kRollback{"", "ROLLBACK", "ROLLBACK", ""};

std::string Truncate(std::string_view s, size_t n) {
  if (s.size() <= n) return std::string(s);
  // Do not cut a UTF-8 sequence in half.
  size_t end = n;
  while (end > 0 && (static_cast<unsigned char>(s[end]) & 0xC0) == 0x80) --end;
  return std::string(s.substr(0, end));
}

std::string FirstOf(std::string_view list) { return std::string(list.substr(0, list.find(','))); }

const char* EnvOr(const char* name, const char* fallback) {
  const char* v = std::getenv(name);
  return (v != nullptr && *v != '\0') ? v : fallback;
}

}  // namespace

// ---- Pool ----

Pool::Pool(PoolOptions options, const telemetry::Telemetry& telemetry)
    : options_(std::move(options)), tracer_(telemetry.tracer), logger_(telemetry.logger) {
  if (telemetry.metrics != nullptr) {
    duration_ = telemetry.metrics->AddHistogram(
        "db_client_operation_duration_seconds", "Duration of database client operations.",
        telemetry::kBucketsNats,
        {"db_system_name", "db_operation_name", "db_collection_name", "error_type"});
    auto gauge = telemetry.metrics->AddGauge("db_client_connection_count",
                                             "Open database connections by state.", {"state"});
    idle_gauge_ = &gauge.With({"idle"});
    used_gauge_ = &gauge.With({"used"});
    has_metrics_ = true;
  }
  for (size_t i = 0; i < options_.size; ++i) {
    slots_.push_back(std::make_unique<Slot>());
    free_.push_back(slots_.back().get());
  }
}

core::Result<std::unique_ptr<Pool>> Pool::Create(PoolOptions options,
                                                 const telemetry::Telemetry& telemetry) {
  if (options.size == 0) return core::InvalidArgument("database pool size must be at least 1");
  char* err = nullptr;
  PQconninfoOption* info = PQconninfoParse(options.dsn.c_str(), &err);
  if (info == nullptr) {
    // libpq's message may quote part of the DSN (and so a password): keep it out.
    if (err != nullptr) PQfreemem(err);
    return core::InvalidArgument("database DSN is not a valid libpq connection string or URI");
  }
  std::string dbname, user, host, port;
  for (PQconninfoOption* o = info; o->keyword != nullptr; ++o) {
    if (o->val == nullptr) continue;
    std::string_view k = o->keyword;
    if (k == "dbname") dbname = o->val;
    if (k == "user") user = o->val;
    if (k == "host") host = FirstOf(o->val);
    if (k == "hostaddr" && host.empty()) host = FirstOf(o->val);
    if (k == "port") port = FirstOf(o->val);
  }
  PQconninfoFree(info);
  if (user.empty()) user = EnvOr("PGUSER", "postgres");
  if (dbname.empty()) dbname = EnvOr("PGDATABASE", user.c_str());
  if (host.empty()) host = EnvOr("PGHOST", "/var/run/postgresql");
  if (port.empty()) port = EnvOr("PGPORT", "5432");

  std::unique_ptr<Pool> pool(new Pool(std::move(options), telemetry));
  pool->database_ = dbname;
  pool->default_host_ = host;
  pool->default_port_ = std::atoi(port.c_str());
  if (pool->options_.connect_eagerly) {
    for (auto& slot : pool->slots_) {
      CHAT_RETURN_IF_ERROR(pool->Connect(*slot));
      std::lock_guard lock(pool->mu_);
      ++pool->idle_;
      pool->UpdateGaugesLocked();
    }
  }
  return pool;
}

Pool::~Pool() {
  std::lock_guard lock(mu_);
  CHAT_CHECK(used_ == 0);  // every Lease must end before its Pool
  for (auto& slot : slots_) {
    if (slot->conn != nullptr) PQfinish(slot->conn);
    slot->conn = nullptr;
  }
  idle_ = 0;
  UpdateGaugesLocked();
}

void Pool::UpdateGaugesLocked() {
  if (!has_metrics_) return;
  // Deltas, not Set(): several pools in one process share the series.
  const auto idle = static_cast<double>(idle_);
  const auto used = static_cast<double>(used_);
  idle_gauge_->Add(idle - reported_idle_);
  used_gauge_->Add(used - reported_used_);
  reported_idle_ = idle;
  reported_used_ = used;
}

size_t Pool::idle_count() const {
  std::lock_guard lock(mu_);
  return idle_;
}

size_t Pool::used_count() const {
  std::lock_guard lock(mu_);
  return used_;
}

core::Status Pool::Connect(Slot& slot) {
  {
    std::lock_guard lock(mu_);
    if (backoff_.count() > 0 && Clock::now() < next_connect_attempt_) {
      return core::Unavailable("database unavailable: reconnect backoff in progress");
    }
  }
  const auto timeout_s = std::max<int64_t>(2, (options_.connect_timeout.count() + 999) / 1000);
  const std::string timeout_text = std::to_string(timeout_s);
  const char* keywords[] = {"dbname", "connect_timeout", "fallback_application_name", nullptr};
  const char* values[] = {options_.dsn.c_str(), timeout_text.c_str(),
                          options_.application_name.c_str(), nullptr};
  PGconn* conn = PQconnectdbParams(keywords, values, /*expand_dbname=*/1);
  bool ok = conn != nullptr && PQstatus(conn) == CONNECTION_OK;
  if (ok && options_.statement_timeout.count() > 0) {
    const std::string set =
        "SET statement_timeout = " + std::to_string(options_.statement_timeout.count());
    PGresult* r = PQexec(conn, set.c_str());
    ok = r != nullptr && PQresultStatus(r) == PGRES_COMMAND_OK;
    PQclear(r);
  }
  if (!ok) {
    if (conn != nullptr) PQfinish(conn);
    int64_t backoff_ms = 0;
    {
      std::lock_guard lock(mu_);
      backoff_ = backoff_.count() == 0 ? options_.reconnect_backoff_initial
                                       : std::min(backoff_ * 2, options_.reconnect_backoff_max);
      next_connect_attempt_ = Clock::now() + backoff_;
      backoff_ms = backoff_.count();
    }
    if (logger_ != nullptr) {
      logger_->Warn("database connect failed", {{"backoff_ms", backoff_ms}});
    }
    return core::Unavailable("database unavailable: connection failed");
  }
  // Server notices ("relation already exists, skipping") would go to stderr by default and may
  // quote values: drop them.
  PQsetNoticeProcessor(
      conn, [](void*, const char*) {}, nullptr);
  slot.conn = conn;
  slot.broken = false;
  slot.prepared.clear();
  const char* host = PQhost(conn);
  slot.host = (host != nullptr && *host != '\0') ? host : default_host_;
  const char* port = PQport(conn);
  slot.port = (port != nullptr && *port != '\0') ? std::atoi(port) : default_port_;
  const char* db = PQdb(conn);
  slot.db_namespace = std::string(db != nullptr ? db : database_.c_str()) + ".public";
  bool recovered = false;
  {
    std::lock_guard lock(mu_);
    recovered = backoff_.count() > 0;
    backoff_ = std::chrono::milliseconds(0);
  }
  if (recovered && logger_ != nullptr) logger_->Info("database reconnected");
  return core::Status::Ok();
}

core::Result<Lease> Pool::Acquire(std::chrono::milliseconds timeout) {
  Slot* slot = nullptr;
  {
    std::unique_lock lock(mu_);
    if (!cv_.wait_for(lock, timeout, [&] { return !free_.empty(); })) {
      return core::ResourceExhausted("database connection pool exhausted: all " +
                                     std::to_string(options_.size) + " connections in use for " +
                                     std::to_string(timeout.count()) + " ms");
    }
    // Prefer a connection that is already open.
    auto it = std::find_if(free_.begin(), free_.end(), [](Slot* s) { return s->conn != nullptr; });
    if (it == free_.end()) it = free_.end() - 1;
    slot = *it;
    free_.erase(it);
    if (slot->conn != nullptr) --idle_;
    ++used_;
    UpdateGaugesLocked();
  }
  if (slot->conn == nullptr || PQstatus(slot->conn) != CONNECTION_OK) {
    if (slot->conn != nullptr) {
      PQfinish(slot->conn);
      slot->conn = nullptr;
    }
    core::Status st = Connect(*slot);
    if (!st.ok()) {
      Return(slot);
      return st;
    }
  }
  return Lease(this, slot);
}

void Pool::Return(Slot* slot) {
  if (slot->conn != nullptr && (slot->broken || PQstatus(slot->conn) != CONNECTION_OK ||
                                PQtransactionStatus(slot->conn) != PQTRANS_IDLE)) {
    // Never hand out a broken connection or one left inside a transaction: close it and let
    // the next Acquire reconnect.
    PQfinish(slot->conn);
    slot->conn = nullptr;
    slot->prepared.clear();
    slot->broken = false;
  }
  {
    std::lock_guard lock(mu_);
    --used_;
    if (slot->conn != nullptr) ++idle_;
    free_.push_back(slot);
    UpdateGaugesLocked();
  }
  cv_.notify_one();
}

core::Result<Rows> Pool::Execute(const telemetry::SpanContext& parent, const Statement& statement,
                                 std::initializer_list<Param> params) {
  auto lease = Acquire();
  if (!lease.ok()) {
    // No round trip happened, but the operation failed: keep it visible in traces and in the
    // duration histogram like any other failed statement.
    const bool exhausted = lease.status().code() == core::ErrorCode::kResourceExhausted;
    const std::string error_type = exhausted ? "timeout" : "connection_error";
    auto span = tracer_.StartSpan(SpanName(statement), telemetry::SpanKind::kClient, parent);
    span.SetAttribute(sc::kDbSystemName, "postgresql")
        .SetAttribute(sc::kDbSystem, "postgresql")
        .SetAttribute(sc::kDbNamespace, database_ + ".public")
        .SetAttribute(sc::kDbOperationName, statement.operation)
        .SetAttribute(sc::kDbQueryText, Truncate(statement.sql, kMaxQueryTextLength))
        .SetAttribute(sc::kServerAddress, default_host_)
        .SetAttribute(sc::kServerPort, default_port_);
    if (!statement.collection.empty()) {
      span.SetAttribute(sc::kDbCollectionName, statement.collection);
    }
    span.RecordError(error_type, lease.status().message(), {},
                     exhausted ? "connection pool exhausted" : "database unavailable");
    if (has_metrics_) {
      duration_.With({"postgresql", statement.operation, statement.collection, error_type})
          .Record(0, &span.Context());
    }
    return lease.status();
  }
  return lease->Execute(parent, statement, params);
}

core::Result<Rows> Pool::Run(Slot& slot, const telemetry::SpanContext& parent,
                             const Statement& statement, std::span<const Param> params,
                             bool simple_query) {
  // `statement.sql` is the identity text for scripts; the script itself arrives in params[0].
  const std::string span_name = SpanName(statement);
  telemetry::SpanStartOptions opts;
  opts.kind = telemetry::SpanKind::kClient;
  opts.parent = parent;
  using telemetry::Attribute;
  const std::string query_text = Truncate(statement.sql, kMaxQueryTextLength);
  opts.attributes.push_back({sc::kDbSystemName, "postgresql"});
  opts.attributes.push_back({sc::kDbSystem, "postgresql"});
  opts.attributes.push_back({sc::kDbNamespace, std::string_view(slot.db_namespace)});
  if (!statement.collection.empty()) {
    opts.attributes.push_back({sc::kDbCollectionName, statement.collection});
  }
  opts.attributes.push_back({sc::kDbOperationName, statement.operation});
  opts.attributes.push_back({sc::kDbQueryText, std::string_view(query_text)});
  opts.attributes.push_back({sc::kServerAddress, std::string_view(slot.host)});
  opts.attributes.push_back({sc::kServerPort, slot.port});
  auto span = tracer_.StartSpan(span_name, std::move(opts));
  const auto start = Clock::now();

  PGconn* conn = slot.conn;
  PGresult* res = nullptr;
  if (simple_query) {
    CHAT_CHECK(params.size() == 1 && !params[0].is_null());
    res = PQexec(conn, params[0].text().c_str());
  } else {
    std::vector<const char*> values(params.size());
    for (size_t i = 0; i < params.size(); ++i) {
      values[i] = params[i].is_null() ? nullptr : params[i].text().c_str();
    }
    const int n = static_cast<int>(params.size());
    const std::string sql(statement.sql);
    if (statement.name.empty()) {
      res = PQexecParams(conn, sql.c_str(), n, nullptr, values.data(), nullptr, nullptr, 0);
    } else {
      const std::string name(statement.name);
      auto it = slot.prepared.find(name);
      if (it != slot.prepared.end()) {
        // Two declarations sharing a name is a programming error, found by the first test.
        CHAT_CHECK(it->second == sql);
      } else {
        res = PQprepare(conn, name.c_str(), sql.c_str(), n, nullptr);
        if (res != nullptr && PQresultStatus(res) == PGRES_COMMAND_OK) {
          PQclear(res);
          res = nullptr;
          slot.prepared.emplace(name, sql);
        }
      }
      if (slot.prepared.count(name) != 0) {
        res = PQexecPrepared(conn, name.c_str(), n, values.data(), nullptr, nullptr, 0);
      }
    }
  }

  const ExecStatusType st = res != nullptr ? PQresultStatus(res) : PGRES_FATAL_ERROR;
  const double seconds = std::chrono::duration<double>(Clock::now() - start).count();
  if (st == PGRES_COMMAND_OK || st == PGRES_TUPLES_OK) {
    Rows rows(res);
    rows.set_span_context(span.Context());
    const std::string_view op = statement.operation;
    if (op == "SELECT") {
      span.SetAttribute(sc::kDbResponseReturnedRows, static_cast<int64_t>(rows.RowCount()));
    } else if (op == "INSERT" || op == "UPDATE" || op == "DELETE") {
      span.SetAttribute(sc::kChatDbRowsAffected, rows.RowsAffected());
    }
    if (has_metrics_) {
      duration_.With({"postgresql", statement.operation, statement.collection, ""})
          .Record(seconds, &span.Context());
    }
    return rows;
  }

  const char* sqlstate = res != nullptr ? PQresultErrorField(res, PG_DIAG_SQLSTATE) : nullptr;
  const char* constraint =
      res != nullptr ? PQresultErrorField(res, PG_DIAG_CONSTRAINT_NAME) : nullptr;
  DbError error = ClassifyError(sqlstate != nullptr ? sqlstate : "",
                                conn == nullptr || PQstatus(conn) == CONNECTION_BAD);
  if (constraint != nullptr) error.constraint = constraint;
  PQclear(res);
  if (error.kind == FailureKind::kConnection) {
    if (!slot.broken && logger_ != nullptr) {
      logger_->Warn(span.Context(), "database connection lost");
    }
    slot.broken = true;
  }
  core::Status status = ToStatus(error, span_name);
  span.RecordError(SpanErrorType(error), status.message(), "postgres_error", DescribeError(error));
  if (!error.sqlstate.empty()) span.SetAttribute(sc::kDbResponseStatusCode, error.sqlstate);
  if (has_metrics_) {
    duration_
        .With({"postgresql", statement.operation, statement.collection, MetricErrorType(error)})
        .Record(seconds, &span.Context());
  }
  return status;
}

// ---- Lease ----

Lease::Lease(Lease&& other) noexcept
    : pool_(std::exchange(other.pool_, nullptr)), slot_(std::exchange(other.slot_, nullptr)) {}

Lease& Lease::operator=(Lease&& other) noexcept {
  if (this != &other) {
    Release();
    pool_ = std::exchange(other.pool_, nullptr);
    slot_ = std::exchange(other.slot_, nullptr);
  }
  return *this;
}

Lease::~Lease() { Release(); }

void Lease::Release() {
  if (pool_ != nullptr && slot_ != nullptr) pool_->Return(slot_);
  pool_ = nullptr;
  slot_ = nullptr;
}

bool Lease::healthy() const {
  return slot_ != nullptr && slot_->conn != nullptr && !slot_->broken &&
         PQstatus(slot_->conn) == CONNECTION_OK;
}

core::Result<Rows> Lease::Execute(const telemetry::SpanContext& parent, const Statement& statement,
                                  std::initializer_list<Param> params) {
  return Execute(parent, statement, std::span<const Param>(params.begin(), params.size()));
}

core::Result<Rows> Lease::Execute(const telemetry::SpanContext& parent, const Statement& statement,
                                  std::span<const Param> params) {
  CHAT_CHECK(slot_ != nullptr);  // use after move
  return pool_->Run(*slot_, parent, statement, params, /*simple_query=*/false);
}

core::Result<int64_t> Lease::InsertBatch(const telemetry::SpanContext& parent,
                                         const BatchInsert& insert, const BatchRows& rows) {
  if (rows.empty()) return int64_t{0};
  const std::vector<Param> params = rows.ToParams();
  CHAT_ASSIGN_OR_RETURN(Rows result, Execute(parent, insert.statement(), params));
  return result.RowsAffected();
}

core::Status Lease::ExecuteScript(const telemetry::SpanContext& parent, const Statement& identity,
                                  std::string_view script) {
  CHAT_CHECK(slot_ != nullptr);
  const Param p(script);
  auto r = pool_->Run(*slot_, parent, identity, std::span<const Param>(&p, 1),
                      /*simple_query=*/true);
  return r.status();
}

core::Result<Transaction> Lease::Begin(const telemetry::SpanContext& parent) {
  CHAT_ASSIGN_OR_RETURN(Rows r, Execute(parent, kBegin));
  (void)r;
  return Transaction(this, parent);
}

// ---- Transaction ----

Transaction::Transaction(Transaction&& other) noexcept
    : lease_(other.lease_),
      parent_(std::move(other.parent_)),
      open_(std::exchange(other.open_, false)),
      failed_(other.failed_) {}

Transaction::~Transaction() {
  if (open_) (void)Rollback();
}

core::Result<Rows> Transaction::Execute(const Statement& statement,
                                        std::initializer_list<Param> params) {
  return Execute(statement, std::span<const Param>(params.begin(), params.size()));
}

core::Result<Rows> Transaction::Execute(const Statement& statement, std::span<const Param> params) {
  if (!open_) return core::FailedPrecondition("transaction is no longer open");
  auto r = lease_->Execute(parent_, statement, params);
  if (!r.ok()) failed_ = true;
  return r;
}

core::Result<int64_t> Transaction::InsertBatch(const BatchInsert& insert, const BatchRows& rows) {
  if (!open_) return core::FailedPrecondition("transaction is no longer open");
  auto r = lease_->InsertBatch(parent_, insert, rows);
  if (!r.ok()) failed_ = true;
  return r;
}

core::Status Transaction::Commit() {
  if (!open_) return core::FailedPrecondition("transaction is no longer open");
  if (failed_) {
    // PostgreSQL would silently turn COMMIT into ROLLBACK; say so explicitly instead.
    CHAT_RETURN_IF_ERROR(Rollback());
    return core::FailedPrecondition("transaction rolled back: a statement in it failed");
  }
  open_ = false;
  auto r = lease_->Execute(parent_, kCommit);
  return r.status();
}

core::Status Transaction::Rollback() {
  if (!open_) return core::Status::Ok();
  open_ = false;
  auto r = lease_->Execute(parent_, kRollback);
  return r.status();
}

}  // namespace chat::pg
