// Pool, statements, spans (attribute set D), status mapping, transactions, batch insert and
// metrics against a real PostgreSQL.
#include <gtest/gtest.h>

#include <thread>

#include "chat/pg/errors.hpp"
#include "chat/telemetry/semconv.hpp"
#include "chat/testing/wait_for.hpp"
#include "pg_fixture.hpp"

namespace chat::pg {
namespace {

namespace sc = telemetry::semconv;
using telemetry::SpanData;
using telemetry::SpanKind;
using telemetry::StatusCode;
using telemetry::sdk::FindEvent;
using telemetry::sdk::IntAttribute;
using telemetry::sdk::StringAttribute;
using namespace std::chrono_literals;

constexpr Statement kInsert{
    "t_insert_message",
    "INSERT INTO messages (room, username, text, \"timestamp\") VALUES ($1, $2, $3, $4)", "INSERT",
    "messages"};
constexpr Statement kSelectRoom{
    "t_select_room",
    "SELECT username, text, \"timestamp\", thread_id, is_deleted FROM messages WHERE room = $1 "
    "ORDER BY \"timestamp\"",
    "SELECT", "messages"};
constexpr Statement kUpdate{"t_update_text", "UPDATE messages SET text = $1 WHERE room = $2",
                            "UPDATE", "messages"};
constexpr Statement kDelete{"t_delete_room", "DELETE FROM messages WHERE room = $1", "DELETE",
                            "messages"};
constexpr Statement kCount{"t_count", "SELECT count(*) FROM messages WHERE room = $1", "SELECT",
                           "messages"};
constexpr Statement kSleep{"", "SELECT pg_sleep($1)", "SELECT", ""};

void ExpectSetD(const SpanData& s, const std::string& db, std::string_view op,
                std::string_view collection, std::string_view sql, int port) {
  EXPECT_EQ(s.kind, SpanKind::kClient);
  EXPECT_EQ(StringAttribute(s, sc::kDbSystemName), "postgresql");
  EXPECT_EQ(StringAttribute(s, sc::kDbSystem), "postgresql");
  EXPECT_EQ(StringAttribute(s, sc::kDbNamespace), db + ".public");
  EXPECT_EQ(StringAttribute(s, sc::kDbOperationName), std::string(op));
  if (collection.empty()) {
    EXPECT_FALSE(StringAttribute(s, sc::kDbCollectionName).has_value());
  } else {
    EXPECT_EQ(StringAttribute(s, sc::kDbCollectionName), std::string(collection));
  }
  EXPECT_EQ(StringAttribute(s, sc::kDbQueryText), std::string(sql));
  EXPECT_EQ(StringAttribute(s, sc::kServerAddress), "127.0.0.1");
  EXPECT_EQ(IntAttribute(s, sc::kServerPort), port);
}

TEST_F(PgTest, SelectSpanIsChildOfCallerAndCarriesSetD) {
  auto pool = MakePool();
  ASSERT_NE(pool, nullptr);
  auto parent = TestSpan();
  ASSERT_TRUE(
      pool->Execute(parent.Context(), kInsert, {"general", "alice", "hi", int64_t{1}}).ok());
  ASSERT_TRUE(pool->Execute(parent.Context(), kInsert, {"general", "bob", "yo", int64_t{2}}).ok());
  auto rows = pool->Execute(parent.Context(), kSelectRoom, {"general"});
  ASSERT_TRUE(rows.ok()) << rows.status().ToString();
  ASSERT_EQ(rows->RowCount(), 2);
  EXPECT_EQ(rows->Text(0, 0), "alice");
  EXPECT_EQ(rows->Text(1, 1), "yo");
  EXPECT_EQ(rows->Int64(1, 2), 2);
  EXPECT_FALSE(rows->OptText(0, 3).has_value());
  EXPECT_EQ(rows->OptBool(0, 4), false);
  EXPECT_EQ(rows->ColumnIndex("text"), 1);

  auto s = tel_.FindSpan("SELECT messages");
  ASSERT_TRUE(s.has_value());
  ExpectSetD(*s, db_, "SELECT", "messages", kSelectRoom.sql, cluster_->port());
  EXPECT_EQ(IntAttribute(*s, sc::kDbResponseReturnedRows), 2);
  EXPECT_FALSE(IntAttribute(*s, sc::kChatDbRowsAffected).has_value());
  EXPECT_EQ(s->status_code, StatusCode::kUnset);
  EXPECT_EQ(s->trace_id, parent.Context().trace_id);
  EXPECT_EQ(s->parent_span_id, parent.Context().span_id);
  // Parameter values never appear in any attribute.
  for (const auto& a : s->attributes) {
    if (const auto* v = std::get_if<std::string>(&a.value)) {
      EXPECT_EQ(v->find("general"), std::string::npos) << a.key;
    }
  }
}

TEST_F(PgTest, InsertUpdateDeleteRecordRowsAffected) {
  auto pool = MakePool();
  ASSERT_NE(pool, nullptr);
  auto parent = TestSpan();
  for (int64_t ts = 1; ts <= 3; ++ts) {
    ASSERT_TRUE(pool->Execute(parent.Context(), kInsert, {"r1", "alice", "x", ts}).ok());
  }
  auto upd = pool->Execute(parent.Context(), kUpdate, {"edited", "r1"});
  ASSERT_TRUE(upd.ok());
  EXPECT_EQ(upd->RowsAffected(), 3);
  auto del = pool->Execute(parent.Context(), kDelete, {"r1"});
  ASSERT_TRUE(del.ok());
  EXPECT_EQ(del->RowsAffected(), 3);

  auto ins = tel_.FindSpans("INSERT messages");
  ASSERT_EQ(ins.size(), 3u);
  ExpectSetD(ins[0], db_, "INSERT", "messages", kInsert.sql, cluster_->port());
  EXPECT_EQ(IntAttribute(ins[0], sc::kChatDbRowsAffected), 1);
  EXPECT_FALSE(IntAttribute(ins[0], sc::kDbResponseReturnedRows).has_value());
  auto u = tel_.FindSpan("UPDATE messages");
  ASSERT_TRUE(u.has_value());
  ExpectSetD(*u, db_, "UPDATE", "messages", kUpdate.sql, cluster_->port());
  EXPECT_EQ(IntAttribute(*u, sc::kChatDbRowsAffected), 3);
  auto d = tel_.FindSpan("DELETE messages");
  ASSERT_TRUE(d.has_value());
  EXPECT_EQ(IntAttribute(*d, sc::kChatDbRowsAffected), 3);
}

TEST_F(PgTest, UniqueViolationIsAlreadyExistsWithSqlstateOnSpan) {
  auto pool = MakePool();
  ASSERT_NE(pool, nullptr);
  auto parent = TestSpan();
  ASSERT_TRUE(
      pool->Execute(parent.Context(), kInsert, {"dup-room", "alice", "a", int64_t{7}}).ok());
  tel_.Clear();
  auto again = pool->Execute(parent.Context(), kInsert, {"dup-room", "alice", "b", int64_t{7}});
  ASSERT_FALSE(again.ok());
  EXPECT_EQ(again.status().code(), core::ErrorCode::kAlreadyExists);
  EXPECT_NE(again.status().message().find("23505"), std::string::npos);
  EXPECT_EQ(again.status().message().find("dup-room"), std::string::npos);  // no values

  auto s = tel_.FindSpan("INSERT messages");
  ASSERT_TRUE(s.has_value());
  EXPECT_EQ(s->status_code, StatusCode::kError);
  EXPECT_EQ(StringAttribute(*s, sc::kErrorType), "23505");
  EXPECT_EQ(StringAttribute(*s, sc::kDbResponseStatusCode), "23505");
  EXPECT_NE(FindEvent(*s, sc::kExceptionEvent), nullptr);
  EXPECT_EQ(s->parent_span_id, parent.Context().span_id);

  // The lease stays usable after a server-side error.
  auto count = pool->Execute(parent.Context(), kCount, {"dup-room"});
  ASSERT_TRUE(count.ok());
  EXPECT_EQ(count->Int64(0, 0), 1);
}

TEST_F(PgTest, StatementTimeoutIsDeadlineExceeded) {
  auto pool = MakePool(1, 100ms);
  ASSERT_NE(pool, nullptr);
  auto parent = TestSpan();
  auto r = pool->Execute(parent.Context(), kSleep, {5.0});
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), core::ErrorCode::kDeadlineExceeded);
  auto s = tel_.FindSpan("SELECT");
  ASSERT_TRUE(s.has_value());
  EXPECT_EQ(s->status_code, StatusCode::kError);
  EXPECT_EQ(StringAttribute(*s, sc::kErrorType), "timeout");
  EXPECT_EQ(StringAttribute(*s, sc::kDbResponseStatusCode), "57014");
  const std::string text = tel_.metrics().Expose(telemetry::ExpositionFormat::kPrometheusText);
  EXPECT_NE(
      text.find("db_client_operation_duration_seconds_count{db_system_name=\"postgresql\","
                "db_operation_name=\"SELECT\",db_collection_name=\"\",error_type=\"timeout\"}"),
      std::string::npos)
      << text;
  // The connection survives a statement timeout.
  EXPECT_TRUE(pool->Execute(parent.Context(), kSleep, {0.0}).ok());
}

TEST_F(PgTest, TransactionCommitSpans) {
  auto pool = MakePool();
  ASSERT_NE(pool, nullptr);
  auto parent = TestSpan();
  {
    auto lease = pool->Acquire(2s);
    ASSERT_TRUE(lease.ok());
    auto tx = lease->Begin(parent.Context());
    ASSERT_TRUE(tx.ok()) << tx.status().ToString();
    ASSERT_TRUE(tx->Execute(kInsert, {"tx", "alice", "a", int64_t{1}}).ok());
    ASSERT_TRUE(tx->Commit().ok());
    EXPECT_FALSE(tx->open());
  }
  std::vector<std::string> names;
  for (const auto& s : tel_.Spans()) {
    if (s.name == "test") continue;
    names.push_back(s.name);
    EXPECT_EQ(s.parent_span_id, parent.Context().span_id) << s.name;
    EXPECT_EQ(s.kind, SpanKind::kClient);
  }
  EXPECT_EQ(names, (std::vector<std::string>{"BEGIN", "INSERT messages", "COMMIT"}));
  auto commit = tel_.FindSpan("COMMIT");
  ASSERT_TRUE(commit.has_value());
  ExpectSetD(*commit, db_, "COMMIT", "", "COMMIT", cluster_->port());
  auto count = pool->Execute(parent.Context(), kCount, {"tx"});
  ASSERT_TRUE(count.ok());
  EXPECT_EQ(count->Int64(0, 0), 1);
}

TEST_F(PgTest, TransactionRollsBackOnDestruction) {
  auto pool = MakePool();
  ASSERT_NE(pool, nullptr);
  auto parent = TestSpan();
  {
    auto lease = pool->Acquire(2s);
    ASSERT_TRUE(lease.ok());
    auto tx = lease->Begin(parent.Context());
    ASSERT_TRUE(tx.ok());
    ASSERT_TRUE(tx->Execute(kInsert, {"rb", "alice", "a", int64_t{1}}).ok());
  }
  auto rb = tel_.FindSpan("ROLLBACK");
  ASSERT_TRUE(rb.has_value());
  EXPECT_EQ(rb->parent_span_id, parent.Context().span_id);
  EXPECT_EQ(rb->status_code, StatusCode::kUnset);
  EXPECT_FALSE(tel_.FindSpan("COMMIT").has_value());
  auto count = pool->Execute(parent.Context(), kCount, {"rb"});
  ASSERT_TRUE(count.ok());
  EXPECT_EQ(count->Int64(0, 0), 0);
}

TEST_F(PgTest, FailedStatementMakesCommitRollBack) {
  auto pool = MakePool();
  ASSERT_NE(pool, nullptr);
  auto parent = TestSpan();
  ASSERT_TRUE(pool->Execute(parent.Context(), kInsert, {"f", "alice", "a", int64_t{1}}).ok());
  auto lease = pool->Acquire(2s);
  ASSERT_TRUE(lease.ok());
  auto tx = lease->Begin(parent.Context());
  ASSERT_TRUE(tx.ok());
  ASSERT_TRUE(tx->Execute(kInsert, {"f", "bob", "b", int64_t{2}}).ok());
  auto dup = tx->Execute(kInsert, {"f", "alice", "again", int64_t{1}});
  EXPECT_EQ(dup.status().code(), core::ErrorCode::kAlreadyExists);
  core::Status commit = tx->Commit();
  EXPECT_EQ(commit.code(), core::ErrorCode::kFailedPrecondition);
  EXPECT_TRUE(tel_.FindSpan("ROLLBACK").has_value());
  EXPECT_FALSE(tel_.FindSpan("COMMIT").has_value());
  auto count = lease->Execute(parent.Context(), kCount, {"f"});
  ASSERT_TRUE(count.ok());
  EXPECT_EQ(count->Int64(0, 0), 1);  // bob's row was rolled back
}

TEST_F(PgTest, BatchInsertWithDuplicatesInsertsOnlyNewRows) {
  const BatchInsert insert("t_batch_messages", "messages",
                           {{"room", "text"},
                            {"username", "text"},
                            {"text", "text"},
                            {"timestamp", "bigint"},
                            {"thread_id", "text"}},
                           "(room, \"timestamp\", username) DO NOTHING");
  auto pool = MakePool();
  ASSERT_NE(pool, nullptr);
  auto parent = TestSpan();
  auto lease = pool->Acquire(2s);
  ASSERT_TRUE(lease.ok());

  BatchRows first(insert);
  ASSERT_TRUE(
      first.AddRow({"b", "alice", "quote \" and \\ backslash", int64_t{1}, std::nullopt}).ok());
  ASSERT_TRUE(first.AddRow({"b", "bob", "", int64_t{2}, "b-1"}).ok());
  ASSERT_TRUE(first.AddRow({"b", "carol", "NULL", int64_t{3}, std::nullopt}).ok());
  auto n = lease->InsertBatch(parent.Context(), insert, first);
  ASSERT_TRUE(n.ok()) << n.status().ToString();
  EXPECT_EQ(*n, 3);

  BatchRows second(insert);
  ASSERT_TRUE(second.AddRow({"b", "alice", "redelivered", int64_t{1}, std::nullopt}).ok());  // dup
  ASSERT_TRUE(second.AddRow({"b", "dave", "new {x,y} ü", int64_t{4}, std::nullopt}).ok());
  ASSERT_TRUE(second.AddRow({"b", "dave", "same batch dup", int64_t{4}, std::nullopt}).ok());
  ASSERT_TRUE(second.AddRow({"b", "bob", "redelivered", int64_t{2}, "b-1"}).ok());  // dup
  n = lease->InsertBatch(parent.Context(), insert, second);
  ASSERT_TRUE(n.ok()) << n.status().ToString();
  EXPECT_EQ(*n, 1);
  EXPECT_EQ(second.AddRow({"too", "few"}).code(), core::ErrorCode::kInvalidArgument);
  EXPECT_EQ(*lease->InsertBatch(parent.Context(), insert, BatchRows(insert)), 0);

  auto rows = lease->Execute(parent.Context(), kSelectRoom, {"b"});
  ASSERT_TRUE(rows.ok());
  ASSERT_EQ(rows->RowCount(), 4);
  EXPECT_EQ(rows->Text(0, 1), "quote \" and \\ backslash");
  EXPECT_EQ(rows->Text(1, 1), "");
  EXPECT_EQ(rows->OptText(1, 3), "b-1");
  EXPECT_EQ(rows->Text(2, 1), "NULL");  // the string, not SQL NULL
  EXPECT_FALSE(rows->OptText(2, 3).has_value());
  EXPECT_EQ(rows->Text(3, 1), "new {x,y} ü");

  auto spans = tel_.FindSpans("INSERT messages");
  ASSERT_EQ(spans.size(), 2u);  // the empty batch made no round trip
  EXPECT_EQ(IntAttribute(spans[1], sc::kChatDbRowsAffected), 1);
  EXPECT_EQ(StringAttribute(spans[1], sc::kDbQueryText), std::string(insert.statement().sql));
}

TEST_F(PgTest, PoolExhaustionTimesOutWithResourceExhausted) {
  auto pool = MakePool(1);
  ASSERT_NE(pool, nullptr);
  auto held = pool->Acquire(2s);
  ASSERT_TRUE(held.ok());
  EXPECT_EQ(pool->used_count(), 1u);
  auto second = pool->Acquire(50ms);
  ASSERT_FALSE(second.ok());
  EXPECT_EQ(second.status().code(), core::ErrorCode::kResourceExhausted);
  EXPECT_NE(second.status().message().find("pool exhausted"), std::string::npos);
  const std::string text = tel_.metrics().Expose(telemetry::ExpositionFormat::kPrometheusText);
  EXPECT_NE(text.find("db_client_connection_count{state=\"used\"} 1"), std::string::npos) << text;

  // A waiter gets the connection as soon as it is returned.
  std::thread releaser([l = std::move(held).value()]() mutable { Lease done = std::move(l); });
  auto third = pool->Acquire(5s);
  releaser.join();
  EXPECT_TRUE(third.ok()) << third.status().ToString();
}

TEST_F(PgTest, ConnectionLossMapsToUnavailableAndPoolReconnects) {
  auto pool = MakePool(1);
  ASSERT_NE(pool, nullptr);
  auto parent = TestSpan();
  ASSERT_TRUE(pool->Execute(parent.Context(), kCount, {"x"}).ok());
  ASSERT_TRUE(cluster_->Stop().ok());
  tel_.Clear();
  auto lost = pool->Execute(parent.Context(), kCount, {"x"});
  ASSERT_FALSE(lost.ok());
  EXPECT_EQ(lost.status().code(), core::ErrorCode::kUnavailable);
  auto s = tel_.FindSpan("SELECT messages");
  ASSERT_TRUE(s.has_value());
  EXPECT_EQ(s->status_code, StatusCode::kError);
  EXPECT_EQ(StringAttribute(*s, sc::kErrorType), "connection_error");
  // While the server is down, new attempts fail fast with unavailable.
  EXPECT_EQ(pool->Execute(parent.Context(), kCount, {"x"}).status().code(),
            core::ErrorCode::kUnavailable);

  ASSERT_TRUE(cluster_->Start().ok());
  EXPECT_TRUE(
      testing::WaitFor([&] { return pool->Execute(parent.Context(), kCount, {"x"}).ok(); }, 20s));
  const std::string text = tel_.metrics().Expose(telemetry::ExpositionFormat::kPrometheusText);
  EXPECT_NE(text.find("db_operation_name=\"SELECT\",db_collection_name=\"messages\","
                      "error_type=\"connection_error\"}"),
            std::string::npos)
      << text;
}

TEST_F(PgTest, DurationHistogramHasContractLabelsAndGaugeCountsIdle) {
  auto pool = MakePool(2);
  ASSERT_NE(pool, nullptr);
  auto parent = TestSpan();
  ASSERT_TRUE(pool->Execute(parent.Context(), kInsert, {"m", "alice", "a", int64_t{1}}).ok());
  ASSERT_FALSE(pool->Execute(parent.Context(), kInsert, {"m", "alice", "a", int64_t{1}}).ok());
  const std::string text = tel_.metrics().Expose(telemetry::ExpositionFormat::kPrometheusText);
  EXPECT_NE(
      text.find("db_client_operation_duration_seconds_count{db_system_name=\"postgresql\","
                "db_operation_name=\"INSERT\",db_collection_name=\"messages\",error_type=\"\"}"
                " 1"),
      std::string::npos)
      << text;
  EXPECT_NE(text.find("db_client_operation_duration_seconds_count{db_system_name=\"postgresql\","
                      "db_operation_name=\"INSERT\",db_collection_name=\"messages\",error_type="
                      "\"23\"} 1"),
            std::string::npos)
      << text;
  EXPECT_NE(text.find("le=\"0.0025\""), std::string::npos);  // B_NATS buckets
  EXPECT_NE(text.find("db_client_connection_count{state=\"idle\"} 1"), std::string::npos) << text;
  EXPECT_NE(text.find("db_client_connection_count{state=\"used\"} 0"), std::string::npos) << text;
  const std::string om = tel_.metrics().Expose(telemetry::ExpositionFormat::kOpenMetrics);
  EXPECT_NE(om.find(parent.Context().trace_id.Hex()), std::string::npos);  // exemplar
}

TEST_F(PgTest, UnixSocketDsnReportsSocketDirAsServerAddress) {
  PoolOptions o;
  o.dsn = cluster_->SocketDsn(db_);
  auto pool = Pool::Create(std::move(o), tel_.telemetry());
  ASSERT_TRUE(pool.ok());
  auto parent = TestSpan();
  ASSERT_TRUE((*pool)->Execute(parent.Context(), kCount, {"x"}).ok());
  auto s = tel_.FindSpan("SELECT messages");
  ASSERT_TRUE(s.has_value());
  EXPECT_EQ(StringAttribute(*s, sc::kServerAddress), cluster_->socket_dir());
  EXPECT_EQ(IntAttribute(*s, sc::kServerPort), cluster_->port());
}

TEST_F(PgTest, EagerPoolOpensAllConnectionsAndInvalidDsnIsRejected) {
  PoolOptions o;
  o.dsn = cluster_->Dsn(db_);
  o.size = 3;
  o.connect_eagerly = true;
  auto pool = Pool::Create(std::move(o), tel_.telemetry());
  ASSERT_TRUE(pool.ok()) << pool.status().ToString();
  EXPECT_EQ((*pool)->idle_count(), 3u);

  PoolOptions bad;
  bad.dsn = "host=localhost port";
  EXPECT_EQ(Pool::Create(std::move(bad), tel_.telemetry()).status().code(),
            core::ErrorCode::kInvalidArgument);

  PoolOptions down;
  down.dsn = "host=127.0.0.1 port=1 dbname=x user=postgres";
  down.connect_eagerly = true;
  EXPECT_EQ(Pool::Create(std::move(down), tel_.telemetry()).status().code(),
            core::ErrorCode::kUnavailable);
}

}  // namespace
}  // namespace chat::pg
