// Connection pool, leases, statement execution and transactions over libpq, with the contract's
// CLIENT spans (attribute set D) and db_client_* metrics (docs/observability.md §4.2, §6.2).
//
// Ownership: the Pool owns a fixed number of connection slots; Acquire() hands one out as an
// RAII Lease that returns it on destruction. A connection found broken (libpq CONNECTION_BAD, a
// class-08 error, server shutdown) is closed when its lease ends and reconnected on next use,
// with exponential backoff between failed attempts. The Pool must outlive every Lease and
// Transaction. Pool methods are thread-safe; a Lease (and its Transaction) is used by one thread
// at a time. Queries block the calling thread (libpq synchronous API).
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <initializer_list>
#include <memory>
#include <mutex>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "chat/core/result.hpp"
#include "chat/core/status.hpp"
#include "chat/pg/batch.hpp"
#include "chat/pg/rows.hpp"
#include "chat/pg/statement.hpp"
#include "chat/telemetry/metrics.hpp"
#include "chat/telemetry/telemetry.hpp"
#include "chat/telemetry/trace.hpp"

namespace chat::pg {

struct PoolOptions {
  // libpq connection string or URI ("host=... port=... dbname=... user=..." or
  // "postgresql://user@host:port/db"). Never logged (it may hold a password).
  std::string dsn;
  size_t size = 4;               // fixed number of connections
  bool connect_eagerly = false;  // Create() opens every connection and fails if one cannot
  // Server-side statement_timeout set on every connection; 0 disables it.
  std::chrono::milliseconds statement_timeout{5000};
  // libpq connect_timeout (rounded up to whole seconds, minimum 2 s as libpq requires).
  std::chrono::milliseconds connect_timeout{5000};
  // Default wait for a free connection in Pool::Execute/Begin.
  std::chrono::milliseconds acquire_timeout{2000};
  // After a failed connect, further attempts wait initial, 2x, 4x, ... up to max.
  std::chrono::milliseconds reconnect_backoff_initial{100};
  std::chrono::milliseconds reconnect_backoff_max{5000};
  std::string application_name = "nats-chat";
};

class Pool;
class Transaction;
struct Slot;  // internal

// Exclusive use of one pooled connection. Returned to the pool on destruction.
class Lease {
 public:
  Lease(Lease&& other) noexcept;
  Lease& operator=(Lease&& other) noexcept;
  Lease(const Lease&) = delete;
  Lease& operator=(const Lease&) = delete;
  ~Lease();

  // Runs one statement as a CLIENT span, child of `parent` (a root span when invalid).
  // Errors: see chat/pg/errors.hpp. The connection is marked broken on connection errors.
  core::Result<Rows> Execute(const telemetry::SpanContext& parent, const Statement& statement,
                             std::initializer_list<Param> params = {});
  core::Result<Rows> Execute(const telemetry::SpanContext& parent, const Statement& statement,
                             std::span<const Param> params);

  // One multi-row INSERT (see batch.hpp); returns the number of rows actually inserted.
  // An empty batch returns 0 without a round trip.
  core::Result<int64_t> InsertBatch(const telemetry::SpanContext& parent, const BatchInsert& insert,
                                    const BatchRows& rows);

  // BEGIN; the Transaction rolls back on destruction unless committed. Spans BEGIN/COMMIT/
  // ROLLBACK and the statements in between are children of `parent`.
  core::Result<Transaction> Begin(const telemetry::SpanContext& parent);

  // Runs a multi-statement script with the simple-query protocol (migrations). The span takes
  // its identity from `identity` (identity.sql becomes db.query.text); the script text itself is
  // never recorded because seed data may hold secrets.
  core::Status ExecuteScript(const telemetry::SpanContext& parent, const Statement& identity,
                             std::string_view script);

  // False once a connection error was seen; the pool reconnects it after the lease ends.
  bool healthy() const;

 private:
  friend class Pool;
  Lease(Pool* pool, Slot* slot) : pool_(pool), slot_(slot) {}
  void Release();

  Pool* pool_ = nullptr;
  Slot* slot_ = nullptr;
};

// RAII transaction on a Lease (which must outlive it). Not thread-safe.
class Transaction {
 public:
  Transaction(Transaction&& other) noexcept;
  Transaction& operator=(Transaction&&) = delete;
  Transaction(const Transaction&) = delete;
  Transaction& operator=(const Transaction&) = delete;
  ~Transaction();  // ROLLBACK if still open

  core::Result<Rows> Execute(const Statement& statement, std::initializer_list<Param> params = {});
  core::Result<Rows> Execute(const Statement& statement, std::span<const Param> params);
  core::Result<int64_t> InsertBatch(const BatchInsert& insert, const BatchRows& rows);

  // COMMIT. After a failed statement PostgreSQL only allows ROLLBACK: COMMIT then reports
  // failed_precondition and the transaction is rolled back. Either way the transaction ends.
  core::Status Commit();
  core::Status Rollback();
  bool open() const { return open_; }

 private:
  friend class Lease;
  Transaction(Lease* lease, telemetry::SpanContext parent)
      : lease_(lease), parent_(std::move(parent)) {}

  Lease* lease_;
  telemetry::SpanContext parent_;
  bool open_ = true;
  bool failed_ = false;  // a statement failed: COMMIT would be turned into ROLLBACK by the server
};

class Pool {
 public:
  // Validates the DSN (invalid_argument) and registers the metrics. With connect_eagerly, opens
  // every connection now (unavailable when one fails). `telemetry` must outlive the pool.
  static core::Result<std::unique_ptr<Pool>> Create(PoolOptions options,
                                                    const telemetry::Telemetry& telemetry);
  ~Pool();  // closes connections; CHAT_CHECKs that no lease is outstanding
  Pool(const Pool&) = delete;
  Pool& operator=(const Pool&) = delete;

  // Waits up to `timeout` for a free connection (resource_exhausted "database connection pool
  // exhausted" when none frees up), connecting it first if needed (unavailable when the
  // connection fails or a reconnect backoff is in progress).
  core::Result<Lease> Acquire(std::chrono::milliseconds timeout);
  core::Result<Lease> Acquire() { return Acquire(options_.acquire_timeout); }

  // Acquire (default timeout) + Lease::Execute.
  core::Result<Rows> Execute(const telemetry::SpanContext& parent, const Statement& statement,
                             std::initializer_list<Param> params = {});

  const PoolOptions& options() const { return options_; }
  size_t size() const { return options_.size; }
  // Connections that are open and not leased / leased.
  size_t idle_count() const;
  size_t used_count() const;
  // Database name from the DSN (db.namespace is "<dbname>.public").
  const std::string& database() const { return database_; }

 private:
  friend class Lease;
  friend class Transaction;
  Pool(PoolOptions options, const telemetry::Telemetry& telemetry);

  core::Status Connect(Slot& slot);
  void Return(Slot* slot);
  void UpdateGaugesLocked();

  // Runs `sql` (params may be empty) on `slot` with span and metric; the core of every call.
  core::Result<Rows> Run(Slot& slot, const telemetry::SpanContext& parent,
                         const Statement& statement, std::span<const Param> params,
                         bool simple_query);

  PoolOptions options_;
  telemetry::Tracer tracer_;
  telemetry::Logger* logger_ = nullptr;
  telemetry::Histogram duration_;
  telemetry::GaugeCell* idle_gauge_ = nullptr;
  telemetry::GaugeCell* used_gauge_ = nullptr;
  bool has_metrics_ = false;

  // From the DSN; replaced by the live connection's values once connected.
  std::string database_;
  std::string default_host_;
  int default_port_ = 5432;

  mutable std::mutex mu_;
  std::condition_variable cv_;
  std::vector<std::unique_ptr<Slot>> slots_;
  std::vector<Slot*> free_;
  size_t idle_ = 0;  // open connections in free_
  size_t used_ = 0;  // leased slots
  double reported_idle_ = 0;
  double reported_used_ = 0;
  std::chrono::steady_clock::time_point next_connect_attempt_{};
  std::chrono::milliseconds backoff_{0};
};

}  // namespace chat::pg
